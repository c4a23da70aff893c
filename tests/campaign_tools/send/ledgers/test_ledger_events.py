"""The ledger's delivery events, one contract from SQLite (a real file) and DynamoDB (moto's server): attribution by
correlation tags and by message id, duplicates, unknown messages, ordering, acceptance, and no address stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.send.ledgers.base import ClaimPolicy, Ledger, RecordedEvents
from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger, create_ledger_table
from campaign_tools.send.ledgers.sqlite import SqliteLedger

T0 = 1_800_000_000.0
RUN = ClaimPolicy(run_id="run-1", lease_seconds=60.0)
ADDRESS = "secret.person@example.com"


@pytest.fixture(params=["sqlite", "dynamodb"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        opened: Ledger = SqliteLedger(tmp_path / "ledger.db")
    else:
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            endpoint_url=request.getfixturevalue("moto_module_endpoint"),
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        table = f"events-{request.node.name.replace('[', '-').replace(']', '')}"[:200]
        create_ledger_table(client, table)
        opened = DynamoDbLedger(table, client)
    yield opened
    opened.close()


def sent(ledger: Ledger, campaign: str, endpoint: str, message_id: str) -> None:
    ledger.claim(campaign, endpoint, T0, RUN)
    ledger.mark_sent(campaign, endpoint, message_id, T0)


def event(
    event_id: str,
    message_id: str | None,
    *,
    kind: EventKind = EventKind.DELIVERY,
    at: float = T0 + 10,
    campaign: str | None = None,
    endpoint: str | None = None,
    **particulars: str,
) -> DeliveryEvent:
    return DeliveryEvent(event_id, "email", kind, at, message_id, campaign, endpoint, ADDRESS, **particulars)


def test_events_are_attributed_by_tags_else_by_message_id(ledger: Ledger) -> None:
    sent(ledger, "spring", "ep-1", "msg-1")
    sent(ledger, "spring", "ep-2", "msg-2")
    result = ledger.record_events(
        [
            event("by-tags", "msg-elsewhere", campaign="spring", endpoint="ep-1"),
            event("by-id", "msg-2"),
            event("tags-of-no-row", "msg-1", campaign="spring", endpoint="ep-9"),
        ],
        T0 + 20,
    )
    assert result == RecordedEvents(recorded=3)
    owners = {stored.event_id: (stored.campaign_id, stored.endpoint_id) for stored in ledger.events("spring")}
    assert owners == {
        "by-tags": ("spring", "ep-1"),
        "by-id": ("spring", "ep-2"),
        "tags-of-no-row": ("spring", "ep-1"),
    }


def test_an_event_of_no_known_message_is_counted_unknown_and_not_stored(ledger: Ledger) -> None:
    sent(ledger, "spring", "ep-1", "msg-1")
    result = ledger.record_events(
        [event("stranger", "msg-unknown"), event("no-id", None), event("ghost", None, campaign="x", endpoint="y")],
        T0,
    )
    assert result == RecordedEvents(unknown=3)
    assert list(ledger.events("spring")) == [] and list(ledger.events("x")) == []
    assert ledger.accepted_among("spring", ["ep-1"]) == {}


def test_the_same_event_twice_is_stored_once(ledger: Ledger) -> None:
    sent(ledger, "spring", "ep-1", "msg-1")
    first = ledger.record_events([event("e1", "msg-1"), event("e1", "msg-1")], T0)
    again = ledger.record_events([event("e1", "msg-1"), event("e2", "msg-1", kind=EventKind.OPEN)], T0 + 5)
    assert first + again == RecordedEvents(recorded=2, duplicates=2)
    assert [stored.event_id for stored in ledger.events("spring")] == ["e1", "e2"]


def test_the_latest_event_time_whatever_the_arrival_order_and_duplicates(ledger: Ledger) -> None:
    """`latest_event_at` (what reconciliation asks): the latest stored event's time, per campaign; an unknown
    message's event does not count, and a later batch of earlier events does not lower it."""
    assert isinstance(ledger, SqliteLedger | DynamoDbLedger)
    latest = ledger.latest_event_at
    sent(ledger, "spring", "ep-1", "msg-1")
    sent(ledger, "summer", "ep-1", "msg-s")
    assert latest("spring") is None
    ledger.record_events([event("late", "msg-1", at=T0 + 50), event("early", "msg-1", at=T0 + 20)], T0)
    ledger.record_events([event("earlier", "msg-1", at=T0 + 5), event("late", "msg-1", at=T0 + 50)], T0)
    ledger.record_events([event("elsewhere", "msg-unknown", at=T0 + 900)], T0)
    ledger.record_events([event("summer", "msg-s", at=T0 + 70)], T0)
    assert (latest("spring"), latest("summer"), latest("autumn")) == (T0 + 50, T0 + 70, None)


