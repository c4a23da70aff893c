"""What an event source is: a reader of one service's published event record, turning it into `DeliveryEvent`s.

A record is any JSON value. A member either reads it (zero or more events: one per recipient a bounce or complaint
names), or refuses it with a reason: `Unreadable` when the record is damaged (counted as malformed), `NotAnEvent`
when it is well formed but reports nothing pinrec records (an inbound SMS that is not an opt-out, a voice event).
Neither ever stops the batch the record came in.

Event ids are derived from the record's identity (the service's event type, message id, the event's own timestamp
and what distinguishes one recipient or link from another), hashed: the same event delivered twice, through any
transport, gets the same id, so the ledger stores it once.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from campaign_tools.events.model import DeliveryEvent

MAX_TEXT = 256
"""Longest provider text (a reason, a status) kept in an event's `detail`."""


class Unreadable(Exception):
    """The record cannot be read; `reason` says why (it never quotes the record: it may hold an address)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotAnEvent(Exception):
    """The record is well formed but reports no delivery event pinrec records; `reason` says what it is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the transport says about a record: when it published it (epoch seconds), when known; and when it is
    being ingested (for a record that carries no time of its own)."""

    published_at: float | None = None
    ingested_at: float = 0.0


class EventSource(Protocol):
    name: str
    """Short name, the prefix of its reasons (ses, sms, sms-inbound)."""

    def accepts(self, record: Mapping[str, object]) -> bool:
        """Whether the record is in this source's shape (cheap: looks at one or two keys)."""
        ...

    def read(self, record: Mapping[str, object], envelope: Envelope) -> list[DeliveryEvent]:
        """The record's events; raises Unreadable or NotAnEvent."""
        ...


def event_id(source: str, *parts: object) -> str:
    """A stable id from the record's identity: the same parts always give the same id."""
    text = "\x1f".join([source, *(str(part) for part in parts)])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


MAX_IDENTIFIER = 256
"""Longest message id or address taken (SES message ids are about 60 characters, End User Messaging's are UUIDs)."""


def text(value: object, limit: int = MAX_TEXT) -> str | None:
    """A non-empty string value (cut to `limit`) that UTF-8 can carry, or None for anything else."""
    if isinstance(value, str) and value:
        cut = value[:limit]
        try:
            cut.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no store can hold it
            return None
        return cut
    return None


def identifier(value: object) -> str | None:
    """A message id or an address: a string of at most MAX_IDENTIFIER characters, never cut (a cut id would name
    another message), or None."""
    if isinstance(value, str) and len(value) <= MAX_IDENTIFIER:
        return text(value, MAX_IDENTIFIER)
    return None


def iso_time(value: object, what: str) -> float:
    """Epoch seconds of an ISO 8601 timestamp (SES's `2017-08-05T00:41:02.669Z`); Unreadable otherwise."""
    if not isinstance(value, str) or not value or len(value) > 64:
        raise Unreadable(f"{what} is not a timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Unreadable(f"{what} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.timestamp()
    except (OverflowError, ValueError):  # the edges of the calendar with an offset
        raise Unreadable(f"{what} is out of range") from None


def millis_time(value: object, what: str) -> float:
    """Epoch seconds of a Unix time in milliseconds (End User Messaging's `eventTimestamp`); Unreadable otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unreadable(f"{what} is not a time in milliseconds")
    if (isinstance(value, float) and not math.isfinite(value)) or not 0 <= value <= 32_503_680_000_000:
        raise Unreadable(f"{what} is out of range")  # past the year 3000: microseconds, or garbage
    return value / 1000.0


def mapping(value: object) -> Mapping[str, object] | None:
    return value if isinstance(value, dict) else None


@dataclass(frozen=True, slots=True)
class Reading:
    """What one record gave: its events, or why it gave none (`malformed`: damaged; `ignored`: not an event)."""

    events: tuple[DeliveryEvent, ...] = ()
    malformed: str | None = None
    ignored: str | None = None


@dataclass(frozen=True, slots=True)
class Unparsed:
    """A stand-in for text that is not a JSON document (a file's bad line): read as malformed with `reason`."""

    reason: str
