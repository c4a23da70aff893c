"""`pinrec conversions ingest`: JSON Lines from a file or stdin, every bad line counted with its line and reason,
a replay adding nothing."""

from __future__ import annotations

import gzip
import io
import json
import sys

from campaign_tools.cli import main
from campaign_tools.conversions.ingest import ConversionsIngestSettings, ingest_conversions
from campaign_tools.conversions.sqlite import SqliteConversions

GOOD = [
    {"endpoint_id": "e1", "time": "2027-03-02T10:00:00Z", "event_type": "purchase", "value": 20},
    {"user_id": "u2", "time": 1804000000, "event_type": "signup"},
    {"id": "o-3", "endpoint_id": "e3", "time": "2027-03-03T10:00:00+02:00", "event_type": "purchase", "value": 5.5},
]


def lines() -> str:
    rows = [json.dumps(GOOD[0]), "not json", json.dumps(GOOD[1]), "", "[1, 2]", json.dumps(GOOD[2]), "null"]
    rows.append(json.dumps({"endpoint_id": "e4", "time": "soon", "event_type": "purchase"}))
    return "\n".join(rows) + "\n"


def test_ingest_counts_each_bad_line_and_stores_the_rest_once(tmp_path):
    source = tmp_path / "conversions.jsonl.gz"
    source.write_bytes(gzip.compress(lines().encode()))
    settings = ConversionsIngestSettings(source=str(source), conversions=f"sqlite:{tmp_path / 'c.db'}")
    report = ingest_conversions(settings, now=1.0)
    assert (report.lines, report.added, report.duplicates) == (7, 3, 0)
    assert report.examples == [
        (2, "not JSON (not JSON)"),
        (5, "not an object but list"),
        (7, "not an object but null"),
        (8, "time is not ISO 8601"),
    ]
    assert ingest_conversions(settings, now=2.0).to_dict()["duplicates"] == 3
    stored = list(SqliteConversions(tmp_path / "c.db", read_only=True).between(0, 1e12))
    assert sorted(c.conversion_id for c in stored if not c.conversion_id.startswith("sha256:")) == ["o-3"]
    assert sum(c.value or 0 for c in stored) == 25.5


def test_the_command_reads_stdin_and_exits_1_on_malformed_lines(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(lines().encode()))))
    store = f"sqlite:{tmp_path / 'c.db'}"
    assert main(["conversions", "ingest", "-", "--conversions", store, "--output", "json"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed["added"] == 3 and printed["malformed"] == 4
    assert printed["malformed_by_reason"]["not an object but list"] == 1
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps(row) for row in GOOD), encoding="utf-8")
    assert main(["conversions", "ingest", str(good), "--conversions", store]) == 0
    assert "3 records: 0 conversions added, 3 already stored, 0 malformed" in capsys.readouterr().out


def test_a_bad_store_spec_is_a_clear_error(capsys):
    assert main(["conversions", "ingest", "x.jsonl", "--conversions", "redis:x"]) == 1
    assert "--conversions must be sqlite:PATH" in capsys.readouterr().err
