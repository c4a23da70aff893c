"""The engagement records beside a ledger: recipient records and forwarded marks, in SQLite and in DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from campaign_tools.engagement.store import EngagementStore, Recipient, engagement_store
from campaign_tools.send.ledgers.base import ClaimPolicy, Ledger
from campaign_tools.send.ledgers.null import NullLedger


@pytest.fixture
def store(ledger: Ledger) -> Iterator[EngagementStore]:
    found = engagement_store(ledger)
    assert found is not None
    yield found
    found.close()


def test_recipient_records_are_kept_per_send_and_a_later_lookup_replaces_one(store: EngagementStore) -> None:
    store.record_recipients("spring", [Recipient(f"e{n}", f"u{n}", "rid-1", ("P1", "P2")) for n in range(130)], 1.0)
    store.record_recipients("spring", [Recipient("e1", "u1", None, ("P9",))], 2.0)
    store.record_recipients("autumn", [Recipient("e1", "someone-else")], 2.0)
    found = store.recipients("spring", [f"e{n}" for n in range(140)])
    assert len(found) == 130
    assert found["e0"] == Recipient("e0", "u0", "rid-1", ("P1", "P2"))
    assert found["e1"] == Recipient("e1", "u1", None, ("P9",))
    assert store.recipients("summer", ["e1"]) == {}


def test_forwarded_marks_are_kept_once_whatever_the_repeats(store: EngagementStore) -> None:
    keys = [f"click:{n:032x}" for n in range(260)]
    assert store.forwarded_among(keys) == set()
    store.mark_forwarded([*keys[:200], *keys[:10]], 5.0)
    store.mark_forwarded(keys[:5], 6.0)
    assert store.forwarded_among(keys) == set(keys[:200])


def test_the_engagement_records_never_show_as_campaign_rows(ledger: Ledger, store: EngagementStore) -> None:
    store.record_recipients("spring", [Recipient("e1", "u1")], 1.0)
    store.mark_forwarded(["click:1"], 1.0)
    assert ledger.claim("spring", "e2", 1.0, ClaimPolicy("run")).value == "claimed"
    assert ledger.summary("spring", 2.0, 900).total == 1
    assert list(ledger.events("spring")) == []


def test_a_ledger_that_keeps_nothing_has_no_engagement_records() -> None:
    assert engagement_store(NullLedger()) is None


def test_every_record_of_a_send_is_listed_with_when_it_was_recorded(store: EngagementStore) -> None:
    store.record_recipients("spring", [Recipient(f"e{n}", f"u{n}") for n in range(30)], 3.5)
    store.record_recipients("autumn", [Recipient("e1", "u1")], 4.0)
    listed = store.recipients_of_send("spring")
    assert sorted(recipient.endpoint_id for recipient, _ in listed) == sorted(f"e{n}" for n in range(30))
    assert {at for _, at in listed} == {3.5}
