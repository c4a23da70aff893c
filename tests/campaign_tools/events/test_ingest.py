"""The ingest core and `pinrec events ingest`: the samples of every documented shape recorded against a real SQLite
ledger and suppression list, exact counts, replays and reorderings changing nothing, malformed lines counted with
their line, gzip and JSON arrays read like JSON Lines."""

from __future__ import annotations

import gzip
import json
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_tools.cli import main
from campaign_tools.events.ingest import ingest
from campaign_tools.send.ledgers.base import ClaimPolicy
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from campaign_tools.suppression.base import Reason
from campaign_tools.suppression.sqlite import SqliteSuppressionList

DATA = Path(__file__).parents[2] / "data" / "events"
FILES = ["ses-eventbridge.jsonl", "ses-sns.jsonl", "sms-v2.jsonl", "sms-opt-out.jsonl"]
T0 = 1_740_990_000.0
NOW = 1_750_000_000.0


def make_ledger(path: Path) -> SqliteLedger:
    ledger = SqliteLedger(path)
    policy = ClaimPolicy("run-1")
    for number in range(1, 10):
        ledger.claim("spring", f"ep-{number}", T0, policy)
        ledger.mark_sent("spring", f"ep-{number}", f"ses-msg-{number}", T0)
    for number in range(1, 6):
        ledger.claim("spring-sms", f"ep-s{number}", T0, policy)
        ledger.mark_sent("spring-sms", f"ep-s{number}", f"sms-msg-{number}", T0)
    return ledger


def ingest_file(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any]:
    status = main(
        [
            "events", "ingest", name, "--ledger", f"sqlite:{tmp_path / 'ledger.db'}",
            "--suppression", f"sqlite:{tmp_path / 'suppression.db'}", "--output", "json", *extra,
        ]
    )  # fmt: skip
    return status, json.loads(capsys.readouterr().out)


def test_every_sample_is_recorded_and_suppresses_exactly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_ledger(tmp_path / "ledger.db").close()
    reports = {name: ingest_file(tmp_path, str(DATA / name), capsys) for name in FILES}
    assert {name: status for name, (status, _) in reports.items()} == dict.fromkeys(FILES, 0)
    bridge = reports["ses-eventbridge.jsonl"][1]
    assert (bridge["records"], bridge["recorded"], bridge["duplicates"], bridge["unknown"]) == (13, 13, 0, 1)
    assert bridge["events"] == {
        "email:bounce": 4, "email:click": 1, "email:complaint": 1, "email:delivery": 2, "email:delivery_delay": 1,
        "email:open": 1, "email:reject": 1, "email:rendering_failure": 1, "email:send": 1, "email:subscription": 1,
    }  # fmt: skip
    assert (bridge["suppressions"], bridge["suppressions_added"]) == (5, 5)
    sns = reports["ses-sns.jsonl"][1]
    assert (sns["recorded"], sns["duplicates"], sns["unknown"], sns["suppressions_added"]) == (0, 13, 1, 0)
    sms = reports["sms-v2.jsonl"][1]
    assert (sms["recorded"], sms["unknown"], sms["suppressions"]) == (7, 0, 0)
    opt_out = reports["sms-opt-out.jsonl"][1]
    assert (opt_out["recorded"], opt_out["suppressions_added"]) == (2, 2)
    assert opt_out["ignored"] == {"sms-inbound: a reply without an opt-out keyword": 1}

    ledger = SqliteLedger(tmp_path / "ledger.db", read_only=True)
    kinds = [(event.endpoint_id, event.kind) for event in ledger.events("spring")]
    assert ("ep-2", "bounce") in kinds and ("ep-8", "subscription") in kinds and len(kinds) == 13
    assert ledger.accepted_among("spring-sms", ["ep-s1", "ep-s3", "ep-s9"]) == {
        "ep-s1": "sms-msg-1", "ep-s3": "sms-msg-3"
    }  # fmt: skip
    listed = {
        (entry.channel, entry.address, entry.reason, entry.topic)
        for entry in SqliteSuppressionList(tmp_path / "suppression.db").entries()
    }
    assert listed == {
        ("email", "bob@example.com", Reason.BOUNCE, None),
        ("email", "cy@example.com", Reason.BOUNCE, None),
        ("email", "cy.alias@example.com", Reason.BOUNCE, None),
        ("email", "dee@example.com", Reason.COMPLAINT, None),
        ("email", "hal@example.com", Reason.UNSUBSCRIBE, "offers"),
        ("sms", "+447700900101", Reason.OPT_OUT, None),
        ("sms", "+447700900104", Reason.OPT_OUT, None),
    }
    again = ingest_file(tmp_path, str(DATA / "ses-eventbridge.jsonl"), capsys)[1]
    assert (again["recorded"], again["duplicates"], again["suppressions_added"]) == (0, 13, 0)


