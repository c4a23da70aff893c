"""The events Lambda handler in process: an SQS batch of EventBridge and SNS bodies recorded once, malformed records
counted and not retried, only records whose write failed reported as batch item failures, and no address in the
log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import handlers.events
from campaign_tools.events.model import DeliveryEvent
from campaign_tools.send.ledgers.base import ClaimPolicy, LedgerError, RecordedEvents
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from campaign_tools.suppression.sqlite import SqliteSuppressionList
from tests.hostile import any_value, json_values

DATA = Path(__file__).parents[1] / "data" / "events"


def sqs(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m-{number}", "eventSource": "aws:sqs", "body": body, "attributes": {}}
            for number, body in enumerate(bodies)
        ]
    }


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    ledger = SqliteLedger(tmp_path / "ledger.db")
    for number in range(1, 10):
        ledger.claim("spring", f"ep-{number}", 1.0, ClaimPolicy("run"))
        ledger.mark_sent("spring", f"ep-{number}", f"ses-msg-{number}", 1.0)
    ledger.close()
    monkeypatch.setenv("PINREC_LEDGER", f"sqlite:{tmp_path / 'ledger.db'}")
    monkeypatch.setenv("PINREC_SUPPRESSION", f"sqlite:{tmp_path / 'suppression.db'}")
    handlers.events.reset()
    yield tmp_path
    handlers.events.reset()


def test_a_batch_is_recorded_once_and_malformed_records_are_not_retried(
    environment: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bridge = (DATA / "ses-eventbridge.jsonl").read_text().splitlines()
    sns = (DATA / "ses-sns.jsonl").read_text().splitlines()
    caplog.set_level(logging.INFO, logger="pinrec.events")
    answer = handlers.events.handler(sqs(*bridge, "{broken", json.dumps({"eventType": 3, "mail": {}})))
    assert answer == {"batchItemFailures": []}
    assert handlers.events.handler(sqs(*sns)) == {"batchItemFailures": []}
    events = list(SqliteLedger(environment / "ledger.db", read_only=True).events("spring"))
    assert len(events) == 13 and len({event.event_id for event in events}) == 13
    assert {entry.address for entry in SqliteSuppressionList(environment / "suppression.db").entries()} == {
        "bob@example.com", "cy@example.com", "cy.alias@example.com", "dee@example.com", "hal@example.com"
    }  # fmt: skip
    logged = caplog.text
    assert '"wrapped record is not JSON"' in logged and '"ses: eventType is not a string"' in logged
    assert "@example.com" not in logged and "ses-msg" not in logged


class FailingLedger(SqliteLedger):
    """A ledger whose writes fail for one message id (a throttled table, say)."""

    failing = "ses-msg-4"

    def record_events(self, events: Sequence[DeliveryEvent], now: float) -> RecordedEvents:
        if any(event.message_id == self.failing for event in events):
            raise LedgerError("throttled")
        return super().record_events(events, now)


def test_only_records_whose_write_failed_are_reported(environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = FailingLedger(environment / "ledger.db")
    monkeypatch.setattr(handlers.events, "_opened", (ledger, SqliteSuppressionList(environment / "suppression.db")))
    bridge = (DATA / "ses-eventbridge.jsonl").read_text().splitlines()
    answer = handlers.events.handler(sqs(*bridge[:8]))
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-6"}]}  # the complaint of ses-msg-4
    assert len(list(ledger.events("spring"))) == 8  # the 7 other records: 8 events (one bounce names two)
    # the complaint still suppressed its address: suppression is written before the ledger
    assert "dee@example.com" in {
        entry.address for entry in SqliteSuppressionList(environment / "suppression.db").entries()
    }


def test_without_its_environment_every_record_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PINREC_LEDGER", raising=False)
    handlers.events.reset()
    assert handlers.events.handler(sqs("{}", "{}")) == {
        "batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]
    }
    assert handlers.events.handler({"not": "sqs"}) == {"batchItemFailures": []}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values, whole=any_value)
def test_any_batch_is_answered_and_nothing_unreadable_is_retried(environment: Path, body: Any, whole: Any) -> None:
    text = json.dumps(body) if not isinstance(body, str) else body
    assert handlers.events.handler(sqs(text, "[]")) == {"batchItemFailures": []}
    assert handlers.events.handler(whole) == {"batchItemFailures": []}
