"""Every event source, and the transports records arrive wrapped in. Adding a source is a module beside ses.py and one
line in SOURCES.

Transports unwrapped (to any depth up to MAX_DEPTH, so an SQS message holding an SNS notification holding an SES
record is read too): a Lambda SQS or SNS event (`Records`), an SQS message (`eventSource` aws:sqs, `body`), an SNS
notification (`Type` Notification, `Message`: JSON text), an EventBridge event (`detail-type`, `source`,
`detail`), JSON text of any of these; what is left is handed to the first source that accepts it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from campaign_tools.events.sources import ses, sms, sms_inbound
from campaign_tools.events.sources.base import Envelope, EventSource, NotAnEvent, Reading, Unparsed, Unreadable

SOURCES: tuple[EventSource, ...] = (ses.SOURCE, sms.SOURCE, sms_inbound.SOURCE)
MAX_DEPTH = 4
MAX_TEXT_BYTES = 1_048_576
"""A wrapped record (an SNS Message, an SQS body) longer than this is not parsed (SQS holds at most 1 MiB)."""
SNS_OTHER_TYPES = frozenset({"SubscriptionConfirmation", "UnsubscribeConfirmation"})


def read_record(value: object, ingested_at: float) -> Iterator[Reading]:
    """One reading per record `value` holds (a Lambda event holds several); never raises."""
    yield from _unwrap(value, Envelope(None, ingested_at), 0)


def _unwrap(value: object, envelope: Envelope, depth: int) -> Iterator[Reading]:
    if isinstance(value, str) and depth <= MAX_DEPTH:
        value = _json(value)
    refusal = _refusal(value, depth)
    if refusal is not None:
        yield refusal
        return
    assert isinstance(value, dict)
    records = value.get("Records")
    if records is not None:
        if not isinstance(records, list):
            yield Reading(malformed="Records is not a list")
            return
        for record in records:
            yield from _unwrap(record, envelope, depth + 1)
        return
    inner = _transport(value, envelope)
    if inner is not None:
        if isinstance(inner, Reading):
            yield inner
        else:
            yield from _unwrap(inner[0], inner[1], depth + 1)
        return
    yield _read(value, envelope)


def _refusal(value: object, depth: int) -> Reading | None:
    if isinstance(value, Reading):
        return value
    if isinstance(value, Unparsed):
        return Reading(malformed=value.reason)
    if depth > MAX_DEPTH:
        return Reading(malformed="wrapped too deep")
    if not isinstance(value, dict):
        return Reading(malformed="not a JSON object")
    return None


def _transport(value: Mapping[str, object], envelope: Envelope) -> tuple[object, Envelope] | Reading | None:
    """The record a transport wrapper holds and what the wrapper says of it; None when `value` is no wrapper."""
    if value.get("eventSource") == "aws:sqs" and "body" in value:
        attributes = value.get("attributes")
        sent = attributes.get("SentTimestamp") if isinstance(attributes, dict) else None
        published = _millis(sent)
        return value["body"], Envelope(
            published if published is not None else envelope.published_at, envelope.ingested_at
        )
    if isinstance(value.get("Sns"), dict):
        return value["Sns"], envelope
    if isinstance(value.get("Type"), str) and "TopicArn" in value:
        return _sns(value, envelope)
    if "detail-type" in value and "detail" in value:
        return value["detail"], _published(value.get("time"), envelope)
    return None


def _sns(value: Mapping[str, object], envelope: Envelope) -> tuple[object, Envelope] | Reading:
    kind = value["Type"]
    if kind in SNS_OTHER_TYPES:
        return Reading(ignored=f"sns: {kind}")
    if kind != "Notification" or not isinstance(value.get("Message"), str):
        return Reading(malformed="sns: not a notification with a Message")
    return value["Message"], _published(value.get("Timestamp"), envelope)


def _read(record: Mapping[str, object], envelope: Envelope) -> Reading:
    for source in SOURCES:
        if source.accepts(record):
            try:
                return Reading(tuple(source.read(record, envelope)))
            except Unreadable as refusal:
                return Reading(malformed=refusal.reason)
            except NotAnEvent as refusal:
                return Reading(ignored=refusal.reason)
    return Reading(malformed="not a record of SES or End User Messaging")


def _json(value: str) -> object:
    if len(value) > MAX_TEXT_BYTES:
        return Reading(malformed="wrapped record too long")
    try:
        return json.loads(value)
    except ValueError:
        return Reading(malformed="wrapped record is not JSON")
    except RecursionError:
        return Reading(malformed="wrapped record nested too deep")


def _published(value: object, envelope: Envelope) -> Envelope:
    if isinstance(value, str) and len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value)
            moment = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
        except (ValueError, OverflowError):
            return envelope
        return Envelope(moment, envelope.ingested_at)
    return envelope


def _millis(value: object) -> float | None:
    if isinstance(value, str) and value.isdigit() and len(value) <= 16:
        return int(value) / 1000.0
    return None
