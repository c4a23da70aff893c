"""`pinrec send reconcile`, the reconciliation every resumed `pinrec send --deliver` does first, and what `pinrec send
status` says of in-doubt rows: through the real CLI entry point, SES on moto, a SQLite ledger."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from campaign_tools.cli import main
from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from tests.aws_fixtures import verify_ses_identity
from tests.campaign_tools.send.test_plugin import PLUGIN as COMPOSER
from tests.fakes import ITEMS, write_recommendations, write_segment

ENDPOINTS = 12
TIMES = ("--lease-seconds", "100", "--event-grace", "100")


@pytest.fixture
def workspace(tmp_path: Path, make_catalog: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = make_catalog(ITEMS)
    (tmp_path / "pinrec.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
    )
    write_segment(tmp_path / "segment.jsonl", ENDPOINTS)
    write_recommendations(tmp_path / "recs.jsonl", ENDPOINTS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def send(*extra: str) -> list[str]:
    return [
        "send",
        "--composer",
        COMPOSER,
        "--segment",
        "segment.jsonl",
        "--recommendations",
        "file:recs.jsonl",
        "--config",
        "pinrec.toml",
        "--campaign-id",
        "spring",
        "--deliver",
        "--from",
        "news@shop.example.com",
        "--rate",
        "500",
        *TIMES,
        *extra,
    ]


def left_in_doubt(ledger: Path, endpoint_id: str, claimed_at: float) -> None:
    """As a run killed after claiming `endpoint_id` leaves it: pending since `claimed_at`, no message id."""
    with sqlite3.connect(ledger) as connection:
        connection.execute(
            "UPDATE messages SET state = 'pending', message_id = NULL, claimed_at = ?, updated_at = ?"
            " WHERE endpoint_id = ?",
            (claimed_at, claimed_at, endpoint_id),
        )
    connection.close()


def event(endpoint_id: str, occurred_at: float, message_id: str) -> DeliveryEvent:
    return DeliveryEvent(f"ev-{endpoint_id}", "email", EventKind.SEND, occurred_at, message_id, "spring", endpoint_id)


def test_a_resumed_send_reconciles_first_and_resends_only_the_unconfirmed(
    workspace: Path, moto_aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from moto.ses.models import ses_backends

    verify_ses_identity(boto3.client("sesv2"), "news@shop.example.com")
    backend = ses_backends["123456789012"]["us-east-1"]
    assert main(send()) == 0
    assert f"sent {ENDPOINTS}" in capsys.readouterr().out
    before = len(backend.sent_messages)
    ledger_path, now = workspace / "pinrec-send.db", time.time()
    # ep-1 reached SES and has its Send event; ep-2 never did (no event for 1,000 s, while ep-1's came after its
    # claim); ep-3 was claimed 150 s ago: past the lease, within the grace.
    left_in_doubt(ledger_path, "ep-1", now - 1_000)
    left_in_doubt(ledger_path, "ep-2", now - 1_000)
    left_in_doubt(ledger_path, "ep-3", now - 150)
    ledger = SqliteLedger(ledger_path)
    assert ledger.record_events([event("ep-1", now - 999, "ses-1")], now).recorded == 1
    ledger.close()

    assert main(["send", "status", "spring", *TIMES]) == 0
    status = capsys.readouterr().out
    assert "pending   0 in progress, 3 in doubt" in status
    assert "1 in doubt would be marked sent" in status and "1 would be released to be sent again" in status
    assert "1 awaiting events" in status

    assert main(["send", "reconcile", "spring", *TIMES, "--dry-run", "--output", "json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert (dry["applied"], dry["accepted"], dry["unconfirmed"], dry["awaiting_events"]) == (False, 1, 1, 1)

    assert main(send("--dry-run", "--output", "json")) == 0
    assert json.loads(capsys.readouterr().out)["reconciliation"] is None, "a dry run reconciles nothing"
    assert len(backend.sent_messages) == before

    assert main(send("--output", "json")) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["sent"] == 1, "only ep-2, which no event confirmed"
    assert run["skipped"] == {"already_sent": ENDPOINTS - 2, "in_doubt": 1}
    assert (run["reconciliation"]["accepted"], run["reconciliation"]["unconfirmed"]) == (1, 1)
    resent = backend.sent_messages[before:]
    assert [message.destinations["ToAddresses"] for message in resent] == [["user2@example.com"]]
    with sqlite3.connect(ledger_path) as connection:
        rows = dict(connection.execute("SELECT endpoint_id, message_id FROM messages WHERE state = 'sent'"))
    connection.close()
    assert rows["ep-1"] == "ses-1" and rows["ep-2"] == resent[0].id and "ep-3" not in rows

    # ep-3's Send event arrives within the grace: the reconcile command settles it.
    ledger = SqliteLedger(ledger_path)
    ledger.record_events([event("ep-3", now - 149, "ses-3")], time.time())
    ledger.close()
    assert main(["send", "reconcile", "spring", *TIMES]) == 0
    assert "1 in doubt marked sent" in capsys.readouterr().out
    assert main(["send", "reconcile", "spring", "--grace", "100", "--lease-seconds", "100"]) == 0
    assert capsys.readouterr().out.strip() == "campaign spring: nothing in doubt"
    assert main(send()) == 0
    assert len(backend.sent_messages) == before + 1


def test_reconcile_refuses_a_missing_ledger_and_bad_options(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["send", "reconcile", "spring"]) == 1
    assert "no such ledger: pinrec-send.db" in capsys.readouterr().err
    assert not (workspace / "pinrec-send.db").exists()
    assert main(["send", "reconcile", "spring", "--grace", "-5", "--lease-seconds", "0"]) == 1
    err = capsys.readouterr().err
    assert "--grace: Input should be greater than or equal to 0" in err
    assert "--lease-seconds: Input should be greater than 0" in err


def test_reconcile_on_a_dynamodb_ledger_settles_in_doubt_rows_from_the_events_ingested_into_it(
    workspace: Path, moto_aws: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same verdicts on DynamoDB (moto): a real send, rows left in doubt as killed runs leave them, the Send
    event of one ingested by `pinrec events ingest --ledger dynamodb:TABLE` as EventBridge delivers it; reconcile
    reads the campaign's latest event from its latest-event item (one GetItem), never the events themselves."""
    from botocore.client import BaseClient
    from moto.ses.models import ses_backends

    from campaign_tools.send.ledgers.dynamodb import LATEST_EVENT_PARTITION, DynamoDbLedger, create_ledger_table
    from tests.campaign_tools.loop_fixtures import ses_record, tags_of, via_eventbridge, write_jsonl

    verify_ses_identity(boto3.client("sesv2"), "news@shop.example.com")
    dynamodb = boto3.client("dynamodb")
    create_ledger_table(dynamodb, "ledger")
    backend = ses_backends["123456789012"]["us-east-1"]
    on_dynamodb = ("--ledger", "dynamodb:ledger")
    assert main(send(*on_dynamodb)) == 0
    assert f"sent {ENDPOINTS}" in capsys.readouterr().out
    before, now = len(backend.sent_messages), time.time()

    def row(endpoint_id: str) -> dict[str, Any]:
        key = {"campaign_id": {"S": "spring"}, "endpoint_id": {"S": endpoint_id}}
        return dict(dynamodb.get_item(TableName="ledger", Key=key, ConsistentRead=True)["Item"])

    message_1 = row("ep-1")["message_id"]["S"]
    # ep-1 reached SES (its Send event below); ep-2 never did; ep-3 is within the grace; ep-4 was claimed after the
    # campaign's latest event: events may not be flowing for it, so it stays in doubt.
    for endpoint_id, claimed_at in (("ep-1", now - 1_000), ("ep-2", now - 1_000), ("ep-3", now - 150),
                                    ("ep-4", now - 998)):  # fmt: skip
        dynamodb.update_item(
            TableName="ledger",
            Key={"campaign_id": {"S": "spring"}, "endpoint_id": {"S": endpoint_id}},
            UpdateExpression="SET #state = :pending, claimed_at = :at, updated_at = :at REMOVE message_id",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":pending": {"S": "pending"}, ":at": {"N": repr(claimed_at)}},
        )
    record = ses_record("Send", message_1, "user1@example.com", now - 999, tags=tags_of("spring", "ep-1"))
    events = write_jsonl(workspace / "events.jsonl", [via_eventbridge(record, now - 998)] * 2)
    assert main(["events", "ingest", str(events), *on_dynamodb, "--no-suppression", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["recorded"] == 1
    ledger = DynamoDbLedger("ledger", dynamodb)
    assert ledger.latest_event_at("spring") == pytest.approx(now - 999, abs=0.001)

    calls: list[tuple[str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def recording(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append((operation, dict(params)))
        return original(client, operation, params)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recording)
        assert main(["send", "reconcile", "spring", *on_dynamodb, *TIMES[:2], "--grace", "100", "--dry-run",
                     "--output", "json"]) == 0  # fmt: skip
    dry = json.loads(capsys.readouterr().out)
    assert (dry["accepted"], dry["unconfirmed"], dry["awaiting_events"], dry["unheard"]) == (1, 1, 1, 1)
    partitions = [
        params.get("Key", {}).get("campaign_id", {}).get("S")
        or params.get("ExpressionAttributeValues", {}).get(":partition", {}).get("S")
        for operation, params in calls
        if operation in ("GetItem", "Query")
    ]
    assert LATEST_EVENT_PARTITION in partitions and "#events#spring" not in partitions, "no event is read"

    assert main(send(*on_dynamodb, "--output", "json")) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["sent"] == 1, "only ep-2, which no event confirmed"
    assert run["skipped"] == {"already_sent": ENDPOINTS - 3, "in_doubt": 2}, "ep-1 marked sent, ep-3 and ep-4 in doubt"
    assert (run["reconciliation"]["accepted"], run["reconciliation"]["unconfirmed"]) == (1, 1)
    resent = backend.sent_messages[before:]
    assert [message.destinations["ToAddresses"] for message in resent] == [["user2@example.com"]]
    assert row("ep-1")["message_id"]["S"] == message_1 and row("ep-2")["message_id"]["S"] == resent[0].id
    assert (row("ep-3")["state"]["S"], row("ep-4")["state"]["S"]) == ("pending", "pending")

    # Events recorded before the latest-event item existed: their times are read instead.
    dynamodb.delete_item(
        TableName="ledger", Key={"campaign_id": {"S": LATEST_EVENT_PARTITION}, "endpoint_id": {"S": "spring"}}
    )
    assert ledger.latest_event_at("spring") == pytest.approx(now - 999, abs=0.001)
    assert ledger.latest_event_at("autumn") is None
