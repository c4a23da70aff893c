"""A configuration with problems lists every one of them at once, a misspelt key with the key it was meant to be.

Two classes, each generated:
- any set of independent problems across the file (store table, cache, recommendations, attributes and their
  templates, offers, unknown keys, and the rules between sections) is reported in one error, one line each;
- any misspelling (a character dropped, doubled, swapped or changed) of a key of any table is reported as
  `KEY: unknown key (did you mean 'CLOSEST'?)`, CLOSEST being the known key of that table nearest the misspelling
  (template.toml: tests/campaign_tools/templates/test_manifest_problems.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transformer.config import (
    AttributeConfig,
    CacheConfig,
    OffersConfig,
    PinrecConfig,
    RecommendationsConfig,
    parse_config,
)
from transformer.errors import ConfigError
from transformer.stores.dynamodb import DynamoDbStoreConfig
from transformer.stores.sqlite import SqliteStoreConfig


def valid() -> dict[str, Any]:
    return {
        "store": {"kind": "sqlite", "path": "catalog.db"},
        "cache": {"ttl_seconds": 60},
        "recommendations": {"min_items": 1},
        "attributes": {"Title": {"field": "name", "default": "-"}, "Url": {"template": "{{ item.id }}"}},
    }


Problem = Callable[[dict[str, Any]], None]
"""Breaks one thing in a valid configuration."""

PROBLEMS: dict[str, tuple[Problem, str]] = {
    "store key misspelt": (lambda c: c["store"].update(pth=c["store"].pop("path")), "store.pth: unknown key"),
    "store value": (lambda c: c["store"].update(refresh_seconds=0), "store.refresh_seconds: Input should be greater"),
    "cache key misspelt": (lambda c: c["cache"].update(ttl_secnds=1), "cache.ttl_secnds: unknown key"),
    "cache value": (lambda c: c["cache"].update(max_items=-1), "cache.max_items: Input should be greater"),
    "recommendations value": (
        lambda c: c["recommendations"].update(missing="blank"),
        "recommendations.missing: Input should be 'drop' or 'fill'",
    ),
    "fill without defaults": (
        lambda c: c["recommendations"].update(missing="fill"),
        "(top level): recommendations.missing = 'fill' needs a 'default' on every attribute; missing on: Url",
    ),
    "attribute key misspelt": (lambda c: c["attributes"]["Title"].update(defualt="x"), "attributes.Title.defualt"),
    "attribute with two sources": (
        lambda c: c["attributes"].update(Both={"field": "a", "template": "b"}),
        "attributes.Both: set exactly one of 'field' or 'template'",
    ),
    "template syntax": (
        lambda c: c["attributes"].update(Broken={"template": "{{ item.id "}),
        "attributes.Broken.template: line 1: unexpected end of template",
    ),
    "another template syntax": (
        lambda c: c["attributes"].update(Broken2={"template": "{% if %}"}),
        "attributes.Broken2.template: line 1:",
    ),
    "offers value": (
        lambda c: c.update(offers={"catalog": "offers.jsonl", "scoring": "rnak"}),
        "offers.scoring: Input should be 'rank' or 'personalize'",
    ),
    "unknown section": (lambda c: c.update(recomendations={}), "recomendations: unknown key (did you mean"),
}
EXCLUSIVE = ({"recommendations value", "fill without defaults"},)
"""Problems in the same value: only one of them can be made at a time."""

problem_sets = st.sets(st.sampled_from(sorted(PROBLEMS)), min_size=1).filter(
    lambda chosen: not any(group <= chosen for group in EXCLUSIVE)
)


@settings(max_examples=150, deadline=None)
@given(chosen=problem_sets)
def test_every_problem_of_the_file_is_reported_at_once(chosen: set[str]) -> None:
    config = valid()
    for name in chosen:
        PROBLEMS[name][0](config)
    with pytest.raises(ConfigError) as raised:
        parse_config(config, base_dir=Path("/srv"), source="configuration pinrec.toml")
    message = str(raised.value)
    assert message.startswith("invalid configuration pinrec.toml:\n  ")
    for name in chosen:
        assert PROBLEMS[name][1] in message, f"{name} not reported:\n{message}"


# Misspelt keys.


def misspellings(key: str) -> st.SearchStrategy[str]:
    """One edit of `key`: a character dropped, doubled, swapped with the next, or replaced by a letter."""
    positions = st.integers(0, len(key) - 1)
    return st.one_of(
        positions.map(lambda i: key[:i] + key[i + 1 :]),
        positions.map(lambda i: key[:i] + key[i] + key[i:]),
        st.integers(0, max(len(key) - 2, 0)).map(
            lambda i: key[:i] + key[i + 1 : i + 2] + key[i : i + 1] + key[i + 2 :]
        ),
        st.tuples(positions, st.sampled_from("abcdefghijklmnopqrstuvwxyz")).map(
            lambda edit: key[: edit[0]] + edit[1] + key[edit[0] + 1 :]
        ),
    )


def closest(typo: str, known: list[str]) -> str | None:
    """The one known key nearest `typo` (None when two are as near, or none is near enough to suggest)."""
    ratios = sorted(((difflib.SequenceMatcher(None, typo, key).ratio(), key) for key in known), reverse=True)
    best = ratios[0]
    if best[0] < 0.6 or (len(ratios) > 1 and ratios[1][0] == best[0]):
        return None
    return best[1]


def config_tables() -> list[tuple[str, list[str], Callable[[dict[str, Any], str], None]]]:
    """Each table of pinrec.toml: where its keys are reported, its keys, and how to add a key to it."""

    def into(*path: str) -> Callable[[dict[str, Any], str], None]:
        def add(config: dict[str, Any], key: str) -> None:
            table = config
            for part in path:
                table = table.setdefault(part, {})
            table[key] = 1

        return add

    return [
        ("", list(PinrecConfig.model_fields), into()),
        ("store.", list(SqliteStoreConfig.model_fields), into("store")),
        ("cache.", list(CacheConfig.model_fields), into("cache")),
        ("recommendations.", list(RecommendationsConfig.model_fields), into("recommendations")),
        ("attributes.Title.", list(AttributeConfig.model_fields), into("attributes", "Title")),
        ("offers.", list(OffersConfig.model_fields), into("offers")),
    ]


TABLES = config_tables()


@settings(max_examples=200, deadline=None)
@given(data=st.data(), table=st.sampled_from(range(len(TABLES))))
def test_a_misspelt_config_key_names_the_closest_known_key(data: st.DataObject, table: int) -> None:
    where, known, add = TABLES[table]
    key = data.draw(st.sampled_from(known))
    typo = data.draw(misspellings(key).filter(lambda word: word and word not in known))
    config = valid()
    if where == "offers.":
        config["offers"] = {"catalog": "offers.jsonl"}
    add(config, typo)
    with pytest.raises(ConfigError) as raised:
        parse_config(config, base_dir=Path("/srv"))
    line = next(line for line in str(raised.value).splitlines() if line.startswith(f"  {where}{typo}: "))
    expected = closest(typo, known)
    if expected is not None:
        assert line == f"  {where}{typo}: unknown key (did you mean {expected!r}?)"
    else:
        assert line.startswith(f"  {where}{typo}: unknown key")


def test_the_issue_example_and_a_dynamodb_store() -> None:
    config = valid()
    config["attributes"]["Title"]["templte"] = "{{ item.name }}"
    config["store"] = {"kind": "dynamodb", "tabel": "pinrec-catalog"}
    with pytest.raises(ConfigError) as raised:
        parse_config(config, base_dir=Path("/srv"))
    assert "  attributes.Title.templte: unknown key (did you mean 'template'?)" in str(raised.value)
    assert "  store.tabel: unknown key (did you mean 'table'?)" in str(raised.value)
    assert "table" in DynamoDbStoreConfig.model_fields
