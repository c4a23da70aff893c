"""A misspelt key of template.toml is reported with the key it was meant to be, like pinrec.toml's (the class is
generated as in tests/transformer/test_config_problems.py: one edit of any key of any table)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_tools.templates.errors import TemplateError
from campaign_tools.templates.manifest import (
    MANIFEST_FILE,
    AttributeUse,
    Links,
    Manifest,
    builtin_templates_dir,
    parse_manifest,
)
from tests.transformer.test_config_problems import closest, misspellings


def manifest_tables() -> list[tuple[str, list[str], Callable[[dict[str, Any], str], None]]]:
    def into(*path: str) -> Callable[[dict[str, Any], str], None]:
        def add(manifest: dict[str, Any], key: str) -> None:
            table = manifest
            for part in path:
                table = table.setdefault(part, {})
            table[key] = 1

        return add

    top = [name for name in Manifest.model_fields if name != "channel_settings"] + ["sms", "push"]
    return [
        ("", top, into()),
        ("links.", list(Links.model_fields), into("links")),
        ("attributes.Title.", list(AttributeUse.model_fields), into("attributes", "Title")),
    ]


MANIFEST_TABLES = manifest_tables()


@settings(max_examples=100, deadline=None)
@given(data=st.data(), table=st.sampled_from(range(len(MANIFEST_TABLES))))
def test_a_misspelt_template_toml_key_names_the_closest_known_key(data: st.DataObject, table: int) -> None:
    where, known, add = MANIFEST_TABLES[table]
    key = data.draw(st.sampled_from(known))
    typo = data.draw(misspellings(key).filter(lambda word: word and word not in known))
    text = (builtin_templates_dir() / "recommended-for-you" / MANIFEST_FILE).read_text(encoding="utf-8")
    manifest = tomllib.loads(text)
    add(manifest, typo)
    with pytest.raises(TemplateError) as raised:
        parse_manifest(manifest, MANIFEST_FILE)
    line = next(line for line in str(raised.value).splitlines() if line.startswith(f"  {where}{typo}: "))
    expected = closest(typo, known)
    if expected is not None:
        assert line == f"  {where}{typo}: unknown key (did you mean {expected!r}?)"
    else:
        assert line.startswith(f"  {where}{typo}: unknown key")


def test_a_misspelt_key_of_a_channel_table_names_the_closest_known_key() -> None:
    manifest = tomllib.loads((builtin_templates_dir() / "offer" / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["sms"]["max_segmnts"] = 3
    manifest["push"]["acton"] = "URL"
    with pytest.raises(TemplateError) as raised:
        parse_manifest(manifest, MANIFEST_FILE)
    assert "  sms.max_segmnts: unknown key (did you mean 'max_segments'?)" in str(raised.value)
    assert "  push.acton: unknown key (did you mean 'action'?)" in str(raised.value)