def test_malformed_lines_are_counted_with_their_line_and_the_rest_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_ledger(tmp_path / "ledger.db").close()
    good = (DATA / "ses-eventbridge.jsonl").read_text().splitlines()
    source = tmp_path / "mixed.jsonl"
    source.write_text("\n".join([good[0], "{not json", "", "42", good[1], '{"eventType": "Bounce", "mail": {}}']))
    status, report = ingest_file(tmp_path, str(source), capsys)
    assert status == 1
    assert report["malformed"] == {
        "not JSON": {"count": 1, "lines": [2]},
        "not a JSON object": {"count": 1, "lines": [4]},
        "ses: mail.messageId is missing": {"count": 1, "lines": [6]},
    }
    assert (report["records"], report["recorded"]) == (5, 2)


def test_gzip_arrays_and_pretty_printed_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_ledger(tmp_path / "ledger.db").close()
    records = [json.loads(line) for line in (DATA / "ses-sns.jsonl").read_text().splitlines()]
    array = tmp_path / "events.json.gz"
    array.write_bytes(gzip.compress(json.dumps(records, indent=2).encode()))
    status, report = ingest_file(tmp_path, str(array), capsys)
    assert (status, report["records"], report["recorded"]) == (0, 13, 13)
    pretty = tmp_path / "pretty.json"
    pretty.write_text("\n".join(json.dumps(record, indent=2) for record in records[:3]))
    status, report = ingest_file(tmp_path, str(pretty), capsys)
    assert (status, report["records"], report["duplicates"]) == (0, 3, 3)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(records[:2], indent=1)[:-20])
    status, report = ingest_file(tmp_path, str(broken), capsys)
    assert status == 1 and report["records"] == 2 and list(report["malformed"]) == ["not JSON"]


def test_text_output_and_settings_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_ledger(tmp_path / "ledger.db").close()
    assert main(["events", "ingest", str(DATA / "sms-opt-out.jsonl"), "--ledger", f"sqlite:{tmp_path / 'ledger.db'}",
                 "--no-suppression"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "3 records: 2 events" in out and "suppressions: 0 added (0 asked)" in out and "+44" not in out
    assert main(["events", "ingest", "x.jsonl", "--ledger", "nosuch:x"]) == 1
    assert "--ledger must be" in capsys.readouterr().err


SAMPLE = [json.loads(line) for name in FILES for line in (DATA / name).read_text().splitlines() if line.strip()]


def state(order: list[Any]) -> tuple[list[Any], list[Any]]:
    with tempfile.TemporaryDirectory() as folder:
        ledger = make_ledger(Path(folder) / "ledger.db")
        suppression = SqliteSuppressionList(Path(folder) / "suppression.db")
        ingest(order, ledger, suppression, NOW, batch_events=7)
        events = [list(ledger.events(campaign)) for campaign in ("spring", "spring-sms")]
        listed = list(suppression.entries())
        ledger.close()
        suppression.close()
    return events, listed


BASELINE = state(SAMPLE)


@settings(max_examples=20, deadline=None)
@given(st.randoms(use_true_random=False), st.lists(st.sampled_from(range(len(SAMPLE))), max_size=20))
def test_any_order_with_any_duplicates_gives_the_same_ledger_and_suppression(
    shuffle: random.Random, repeated: list[int]
) -> None:
    order = [*SAMPLE, *(SAMPLE[index] for index in repeated)]
    shuffle.shuffle(order)
    assert state(order) == BASELINE
