"""`pinrec catalog load` never wipes a catalog by accident, never crashes on a line, and names every bad line.

Three classes, each generated:
- a snapshot removing more than MAX_SHRINK_SHARE of the catalog (a broken export, or one whose lines were mostly
  skipped as invalid) is refused with the counts, and nothing is removed, unless --allow-shrink (SQLite, SQLite in
  S3, DynamoDB); an empty catalog, --merge and an explicitly empty source never count as shrinking;
- no input line, whatever it holds (deep nesting, numbers of thousands of digits, half surrogate pairs, any text),
  makes the command fail other than with one `pinrec: error:` line, and whatever it accepts the transformer reads;
- every line error names the source (path, s3:// URL or stdin) and the line, and, when it fails the load, ends with
  how to skip such lines.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.cli import main
from tests.campaign_tools.catalog.test_sources import items_in, jsonl
from tests.store_fixtures import aws, client, create_bucket, create_table  # noqa: F401
from transformer.aws import AwsOptions
from transformer.stores.base import MAX_SHRINK_SHARE, SKIP_HINT
from transformer.stores.dynamodb import DynamoDbItemStore
from transformer.stores.sqlite import SqliteItemStore


def generated(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def load(source: str, store: str, *extra: str, endpoint: str | None = None) -> int:
    aws_options = ["--endpoint-url", endpoint] if endpoint else []
    return main(["catalog", "load", source, "--store", store, *aws_options, *extra])


def items(count: int, prefix: str = "p", version: int = 1) -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{n}", "v": version} for n in range(count)]


# 1. Shrinking.


@dataclass(frozen=True)
class Shrink:
    """A catalog of `current` items, then a snapshot keeping `kept` of them, adding `added` new ones and holding
    `skipped` invalid lines (never empty: an empty source is refused on its own rule)."""

    current: int
    kept: int
    added: int
    skipped: int
    allow: bool

    @property
    def refused(self) -> bool:
        removed = self.current - self.kept
        return not self.allow and self.current > 0 and removed / self.current > MAX_SHRINK_SHARE

    @property
    def options(self) -> tuple[str, ...]:
        return ("--skip-invalid",) + (("--allow-shrink",) if self.allow else ())

    @property
    def source(self) -> str:
        return jsonl(*items(self.kept, version=2), *items(self.added, "new")) + "not json\n" * self.skipped

    @property
    def after(self) -> set[str]:
        return {item["id"] for item in items(self.kept) + items(self.added, "new")}

    def message(self) -> str:
        return f"would remove {self.current - self.kept:,} of the catalog's {self.current:,} items"


def shrinks(smallest: int, largest: int, skipped: int) -> st.SearchStrategy[Shrink]:
    return st.builds(
        lambda current, share, added, skipped, allow: Shrink(
            current, round(current * share), added or int(round(current * share) == 0), skipped, allow
        ),
        st.integers(smallest, largest),
        st.floats(0, 1),
        st.integers(0, 20),
        st.integers(0, skipped),
        st.booleans(),
    )


@generated(100)
@given(scenario=shrinks(0, 60, 30))
def test_a_snapshot_removing_more_than_the_share_is_refused_on_sqlite(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str], scenario: Shrink
) -> None:
    """Kept items, new items and lines skipped as invalid in any mix: refused exactly when more than the share of
    the current items would go, and then the catalog file is untouched."""
    folder = tmp_path_factory.mktemp("shrink")
    catalog = folder / "c.db"
    if scenario.current:
        (folder / "old.jsonl").write_text(jsonl(*items(scenario.current)))
        assert load(str(folder / "old.jsonl"), f"sqlite:{catalog}") == 0
    (folder / "new.jsonl").write_text(scenario.source)
    before = catalog.read_bytes() if scenario.current else None
    capsys.readouterr()
    status = load(str(folder / "new.jsonl"), f"sqlite:{catalog}", *scenario.options)
    printed = capsys.readouterr()
    if scenario.refused:
        assert status == 1
        assert scenario.message() in printed.err and "--allow-shrink" in printed.err
        assert catalog.read_bytes() == before
    else:
        assert status == 0, printed.err
        assert set(items_in(catalog)) == scenario.after


def test_the_issue_case_150_surviving_lines_do_not_purge_1850_items(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "c.db"
    (tmp_path / "full.jsonl").write_text(jsonl(*items(2000)))
    assert load(str(tmp_path / "full.jsonl"), f"sqlite:{catalog}") == 0
    broken = tmp_path / "broken.jsonl"
    broken.write_text(jsonl(*items(150, version=2)) + '{"id": "cut off", "name": \n' * 1850)
    assert load(str(broken), f"sqlite:{catalog}", "--skip-invalid") == 1
    assert "would remove 1,850 of the catalog's 2,000 items (92%)" in capsys.readouterr().err
    assert len(items_in(catalog)) == 2000
    assert load(str(broken), f"sqlite:{catalog}", "--skip-invalid", "--allow-shrink") == 0
    assert len(items_in(catalog)) == 150


def test_merge_and_an_explicitly_empty_source_are_never_a_shrink(tmp_path: Path) -> None:
    catalog = tmp_path / "c.db"
    (tmp_path / "full.jsonl").write_text(jsonl(*items(20)))
    (tmp_path / "one.jsonl").write_text(jsonl(*items(1, "other")))
    (tmp_path / "empty.jsonl").write_text("")
    assert load(str(tmp_path / "full.jsonl"), f"sqlite:{catalog}") == 0
    assert load(str(tmp_path / "one.jsonl"), f"sqlite:{catalog}", "--merge") == 0
    assert len(items_in(catalog)) == 21
    assert load(str(tmp_path / "empty.jsonl"), f"sqlite:{catalog}", "--allow-empty") == 0
    assert items_in(catalog) == {}


@generated(6)
@given(scenario=shrinks(1, 40, 3))
def test_a_snapshot_removing_more_than_the_share_is_refused_on_dynamodb(
    aws: str,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    scenario: Shrink,
) -> None:
    """Refused before the purge: the items already written are valid new versions, and no old item is deleted."""
    folder = tmp_path_factory.mktemp("shrink-ddb")
    table = create_table(aws)
    (folder / "old.jsonl").write_text(jsonl(*items(scenario.current)))
    assert load(str(folder / "old.jsonl"), f"dynamodb:{table}", endpoint=aws) == 0
    (folder / "new.jsonl").write_text(scenario.source)
    capsys.readouterr()
    status = load(str(folder / "new.jsonl"), f"dynamodb:{table}", *scenario.options, endpoint=aws)
    printed = capsys.readouterr()
    pages = client("dynamodb", aws).get_paginator("scan").paginate(TableName=table)
    held = {item["id"]["S"] for page in pages for item in page["Items"]}
    if scenario.refused:
        assert status == 1
        assert scenario.message() in printed.err
        assert held == {item["id"] for item in items(scenario.current)} | scenario.after
    else:
        assert status == 0, printed.err
        assert held == scenario.after


def test_a_sqlite_catalog_in_s3_is_guarded_too(
    aws: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    url = f"s3://{create_bucket(aws)}/catalog.db"
    (tmp_path / "full.jsonl").write_text(jsonl(*items(10)))
    (tmp_path / "half.jsonl").write_text(jsonl(*items(5)))
    assert load(str(tmp_path / "full.jsonl"), f"sqlite:{url}") == 0
    assert load(str(tmp_path / "half.jsonl"), f"sqlite:{url}") == 1
    assert "would remove 5 of the catalog's 10 items (50%)" in capsys.readouterr().err
    assert main(["catalog", "stats", "--store", f"sqlite:{url}"]) == 0
    assert "items      10" in capsys.readouterr().out


# 2. No line produces a traceback, and whatever loads, the transformer reads.

many_digits = st.integers(1, 6000).map(lambda count: "9" * count)
deep = st.integers(1, 5000).flatmap(
    lambda depth: st.sampled_from(("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth))
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=12,
).map(json.dumps)
odd_values = st.sampled_from(
    (
        '"\\ud800"',
        '"x\\udfff"',
        '"\\u0000"',
        "1e999",
        "-1e999",
        "NaN",
        "Infinity",
        "-0",
        "1." + "0" * 5000 + "1",
        "-" + "9" * 5000,
        "0." + "1" * 5000,
        "123456789012345678901234567890123456789",
        '"' + "x" * 500_000 + '"',
    )
)
values = st.one_of(json_values, many_digits, deep, odd_values)
ids = st.one_of(
    st.text(max_size=20).map(json.dumps),
    st.integers().map(str),
    many_digits,
    st.sampled_from(('"\\ud800"', "null", "1.5", "true", "[]", "{}", '"' + "k" * 3000 + '"')),
)
jsonl_lines = st.one_of(
    st.builds(lambda item_id, name, value: f'{{"id": {item_id}, {json.dumps(name)}: {value}}}', ids, st.text(), values),
    st.builds(lambda item_id, value: f'{{"id": {item_id}, "v": {{"w": {value}}}}}', ids, values),
    values,
    st.text(),
)
csv_cells = st.one_of(st.text(), many_digits, st.sampled_from(("1e999", "-0", '"', '""', "a,b", "\x00")))
csv_lines = st.lists(csv_cells, min_size=1, max_size=4).map(",".join)


def assert_clean_outcome(status: int, printed: Any, source: Path) -> None:
    assert status in (0, 1)
    assert "Traceback" not in printed.err
    if status == 1:
        (message,) = printed.err.strip().splitlines()
        assert message.startswith("pinrec: error: ")
        if ": line " in message and "CSV header" not in message:
            assert message.startswith(f"pinrec: error: {source}: line ")
            assert message.endswith(SKIP_HINT)


def read_back(catalog: Path) -> None:
    """The transformer's own reader opens the catalog and reads every item it holds."""
    ids = list(items_in(catalog))
    store = SqliteItemStore(catalog)
    try:
        assert set(store.get_many(ids)) == set(ids)
    finally:
        store.close()


