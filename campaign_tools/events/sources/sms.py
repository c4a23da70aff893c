"""End User Messaging SMS (SMS and voice v2) delivery events, as a configuration set's event destination publishes
them (the SNS destination's `Message`, or the bare record): `eventType` (TEXT_DELIVERED, TEXT_SUCCESSFUL,
TEXT_BLOCKED, TEXT_FAILED ...), `eventTimestamp` (Unix milliseconds), `messageId` (what SendTextMessage returned),
`destinationPhoneNumber`, `messageStatus`, `messageStatusDescription`, `context` (the send's correlation tags).

Kinds: queued, pending and sent are `send` (the service accepted the message); delivered and successful (used
interchangeably by country) `delivery`; blocked, carrier-blocked, spam and protect-blocked `blocked`; invalid,
unreachable, carrier-unreachable, TTL-expired, unknown and failed `failed`, with the event type as `detail`. MMS
(`MEDIA_*`) events read the same way. Voice (`VOICE_*`) and RCS events are not pinrec channels: not recorded.
"""

from __future__ import annotations

from collections.abc import Mapping

from campaign_tools.channels.addresses import sms as sms_addresses
from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.events.sources.base import (
    Envelope,
    NotAnEvent,
    Unreadable,
    event_id,
    identifier,
    mapping,
    millis_time,
    text,
)
from campaign_tools.events.tags import correlation

NAME = "sms"
KINDS = {
    "QUEUED": EventKind.SEND,
    "PENDING": EventKind.SEND,
    "SENT": EventKind.SEND,
    "SUCCESSFUL": EventKind.DELIVERY,
    "DELIVERED": EventKind.DELIVERY,
    "BLOCKED": EventKind.BLOCKED,
    "CARRIER_BLOCKED": EventKind.BLOCKED,
    "SPAM": EventKind.BLOCKED,
    "PROTECT_BLOCKED": EventKind.BLOCKED,
    "INVALID": EventKind.FAILED,
    "INVALID_MESSAGE": EventKind.FAILED,
    "UNREACHABLE": EventKind.FAILED,
    "CARRIER_UNREACHABLE": EventKind.FAILED,
    "TTL_EXPIRED": EventKind.FAILED,
    "UNKNOWN": EventKind.FAILED,
    "FAILED": EventKind.FAILED,
    "FILE_INACCESSIBLE": EventKind.FAILED,
    "FILE_TYPE_UNSUPPORTED": EventKind.FAILED,
    "FILE_SIZE_EXCEEDED": EventKind.FAILED,
}
RECORDED_PREFIXES = ("TEXT_", "MEDIA_")
OTHER_PREFIXES = ("VOICE_", "RCS_")


class SmsSource:
    name = NAME

    def accepts(self, record: Mapping[str, object]) -> bool:
        event_type = record.get("eventType")
        return isinstance(event_type, str) and event_type.startswith((*RECORDED_PREFIXES, *OTHER_PREFIXES))

    def read(self, record: Mapping[str, object], envelope: Envelope) -> list[DeliveryEvent]:
        event_type = str(record.get("eventType"))
        if event_type.startswith(OTHER_PREFIXES):
            raise NotAnEvent("sms: voice and RCS events are not recorded")
        kind = KINDS.get(event_type.partition("_")[2])
        if kind is None:
            raise NotAnEvent("sms: an event type pinrec does not record")
        message_id = identifier(record.get("messageId"))
        if message_id is None:
            raise Unreadable("sms: messageId is missing")
        occurred_at = millis_time(record.get("eventTimestamp"), "sms: eventTimestamp")
        recipient = record.get("destinationPhoneNumber")
        if recipient is not None and identifier(recipient) is None:
            raise Unreadable("sms: destinationPhoneNumber is not a phone number")
        context = mapping(record.get("context"))
        found = correlation(context) if context is not None else None
        campaign_id, endpoint_id = found if found else (None, None)
        failing = kind in (EventKind.FAILED, EventKind.BLOCKED)
        status = text(record.get("messageStatus"), 64)
        return [
            DeliveryEvent(
                event_id(NAME, event_type, message_id, record.get("eventTimestamp")),
                sms_addresses.NAME,
                kind,
                occurred_at,
                message_id,
                campaign_id,
                endpoint_id,
                identifier(recipient),
                detail=(f"{event_type}:{status}" if status else event_type) if failing else None,
            )
        ]


SOURCE = SmsSource()
