"""Issue 11, batch inference output: Amazon Personalize ends every line with `"error": null`; only a line whose
error is set is an error line. Every documented output format (USER_PERSONALIZATION, POPULAR_ITEMS,
PERSONALIZED_RANKING, RELATED_ITEMS) feeds `pinrec send --recommendations file:`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.cli import main
from campaign_tools.send.recommendations.base import IdType
from campaign_tools.send.recommendations.file import FileRecommendations
from tests.campaign_tools.send.test_plugin import PLUGIN
from tests.fakes import ITEMS

ITEM_IDS = [item["id"] for item in ITEMS]


def user_personalization(key: str, items: list[str]) -> dict[str, Any]:
    scores = [round(0.5 / (rank + 1), 7) for rank in range(len(items))]
    return {"input": {"userId": key}, "output": {"recommendedItems": items, "scores": scores}, "error": None}


def popular_items(key: str, items: list[str]) -> dict[str, Any]:
    return {
        "input": {"userId": key},
        "output": {"recommendedItems": items, "scores": [0.1] * len(items)},
        "error": None,
    }


def personalized_ranking(key: str, items: list[str]) -> dict[str, Any]:
    ranked = list(reversed(items))
    return {
        "input": {"userId": key, "itemList": items},
        "output": {"recommendedItems": ranked, "scores": [0.4] * len(items)},
        "error": None,
    }


def related_items(key: str, items: list[str]) -> dict[str, Any]:
    return {
        "input": {"itemId": key},
        "output": {"recommendedItems": items, "scores": [0.2] * len(items)},
        "error": None,
    }


FORMATS: dict[str, tuple[Callable[[str, list[str]], dict[str, Any]], str]] = {
    "USER_PERSONALIZATION": (user_personalization, "user"),
    "POPULAR_ITEMS": (popular_items, "user"),
    "PERSONALIZED_RANKING": (personalized_ranking, "user"),
    "RELATED_ITEMS": (related_items, "endpoint"),
}
"""Each recipe type's output line, as the Personalize guide's examples show it, and the --id-type it is sent with
(a similar-items line is keyed by its item id: here the endpoints' ids are those item ids)."""


@pytest.mark.parametrize("recipe", sorted(FORMATS))
def test_every_documented_batch_output_format_sends(
    recipe: str, tmp_path: Path, make_catalog: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    line, id_type = FORMATS[recipe]
    catalog = make_catalog(ITEMS)
    (tmp_path / "pinrec.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
    )
    keys = [f"k-{n}" for n in range(5)]
    records = [
        {"Id": key, "ChannelType": "EMAIL", "Address": f"user{n}@example.com", "User": {"UserId": key}}
        for n, key in enumerate(keys)
    ]
    (tmp_path / "segment.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    lines = [line(key, ITEM_IDS[n : n + 3]) for n, key in enumerate(keys)]
    lines.append({"input": line("k-failed", [])["input"], "error": "User error: Required fields missing"})
    (tmp_path / "batch.json.out").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    arguments = ["send", "--composer", PLUGIN, "--config", str(tmp_path / "pinrec.toml"), "--campaign-id", recipe]
    arguments += [
        "--segment",
        str(tmp_path / "segment.jsonl"),
        "--recommendations",
        f"file:{tmp_path / 'batch.json.out'}",
    ]
    arguments += ["--id-type", id_type, "--outbox", str(tmp_path / "out"), "--ledger", f"sqlite:{tmp_path / 'l.db'}"]
    assert main(arguments) == 0
    out = capsys.readouterr().out
    assert f"sent {len(keys)}, skipped 0, failed 0" in out
    assert f"recommendations file: {len(keys)} ids, 1 batch inference error lines" in out


outcomes = st.sampled_from(["null", "absent", "set"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(sorted(FORMATS)),
            st.text(min_size=1, max_size=10).filter(str.strip),
            st.lists(st.sampled_from(ITEM_IDS), min_size=1, max_size=5),
            outcomes,
        ),
        min_size=1,
        max_size=30,
    )
)
def test_only_a_set_error_makes_an_error_line(lines: list[tuple[str, str, list[str], str]], tmp_path: Path) -> None:
    records = []
    for recipe, key, items, outcome in lines:
        record = FORMATS[recipe][0](key, items)
        if outcome == "absent":
            del record["error"]
        elif outcome == "set":
            record = {"input": record["input"], "error": "Internal error"}
        records.append(record)
    path = tmp_path / "batch.json.out"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    if all(outcome == "set" for *_, outcome in lines):
        return  # a file without one usable line stops the run: test_malformed_lines covers it
    source = FileRecommendations(str(path), IdType.USER, per_message=5)
    assert source.stats.error_lines == sum(outcome == "set" for *_, outcome in lines)
    assert source.stats.malformed == 0
    assert source.stats.ids == len({key for _, key, _, outcome in lines if outcome != "set"})