@generated(150)
@given(line=jsonl_lines)
def test_no_jsonl_line_crashes_the_load(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str], line: str
) -> None:
    folder = tmp_path_factory.mktemp("line")
    source = folder / "items.jsonl"
    source.write_text(line + "\n", encoding="utf-8", errors="surrogatepass")
    capsys.readouterr()
    status = load(str(source), f"sqlite:{folder / 'c.db'}")
    assert_clean_outcome(status, capsys.readouterr(), source)
    if status == 0:
        read_back(folder / "c.db")


@generated(120)
@given(row=csv_lines)
def test_no_csv_row_crashes_the_load(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str], row: str
) -> None:
    folder = tmp_path_factory.mktemp("row")
    source = folder / "items.csv"
    source.write_text("id,a,b\n" + row + "\n", encoding="utf-8", errors="surrogatepass")
    capsys.readouterr()
    status = load(str(source), f"sqlite:{folder / 'c.db'}")
    assert_clean_outcome(status, capsys.readouterr(), source)
    if status == 0:
        read_back(folder / "c.db")


@generated(10)
@given(line=jsonl_lines)
def test_no_jsonl_line_crashes_a_dynamodb_load(
    aws: str,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    line: str,
) -> None:
    folder = tmp_path_factory.mktemp("ddb-line")
    source = folder / "items.jsonl"
    source.write_text(jsonl({"id": "anchor"}) + line + "\n", encoding="utf-8", errors="surrogatepass")
    table = create_table(aws)
    capsys.readouterr()
    status = load(str(source), f"dynamodb:{table}", endpoint=aws)
    assert_clean_outcome(status, capsys.readouterr(), source)
    if status == 0:
        store = DynamoDbItemStore(table, aws=AwsOptions(endpoint_url=aws))
        try:
            assert "anchor" in store.get_many(["anchor"])
        finally:
            store.close()


