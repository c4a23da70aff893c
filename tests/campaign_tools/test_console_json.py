"""The one JSON printer every command uses: any JSON value -- any string, lone surrogates included -- prints on any
stream without an error, as JSON that reads back as the value."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from campaign_tools.console import json_text, print_json

SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
TEXTS = st.lists(st.one_of(st.characters(), SURROGATES), max_size=20).map("".join)
"""Any string: hypothesis leaves surrogates out of its text strategies (even given an alphabet that has them), so
the characters are drawn one by one."""
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXTS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(TEXTS, children, max_size=5),
    max_leaves=25,
)


def read_back(value: Any) -> Any:
    """The value as JSON gives it back (an escaped surrogate pair reads as the character it encodes)."""
    return json.loads(json.dumps(value))


def printed(value: Any, encoding: str, **options: Any) -> str:
    stream = io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="strict")
    print_json(value, file=stream, **options)
    stream.flush()
    data: bytes = stream.buffer.getvalue()  # type: ignore[attr-defined]
    return data.decode(encoding)


@settings(max_examples=300)
@given(value=JSON_VALUES)
@pytest.mark.parametrize("encoding", ["utf-8", "ascii", "latin-1", "cp1252"])
def test_any_json_value_prints_on_any_stream_and_reads_back(value: Any, encoding: str) -> None:
    assert json.loads(printed(value, encoding)) == read_back(value)
    assert json.loads(printed(value, encoding, indent=None)) == read_back(value)


@settings(max_examples=300)
@given(value=JSON_VALUES)
def test_json_text_is_utf_8_writable_and_keeps_other_characters_as_themselves(value: Any) -> None:
    for options in ({}, {"compact": True}):
        text = json_text(value, **options)
        text.encode("utf-8")
        assert json.loads(text) == read_back(value)


def test_the_strings_generated_hold_lone_surrogates() -> None:
    found = find(TEXTS, lambda text: any("\ud800" <= character <= "\udfff" for character in text))
    assert len(found) == 1


def test_a_lone_surrogate_is_escaped_and_other_characters_stay() -> None:
    assert json_text({"id\ud800": ["é😀", "\udcff"]}, indent=None) == '{"id\\ud800": ["é😀", "\\udcff"]}'
    assert json_text({"a": [1, "b"]}, compact=True) == '{"a":[1,"b"]}'
