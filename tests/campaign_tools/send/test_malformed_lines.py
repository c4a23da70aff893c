"""Issue 11, malformed lines: whatever one segment or recommendations line holds, `pinrec send` skips it, counts it
with its line number and sends every other endpoint; a re-run goes on past it.

The bad lines are generated from the whole class: nested arbitrarily deep (past Python's recursion limit), a lone
surrogate escape anywhere (key, id, address, attribute, item id), numbers Python will not convert, NaN and
Infinity, bytes that are not UTF-8, a line longer than the reader keeps, and any other text.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.cli import main
from campaign_tools.send.json_lines import MAX_LINE_CHARACTERS
from campaign_tools.send.recommendations.base import usable_items
from campaign_tools.send.segments import MALFORMED_EXAMPLES
from tests.campaign_tools.send.test_plugin import PLUGIN
from tests.fakes import ITEMS
from transformer.items import is_item_id
from transformer.stores.sqlite import SqliteItemStore

GOOD = 30
SETTINGS = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

surrogates = st.integers(0xD800, 0xDFFF).map(lambda code: f"\\u{code:04x}")
"""A JSON escape json.loads turns into a lone surrogate."""
SURROGATE_PLACES = (
    '{{"Id": "s{0}", "ChannelType": "EMAIL", "Address": "a@example.com"}}',
    '{{"Id": "s", "ChannelType": "EMAIL", "Address": "a{0}@example.com"}}',
    '{{"Id": "s", "ChannelType": "EMAIL", "Address": "a@example.com", "Attributes": {{"A": ["{0}"]}}}}',
    '{{"Id": "s", "ChannelType": "EMAIL", "Address": "a@example.com", "Location": {{"City": "{0}"}}}}',
    '{{"Id": "s", "ChannelType": "EMAIL", "Address": "a@example.com", "User": {{"UserId": "u", "x{0}": 1}}}}',
    '{{"Id": "s", "ChannelType": "EMAIL", "Address": "a@example.com", "RecommendationItems": ["P1", "{0}"]}}',
    '{{"id": "ep-1", "items": ["P1", "P{0}"]}}',
    '{{"input": {{"userId": "u{0}"}}, "output": {{"recommendedItems": ["P1"]}}, "error": null}}',
)


def _deep(depth: int) -> bytes:
    return ('{"Id": "deep", "Attributes": {"A": ' + "[" * depth + "]" * depth + "}}").encode()


def _is_endpoint_or_recommendation(text: str) -> bool:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and bool({"Id", "id", "input"} & set(value))


bad_lines = st.one_of(
    st.integers(33, 200_000).map(_deep),
    st.tuples(st.sampled_from(SURROGATE_PLACES), surrogates).map(lambda pair: pair[0].format(pair[1]).encode()),
    st.integers(4_301, 20_000).map(lambda digits: ('{"Id": "n", "Metrics": {"m": ' + "9" * digits + "}}").encode()),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999"])
    .map(
        lambda value: f'{{"Id": "c", "ChannelType": "EMAIL", "Address": "a@example.com", "Metrics": {{"m": {value}}}}}'
    )
    .map(str.encode),
    st.binary(min_size=1, max_size=40)
    .filter(lambda data: b"\n" not in data and b"\r" not in data)
    .map(lambda data: b'{"Id": "' + data + b'\xff"}'),
    st.integers(1, 3).map(lambda extra: b'{"Id": "' + b"x" * (MAX_LINE_CHARACTERS + extra) + b'"}'),
    st.text(min_size=1)
    .filter(lambda text: "\n" not in text and "\r" not in text and text.strip() != "")
    .filter(lambda text: not _is_endpoint_or_recommendation(text))
    .map(lambda text: text.encode("utf-8", "surrogatepass")),
)


def endpoint_line(n: int) -> bytes:
    record = {
        "Id": f"ep-{n}",
        "ChannelType": "EMAIL",
        "Address": f"user{n}@example.com",
        "User": {"UserId": f"u-{n}", "UserAttributes": {"FirstName": [f"Name{n}"]}},
    }
    return json.dumps(record).encode()


def recommendation_line(n: int) -> bytes:
    return json.dumps({"id": f"ep-{n}", "items": [f"P{n % 9 + 1}", "P9"]}).encode()


def with_bad_lines(good: list[bytes], bad: list[tuple[int, bytes]]) -> tuple[bytes, list[int]]:
    """The good lines with each bad one inserted at its position; the bad lines' 1-based numbers."""
    lines = list(good)
    for position, line in bad:
        lines.insert(min(position, len(lines)), line)
    numbers = [number for number, line in enumerate(lines, start=1) if line not in good]
    return b"\n".join(lines) + b"\n", numbers


