"""Which offers an endpoint may receive at the send time. Checked before any scoring."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from transformer.offers.model import Offer

SCHEDULED_TIME = "ScheduledTime"


class Exclusion(StrEnum):
    """Why an offer is not a candidate for an endpoint."""

    UNKNOWN = "unknown"
    """The id is not in the offer catalog."""
    INVALID = "invalid"
    """The item store holds the id but the record is not a valid offer (no code, no preference, ...)."""
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    CHANNEL = "channel"
    """The offer is restricted to other channels than the endpoint's ChannelType."""


def exclusion_of(offer: Offer, send_time: datetime, channel: object) -> Exclusion | None:
    """None when `offer` may be sent at `send_time` on `channel`; otherwise the reason it may not.

    An offer is live from `starts_at` (inclusive) until `expires_at` (exclusive).
    """
    if offer.starts_at is not None and send_time < offer.starts_at:
        return Exclusion.NOT_STARTED
    if offer.expires_at is not None and send_time >= offer.expires_at:
        return Exclusion.EXPIRED
    if offer.channels is not None and channel not in offer.channels:
        return Exclusion.CHANNEL
    return None


def send_time_of(event: Mapping[str, Any], now: datetime) -> datetime:
    """The event's `ScheduledTime` when present and parseable, else `now`.

    Pinpoint does not document this key for the transformer event, so it is optional; a timestamp without an
    offset is read as UTC, the zone Pinpoint writes its timestamps in.
    """
    value = event.get(SCHEDULED_TIME)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return now
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return now