@pytest.mark.parametrize(
    "line",
    [
        '{"id": "a", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"id": "a", "x": ' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}",
        '{"id": "a", "x": ' + "9" * 5000 + "}",
        '{"id": ' + "9" * 5000 + "}",
        '{"id": 7, "x": ' + "9" * 40 + "}",
        '{"id": "\\ud800"}',
    ],
    ids=["deep-lists", "deep-objects", "5000-digits", "5000-digit-id", "big-int-with-int-id", "half-surrogate-id"],
)
def test_the_issue_lines_fail_or_load_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str) -> None:
    source = tmp_path / "items.jsonl"
    source.write_text(line + "\n")
    status = load(str(source), f"sqlite:{tmp_path / 'c.db'}")
    assert_clean_outcome(status, capsys.readouterr(), source)
    if status == 0:
        read_back(tmp_path / "c.db")


# 3. Every line error names the source and the line, and says how to skip such lines.

BAD_JSONL = (
    ("not json", "not valid JSON"),
    ('["id"]', "expected a JSON object, got list"),
    ('{"sku": "x"}', "the key field 'id' is missing"),
    ('{"id": 1.5}', "the key field 'id' must be a non-empty string or an integer"),
    ('{"id": "x", "n": ' + "9" * 5000 + "}", "a number has more than 4,300 digits"),
    ('{"id": "x", "n": ' + "[" * 500 + "]" * 500 + "}", "nested more than 100 levels deep"),
    ('{"id": "x", "n": ' + "[" * 5000 + "]" * 5000 + "}", "nested more than 100 levels deep"),
    ('{"id": "\\ud800"}', "half a UTF-16 surrogate pair"),
    ('{"id": "x", "n": 1e999}', "is out of range for a number"),
    ('{"id": "x", "n": NaN}', "NaN is not a number a catalog can hold"),
)
BAD_CSV = (
    ("x,1,2,3", "4 fields, the header has 3"),
    ('x,"unclosed', "malformed CSV"),
    ("x," + "9" * 5000, "column 'a': a number has more than 4,300 digits"),
)