@pytest.fixture
def campaign(tmp_path: Path, make_catalog: Callable[..., Path]) -> Callable[[bytes, bytes], Path]:
    """A fresh campaign folder per example: config over one catalog, the given segment and recommendations."""
    catalog = make_catalog(ITEMS)

    def make(segment: bytes, recommendations: bytes) -> Path:
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        (folder / "pinrec.toml").write_text(
            f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
        )
        (folder / "segment.jsonl").write_bytes(segment)
        (folder / "recs.jsonl").write_bytes(recommendations)
        return folder

    return make


def send(folder: Path, *extra: str) -> list[str]:
    return [
        "send",
        "--composer",
        PLUGIN,
        "--segment",
        str(folder / "segment.jsonl"),
        "--recommendations",
        f"file:{folder / 'recs.jsonl'}",
        "--config",
        str(folder / "pinrec.toml"),
        "--campaign-id",
        "spring",
        "--outbox",
        str(folder / "outbox"),
        "--ledger",
        f"sqlite:{folder / 'ledger.db'}",
        *extra,
    ]


def run_json(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main([*arguments, "--output", "json"])
    return code, json.loads(capsys.readouterr().out)


positions = st.lists(st.tuples(st.integers(0, GOOD), bad_lines), min_size=1, max_size=5)


@SETTINGS
@given(bad=positions)
def test_any_bad_segment_line_is_counted_by_number_and_every_other_endpoint_is_sent(
    bad: list[tuple[int, bytes]], campaign: Callable[[bytes, bytes], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    segment, numbers = with_bad_lines([endpoint_line(n) for n in range(GOOD)], bad)
    folder = campaign(segment, b"\n".join(recommendation_line(n) for n in range(GOOD)) + b"\n")
    code, summary = run_json(send(folder), capsys)
    assert code == 0
    assert (summary["sent"], summary["malformed"]) == (GOOD, len(numbers))
    assert [example["line"] for example in summary["malformed_examples"]] == numbers[:MALFORMED_EXAMPLES]
    assert len(list((folder / "outbox" / "spring").glob("*.eml"))) == GOOD

    code, rerun = run_json(send(folder), capsys)
    assert code == 0, "a re-run goes past the same lines"
    assert (rerun["sent"], rerun["skipped"], rerun["malformed"]) == (0, {"already_sent": GOOD}, len(numbers))


@SETTINGS
@given(bad=positions)
def test_any_bad_recommendations_line_is_counted_by_number_and_the_campaign_goes_on(
    bad: list[tuple[int, bytes]], campaign: Callable[[bytes, bytes], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    recommendations, numbers = with_bad_lines([recommendation_line(n) for n in range(GOOD)], bad)
    folder = campaign(b"\n".join(endpoint_line(n) for n in range(GOOD)) + b"\n", recommendations)
    assert main(send(folder)) == 0
    out = capsys.readouterr().out
    assert f"sent {GOOD}, skipped 0, failed 0 of {GOOD} rows" in out
    reported = re.search(r"malformed recommendation lines: (\d+) skipped \((.*)\)", out)
    assert reported is not None and int(reported.group(1)) == len(numbers)
    assert [int(number) for number in re.findall(r"line (\d+):", reported.group(2))] == numbers[:MALFORMED_EXAMPLES]


def test_a_segment_of_only_bad_lines_sends_nothing_and_says_why(
    campaign: Callable[[bytes, bytes], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = campaign(_deep(100_000) + b"\n" + b'{"Id": "\\udc80"}\n', recommendation_line(0) + b"\n")
    code, summary = run_json(send(folder), capsys)
    assert code == 0 and summary["sent"] == 0 and summary["malformed"] == 2
    assert [example["reason"] for example in summary["malformed_examples"]] == [
        "nested deeper than 32 levels",
        "a string is not Unicode text (a lone surrogate)",
    ]


def test_a_recommendations_file_without_one_usable_line_stops_before_sending(
    campaign: Callable[[bytes, bytes], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    batch_errors = b"".join(
        json.dumps({"input": {"userId": f"u-{n}"}, "error": "User not found"}).encode() + b"\n" for n in range(3)
    )
    folder = campaign(endpoint_line(0) + b"\n", batch_errors + _deep(5_000) + b"\n")
    assert main(send(folder)) == 1
    error = capsys.readouterr().err
    assert "has no usable recommendation line (4 lines: 3 batch inference error lines, 1 malformed)" in error
    assert not (folder / "outbox").exists()


@pytest.fixture
def store(make_catalog: Callable[..., Path]) -> SqliteItemStore:
    return SqliteItemStore(make_catalog(ITEMS, name="ids.db"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    item_id=st.one_of(
        st.text(),
        st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1),
        st.text(min_size=101, max_size=300),
        st.text().map(lambda text: text + "\x00"),
    )
)
def test_an_item_id_is_used_only_when_the_transformer_would_look_it_up(item_id: str, store: SqliteItemStore) -> None:
    used = usable_items([item_id], 5) == [item_id]
    assert used == is_item_id(item_id), "the send keeps exactly the ids the transformer's own rule accepts"
    if used:
        store.get_many([item_id])  # a kept id never fails a lookup
