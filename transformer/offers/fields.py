"""The invocation's fields offers mode reads — each endpoint's `ChannelType` and `User.UserId`, the event's
`ScheduledTime` — read from whatever JSON value they hold: a value of the wrong type, or out of range, reads as
absent. Nothing else in offers mode looks at these fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from transformer.items import encodable

SCHEDULED_TIME = "ScheduledTime"
MAX_USER_ID_LENGTH = 256
"""Amazon Personalize's limit on a userId."""


def channel_type(endpoint: Mapping[str, Any]) -> str | None:
    """The endpoint's `ChannelType` when it is a string (an offer restricted to channels never matches None)."""
    value = endpoint.get("ChannelType")
    return value if isinstance(value, str) else None


def user_id(endpoint: Mapping[str, Any]) -> str | None:
    """The endpoint's `User.UserId` when it is a usable user id: a non-empty string of at most 256 characters that
    UTF-8 can encode (what Personalize takes as a userId)."""
    user = endpoint.get("User")
    value = user.get("UserId") if isinstance(user, Mapping) else None
    return value if is_user_id(value) else None


def is_user_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_USER_ID_LENGTH and encodable(value)


@dataclass(frozen=True, slots=True)
class SendTime:
    at: datetime
    """In UTC."""
    ignored: bool = False
    """The event had a `ScheduledTime` that is not a usable timestamp, so `at` is the current time."""


def send_time(event: object, now: datetime) -> SendTime:
    """The event's `ScheduledTime` in UTC when present and usable, else `now`.

    Pinpoint does not document this key for the transformer event, so it is optional; a timestamp without an
    offset is read as UTC, the zone Pinpoint writes its timestamps in. A timestamp that parses but has no UTC
    equivalent (`9999-12-31T23:59:59-01:00`) is not usable.
    """
    now = now.astimezone(UTC)
    value = event.get(SCHEDULED_TIME) if isinstance(event, Mapping) else None
    if value is None:
        return SendTime(now)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            return SendTime(parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC))
        except (ValueError, OverflowError):
            pass
    return SendTime(now, ignored=True)
