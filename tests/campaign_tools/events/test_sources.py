"""Event sources: every documented shape read into the events it reports, the same event id whatever the wrapping,
one event per recipient, and any JSON value anywhere costing at most its own record."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.events.sources.base import Reading
from campaign_tools.events.sources.registry import read_record
from tests.hostile import DEPTHS, json_values, nested

DATA = Path(__file__).parents[2] / "data" / "events"
NOW = 1_750_000_000.0


def lines(name: str) -> list[Any]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


def events_of(value: object) -> list[DeliveryEvent]:
    readings = list(read_record(value, NOW))
    assert all(reading.malformed is None and reading.ignored is None for reading in readings), readings
    return [event for reading in readings for event in reading.events]


def test_every_ses_event_type_is_read_from_eventbridge_and_sns_alike() -> None:
    bridge = [events_of(record) for record in lines("ses-eventbridge.jsonl")]
    sns = [events_of(record) for record in lines("ses-sns.jsonl")]
    assert bridge == sns
    kinds = {event.kind for events in bridge for event in events}
    assert kinds == {
        EventKind.SEND, EventKind.DELIVERY, EventKind.OPEN, EventKind.CLICK, EventKind.BOUNCE, EventKind.COMPLAINT,
        EventKind.REJECT, EventKind.RENDERING_FAILURE, EventKind.DELIVERY_DELAY, EventKind.SUBSCRIPTION,
    }  # fmt: skip
    ids = [event.event_id for events in bridge for event in events]
    assert len(ids) == len(set(ids))


def test_the_bare_record_and_its_wrappings_give_the_same_event() -> None:
    bare = json.loads((DATA / "ses-bounce-bare.json").read_text())
    (bridge,) = events_of(lines("ses-eventbridge.jsonl")[4])
    assert events_of(bare) == [bridge]
    sqs_record = {"messageId": "q-1", "eventSource": "aws:sqs", "body": json.dumps(lines("ses-sns.jsonl")[4])}
    assert events_of({"Records": [sqs_record]}) == [bridge]
    assert events_of(json.dumps(bare)) == [bridge]


def test_fields_of_each_kind() -> None:
    by_kind: dict[str, list[DeliveryEvent]] = {}
    for record in lines("ses-eventbridge.jsonl"):
        for event in events_of(record):
            by_kind.setdefault(event.kind, []).append(event)
    click = by_kind["click"][0]
    assert (click.link, click.campaign_id, click.endpoint_id, click.message_id) == (
        "https://shop.example.com/items/42", "spring", "ep-1", "ses-msg-1"
    )  # fmt: skip
    permanent = [event for event in by_kind["bounce"] if event.subtype == "Permanent"]
    assert sorted(str(event.recipient) for event in permanent) == [
        "Bob@Example.com", "cy.alias@example.com", "cy@example.com"
    ]  # fmt: skip
    assert all(event.suppresses for event in permanent)
    untagged = next(event for event in permanent if event.message_id == "ses-msg-2")
    assert (untagged.campaign_id, untagged.endpoint_id, untagged.detail) == (None, None, "NoEmail")
    transient = next(event for event in by_kind["bounce"] if event.subtype == "Transient")
    assert not transient.suppresses and transient.detail == "MailboxFull"
    assert by_kind["complaint"][0].suppresses and by_kind["complaint"][0].detail == "abuse"
    (subscription,) = by_kind["subscription"]
    assert (subscription.subtype, subscription.topic, subscription.detail) == ("unsubscribed", "offers", "pinrec-news")
    assert subscription.occurred_at == 1741003200.0
    assert by_kind["delivery_delay"][0].detail == "TransientCommunicationFailure"
    assert by_kind["reject"][0].detail == "Bad content"


def test_sms_events_and_opt_outs() -> None:
    events = [event for record in lines("sms-v2.jsonl") for event in events_of(record)]
    assert [(event.kind, event.message_id) for event in events] == [
        ("send", "sms-msg-1"), ("delivery", "sms-msg-1"), ("delivery", "sms-msg-1"), ("blocked", "sms-msg-2"),
        ("failed", "sms-msg-3"), ("failed", "sms-msg-4"), ("blocked", "sms-msg-5"),
    ]  # fmt: skip
    assert events[0].campaign_id == "spring-sms" and events[0].endpoint_id == "ep-s1"
    assert events[4].campaign_id is None and events[4].detail == "TEXT_CARRIER_UNREACHABLE:CARRIER_UNREACHABLE"
    assert events[1].occurred_at == 1741000001.0 and not any(event.suppresses for event in events)
    readings = [reading for record in lines("sms-opt-out.jsonl") for reading in read_record(record, NOW)]
    opt_outs = [event for reading in readings for event in reading.events]
    assert [(event.kind, event.recipient, event.message_id) for event in opt_outs] == [
        ("opt_out", "+447700900101", "sms-msg-1"), ("opt_out", "+44 7700 900104", "sms-msg-4")
    ]  # fmt: skip
    assert all(event.suppresses for event in opt_outs)
    assert opt_outs[0].occurred_at == 1741005000.0  # the SNS Timestamp: the payload has none
    assert readings[2] == Reading(ignored="sms-inbound: a reply without an opt-out keyword")


def test_a_subscription_that_unsubscribes_from_everything_has_no_topic() -> None:
    record = copy.deepcopy(lines("ses-sns.jsonl")[10])
    inner = json.loads(record["Message"])
    inner["subscription"]["newTopicPreferences"] = {"unsubscribeAll": True, "topicSubscriptionStatus": []}
    (event,) = events_of(inner)
    assert (event.subtype, event.topic, event.suppresses) == ("unsubscribed", None, True)
    inner["subscription"]["newTopicPreferences"] = inner["subscription"]["oldTopicPreferences"]
    assert list(read_record(inner, NOW)) == [Reading(ignored="ses: a subscription record that changes no preference")]


def test_damaged_records_are_refused_with_a_reason_that_quotes_nothing() -> None:
    bounce = lines("ses-eventbridge.jsonl")[4]["detail"]
    cases = {
        "ses: mail.messageId is missing": ("mail", "messageId", None),
        "ses: bounce.bounceType is not Permanent, Transient or Undetermined": ("bounce", "bounceType", "Hard"),
        "ses: bounce.timestamp is not an ISO 8601 timestamp": ("bounce", "timestamp", "yesterday"),
        "ses: bounce.bouncedRecipients holds an entry that is not an address": ("bounce", "bouncedRecipients", [7]),
    }
    for reason, (part, field, value) in cases.items():
        damaged = copy.deepcopy(bounce)
        damaged[part][field] = value
        assert list(read_record(damaged, NOW)) == [Reading(malformed=reason)]
    assert list(read_record([1, 2], NOW)) == [Reading(malformed="not a JSON object")]
    assert list(read_record({"hello": "world"}, NOW)) == [
        Reading(malformed="not a record of SES or End User Messaging")
    ]
    assert list(read_record('{"Type": "Notification", "TopicArn": "t", "Message": "{"}', NOW)) == [
        Reading(malformed="wrapped record is not JSON")
    ]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


SAMPLES = [*lines("ses-eventbridge.jsonl"), *lines("sms-v2.jsonl"), *lines("sms-opt-out.jsonl")]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(SAMPLES) - 1), st.data(), json_values)
def test_any_value_anywhere_costs_at_most_its_record(index: int, data: st.DataObject, value: Any) -> None:
    record = copy.deepcopy(SAMPLES[index])
    if "Message" in record:
        record["Message"] = json.loads(record["Message"])
    path = data.draw(st.sampled_from(_paths(record)))
    holder = record
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    if isinstance(record.get("Message"), dict):
        record["Message"] = json.dumps(record["Message"])
    for reading in read_record(record, NOW):
        assert (reading.malformed is None) or not reading.events
        for event in reading.events:
            assert isinstance(event.event_id, str) and len(event.event_id) == 32
            assert isinstance(event.occurred_at, float)
            for field in (event.message_id, event.recipient, event.link, event.detail, event.topic):
                assert field is None or (isinstance(field, str) and field.encode("utf-8"))


def test_deep_nesting_anywhere_is_one_malformed_record() -> None:
    for depth in DEPTHS:
        value = nested(depth)
        for record in (value, {"Records": [value]}, {"eventType": "Bounce", "mail": value}):
            for reading in read_record(record, NOW):
                assert reading.malformed is not None or reading.ignored is not None or reading.events
        text = "[" * depth
        assert next(iter(read_record(text, NOW))).malformed is not None