def test_events_come_back_by_time_then_id_whatever_the_arrival_order(ledger: Ledger) -> None:
    sent(ledger, "spring", "ep-1", "msg-1")
    ledger.record_events([event("b", "msg-1", at=T0 + 30), event("c", "msg-1", at=T0 + 10)], T0)
    ledger.record_events([event("a", "msg-1", at=T0 + 30, kind=EventKind.CLICK, link="https://x.example/1")], T0)
    stored = list(ledger.events("spring"))
    assert [(item.event_id, item.occurred_at) for item in stored] == [("c", T0 + 10), ("a", T0 + 30), ("b", T0 + 30)]
    click = stored[1]
    assert (click.kind, click.channel, click.link, click.message_id) == (
        "click",
        "email",
        "https://x.example/1",
        "msg-1",
    )


def test_particulars_are_kept_and_the_address_never_is(ledger: Ledger, tmp_path: Path) -> None:
    sent(ledger, "spring", "ep-1", "msg-1")
    bounce = event("b1", "msg-1", kind=EventKind.BOUNCE, subtype="Permanent", detail="NoEmail", topic="news")
    ledger.record_events([bounce], T0)
    (stored,) = ledger.events("spring")
    assert (stored.subtype, stored.detail, stored.topic, stored.endpoint_id) == ("Permanent", "NoEmail", "news", "ep-1")
    assert not hasattr(stored, "recipient")
    if isinstance(ledger, SqliteLedger):
        ledger.close()
        held = b"".join(path.read_bytes() for path in tmp_path.glob("ledger.db*"))
    else:
        assert isinstance(ledger, DynamoDbLedger)
        held = repr(ledger.client.scan(TableName=ledger.table)["Items"]).encode()
    assert ADDRESS.encode() not in held


def test_accepted_among_names_the_endpoints_with_an_event_and_their_message_id(ledger: Ledger) -> None:
    for number in (1, 2, 3):
        sent(ledger, "spring", f"ep-{number}", f"msg-{number}")
    sent(ledger, "autumn", "ep-1", "msg-autumn")
    ledger.record_events(
        [
            event("d1", "msg-1"),
            event("o1", "msg-1", kind=EventKind.OPEN),
            event("x2", None, campaign="spring", endpoint="ep-2", kind=EventKind.OPT_OUT),
            event("a1", "msg-autumn"),
        ],
        T0,
    )
    assert ledger.accepted_among("spring", ["ep-1", "ep-2", "ep-3", "ep-none"]) == {"ep-1": "msg-1", "ep-2": None}
    assert ledger.accepted_among("autumn", ["ep-1", "ep-2"]) == {"ep-1": "msg-autumn"}
    assert ledger.accepted_among("spring", []) == {}


def test_events_of_one_campaign_stay_out_of_its_rows_and_summary(ledger: Ledger) -> None:
    sent(ledger, "spring", "ep-1", "msg-1")
    ledger.record_events([event(f"e{number}", "msg-1", at=T0 + number) for number in range(5)], T0)
    summary = ledger.summary("spring", T0 + 100, 60.0)
    assert (summary.sent, summary.total) == (1, 1)
    assert ledger.sent_among("spring", ["ep-1"]) == {"ep-1"}
    assert len(list(ledger.events("spring"))) == 5