def sources(kind: str, tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Where the text is read from, and how messages name that source (S3: $AWS_ENDPOINT_URL's moto)."""
    if kind == "stdin":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(text.encode()))))
        return "-", "stdin"
    if kind == "s3":
        endpoint = os.environ["AWS_ENDPOINT_URL"]
        bucket = create_bucket(endpoint)
        client("s3", endpoint).put_object(Bucket=bucket, Key="x/items", Body=gzip.compress(text.encode()))
        return f"s3://{bucket}/x/items", f"s3://{bucket}/x/items"
    path = tmp_path / "items"
    path.write_text(text)
    return str(path), str(path)


@dataclass(frozen=True)
class BadLine:
    kind: str
    """Where the source is read from: file, stdin or s3."""
    source_format: str
    bad: str
    reason: str
    good_before: int
    """Good records before the bad one."""

    def text(self) -> tuple[str, int]:
        """The source's text, and the line the bad record is on."""
        if self.source_format == "jsonl":
            return jsonl(*items(self.good_before)) + self.bad + "\n", self.good_before + 1
        good = "".join(f"g{n},1,2\n" for n in range(self.good_before))
        return "id,a,b\n" + good + self.bad + "\n", self.good_before + 2


FORMATS = [("jsonl", bad, reason) for bad, reason in BAD_JSONL] + [("csv", bad, reason) for bad, reason in BAD_CSV]
LOCAL_CASES = [
    BadLine(kind, source_format, bad, reason, good_before)
    for kind, (source_format, bad, reason), good_before in itertools.product(("file", "stdin"), FORMATS, (0, 3))
]


@pytest.mark.parametrize("case", LOCAL_CASES, ids=[f"{c.kind}-{c.reason}-{c.good_before}" for c in LOCAL_CASES])
def test_every_line_error_names_source_and_line_and_the_way_to_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: BadLine
) -> None:
    assert_named(tmp_path, monkeypatch, capsys, case)


@pytest.mark.parametrize("formatted", [FORMATS[0], FORMATS[-1]], ids=["jsonl", "csv"])
def test_a_line_error_names_an_s3_source_by_its_url(
    aws: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    formatted: tuple[str, str, str],
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    assert_named(tmp_path, monkeypatch, capsys, BadLine("s3", *formatted, 2))


def assert_named(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: BadLine
) -> None:
    text, line = case.text()
    source, label = sources(case.kind, folder, text, monkeypatch)
    store = f"sqlite:{folder / 'c.db'}"
    assert load(source, store, "--source-format", case.source_format) == 1
    message = capsys.readouterr().err.strip()
    assert message.startswith(f"pinrec: error: {label}: line {line}: ")
    assert case.reason in message
    assert message.endswith(f" {SKIP_HINT}")
    if case.good_before:  # skipped instead: reported with the same names, without the hint
        source, label = sources(case.kind, folder, text, monkeypatch)
        assert load(source, store, "--source-format", case.source_format, "--skip-invalid") == 0
        rejected = capsys.readouterr().err.strip()
        assert rejected.startswith(f"pinrec: rejected {label}: line {line}: ") and SKIP_HINT not in rejected


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"id": "big", "blob": "x" * 500_000}, "larger than DynamoDB's 400 KB item limit"),
        ({"id": "k" * 2049}, "longer than DynamoDB's 2048-byte key limit"),
        ({"id": "r", "_pinrec_load": "x"}, "the field '_pinrec_load' is reserved for pinrec"),
        ({"id": "n", "n": 10**40}, "a number has more than 38 significant digits"),
        ({"id": "d", "n": json.loads("[" * 40 + "]" * 40)}, "nested more than DynamoDB's 32 levels"),
        ({"id": "e", "": 1}, "a field name is empty"),
    ],
)
def test_dynamodb_line_errors_name_source_and_line_too(
    aws: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    item: dict[str, Any],
    reason: str,
) -> None:
    source = tmp_path / "items.jsonl"
    source.write_text(jsonl({"id": "ok"}, item))
    assert load(str(source), f"dynamodb:{create_table(aws)}", endpoint=aws) == 1
    message = capsys.readouterr().err.strip()
    assert message.startswith(f"pinrec: error: {source}: line 2: ") and reason in message
    assert message.endswith(SKIP_HINT)
