"""The forwarder on its own: calls grouped per (user, session) up to 10 events, a refused request counted and never
retried, a call given up on a throttled Personalize stopping the run with the rest queued."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from campaign_tools.engagement.forward import Forwarder, ForwardReport, Interaction, calls_of
from campaign_tools.engagement.store import SqliteEngagement
from campaign_tools.send.pacing import Backoff


def interaction(key: str, user: str = "u1", session: str = "s1") -> Interaction:
    body = {"eventId": key, "eventType": "click", "itemId": "P1", "sentAt": datetime(2027, 1, 1, tzinfo=UTC)}
    return Interaction(key, user, session, body)


def client() -> tuple[Any, Stubber]:
    made = boto3.client("personalize-events", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return made, Stubber(made)


def test_a_sessions_events_go_ten_to_a_call_and_other_users_in_calls_of_their_own() -> None:
    calls = calls_of([*(interaction(f"k{n}") for n in range(23)), interaction("other", "u2", "s2")])
    assert [(user, session, len(events)) for user, session, events in calls] == [
        ("u1", "s1", 10),
        ("u1", "s1", 10),
        ("u1", "s1", 3),
        ("u2", "s2", 1),
    ]


def test_a_request_personalize_refuses_is_rejected_once_not_retried_or_marked(tmp_path: Path) -> None:
    store = SqliteEngagement(tmp_path / "ledger.db")
    made, stubber = client()
    stubber.add_client_error("put_events", "InvalidInputException", "userId too long", 400)
    too_long = Interaction("k1", "u" * 300, "s1", interaction("k1").event)
    report = ForwardReport()
    with stubber:
        Forwarder(made, "t", store, concurrency=1, sleep=lambda _: None).forward([too_long], report)
    stubber.assert_no_pending_responses()
    assert (report.calls, report.retries, report.forwarded) == (1, 0, 0)
    assert dict(report.rejected) == {"InvalidInputException": 1}
    assert store.forwarded_among(["k1"]) == set()
    store.close()


def test_past_the_deadline_nothing_more_is_called_and_the_events_stay_queued(tmp_path: Path) -> None:
    store = SqliteEngagement(tmp_path / "ledger.db")
    made, stubber = client()
    stubber.add_client_error("put_events", "ThrottlingException", "slow down", 400)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    forwarder = Forwarder(
        made, "t", store, concurrency=1, backoff=Backoff(base=10, cap=10, random=lambda: 1.0), deadline=5.0,
        sleep=sleep, clock=lambda: now[0],
    )  # fmt: skip
    report = ForwardReport()
    with stubber:
        forwarder.forward([interaction("k1"), interaction("k2", "u2", "s2")], report)
    stubber.assert_no_pending_responses()
    # once a call gave up on a throttled Personalize, the run makes no further call: the rest stays queued too
    assert (report.calls, report.queued, report.forwarded) == (1, 2, 0)
    store.close()
