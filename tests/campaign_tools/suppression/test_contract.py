"""Every suppression list kind behaves the same: SQLite (a real file) and DynamoDB (moto's server) run this one
suite. Addresses match however they are written; the earliest entry per reason and topic is kept; the strongest
entry that applies to a send is reported; topic-scoped unsubscribes suppress only sends of that topic; a complaint is
removed only with force; sync times are kept per source, the latest winning."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.suppression.base import Reason, Suppression, SuppressionError, SuppressionList
from campaign_tools.suppression.dynamodb import DynamoDbSuppressionList, create_suppression_table
from campaign_tools.suppression.sqlite import SqliteSuppressionList
from tests.aws_fixtures import dynamodb_client, table_for_test


@pytest.fixture(params=["sqlite", "dynamodb"])
def suppressions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SuppressionList]:
    if request.param == "sqlite":
        opened: SuppressionList = SqliteSuppressionList(tmp_path / "suppression.db")
    else:
        client = dynamodb_client(request.getfixturevalue("moto_module_endpoint"))
        table = table_for_test(request, "suppression")
        create_suppression_table(client, table)
        opened = DynamoDbSuppressionList(table, client)
    yield opened
    opened.close()


def listed(suppressions: SuppressionList, channel: str | None = None) -> list[tuple[Any, ...]]:
    return sorted((e.channel, e.address, e.reason, e.topic, e.since, e.source) for e in suppressions.entries(channel))


def test_entries_match_however_the_address_is_written(suppressions: SuppressionList) -> None:
    added = suppressions.add(
        [
            Suppression("email", "Ana@Example.com ", Reason.BOUNCE, 200.0, "event-1"),
            Suppression("email", "ana@example.com", Reason.BOUNCE, 100.0, "event-0"),
            Suppression("email", "ana@example.com", Reason.COMPLAINT, 300.0, "event-2"),
            Suppression("sms", "+1 (206) 555-0100", Reason.OPT_OUT, 50.0, "list"),
        ]
    )
    assert added == 4, "the earlier bounce replaces the later one: both writes count"
    found = suppressions.lookup("email", ["ANA@example.COM", "bo@example.com"])
    assert list(found) == ["ANA@example.COM"]
    assert found["ANA@example.COM"].reason is Reason.COMPLAINT, "the strongest reason is reported"
    assert listed(suppressions, "email") == [
        ("email", "ana@example.com", Reason.BOUNCE, None, 100.0, "event-0"),
        ("email", "ana@example.com", Reason.COMPLAINT, None, 300.0, "event-2"),
    ], "the earliest entry per reason is kept"
    assert suppressions.lookup("sms", ["+12065550100"])["+12065550100"].reason is Reason.OPT_OUT
    assert suppressions.add([Suppression("email", "ana@example.com", Reason.BOUNCE, 400.0)]) == 0
    assert suppressions.add([]) == 0


def test_a_topic_unsubscribe_suppresses_only_sends_of_that_topic(suppressions: SuppressionList) -> None:
    suppressions.add(
        [
            Suppression("email", "ana@example.com", Reason.UNSUBSCRIBE, 10.0, "one-click", "news"),
            Suppression("email", "bo@example.com", Reason.UNSUBSCRIBE, 10.0, "one-click"),
            Suppression("email", "cy@example.com", Reason.COMPLAINT, 10.0, "event", "news"),
        ]
    )
    everyone = ["ana@example.com", "bo@example.com", "cy@example.com"]
    assert set(suppressions.lookup("email", everyone, topic="news")) == set(everyone)
    assert set(suppressions.lookup("email", everyone, topic="offers")) == {"bo@example.com", "cy@example.com"}
    assert set(suppressions.lookup("email", everyone)) == {"bo@example.com", "cy@example.com"}
    complaint = suppressions.lookup("email", ["cy@example.com"])["cy@example.com"]
    assert complaint.topic is None, "a complaint is about the address: it suppresses the whole channel"
    suppressions.add([Suppression("email", "ana@example.com", Reason.UNSUBSCRIBE, 20.0, "one-click")])
    assert set(suppressions.lookup("email", ["ana@example.com"], topic="offers")) == {"ana@example.com"}, (
        "a later unsubscribe from everything is kept beside the earlier topic's"
    )
    ana = sorted((e.topic or "", e.since) for e in suppressions.entries("email") if e.address == "ana@example.com")
    assert ana == [("", 20.0), ("news", 10.0)]


def test_a_complaint_is_removed_only_with_force(suppressions: SuppressionList) -> None:
    suppressions.add([Suppression("email", "a@example.com", Reason.COMPLAINT, 1.0)])
    suppressions.add([Suppression("email", "b@example.com", Reason.BOUNCE, 1.0)])
    with pytest.raises(SuppressionError, match="--force"):
        suppressions.remove("email", "a@example.com")
    assert suppressions.lookup("email", ["a@example.com"])
    assert suppressions.remove("email", "A@example.com", force=True)
    assert not suppressions.lookup("email", ["a@example.com"])
    assert not suppressions.remove("email", "a@example.com")
    assert suppressions.remove("email", "b@example.com")
    assert listed(suppressions) == []


def test_lookups_span_many_chunks_and_repeat_addresses(suppressions: SuppressionList) -> None:
    addresses = [f"user{number}@example.com" for number in range(620)]
    suppressions.add(Suppression("email", address, Reason.BOUNCE, 5.0) for address in addresses[::3])
    found = suppressions.lookup("email", [*addresses, addresses[0].upper()])
    assert set(found) == {*addresses[::3], addresses[0].upper()}
    assert not suppressions.lookup("sms", addresses), "another channel's entries never match"


def test_sync_times_are_kept_per_source_the_latest_winning(suppressions: SuppressionList) -> None:
    assert dict(suppressions.sync_times()) == {}
    suppressions.record_sync("ses-account", 100.0)
    suppressions.record_sync("sms-opt-out-lists", 50.0)
    suppressions.record_sync("ses-account", 80.0)
    assert dict(suppressions.sync_times()) == {"ses-account": 100.0, "sms-opt-out-lists": 50.0}
    suppressions.record_sync("ses-account", 150.5)
    assert suppressions.sync_times()["ses-account"] == 150.5
    assert listed(suppressions) == [], "sync times are not entries"
