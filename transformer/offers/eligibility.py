"""Which offers an endpoint may receive at the send time. Checked before any scoring."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from transformer.offers.model import Offer


class Exclusion(StrEnum):
    """Why an offer is not a candidate for an endpoint."""

    UNKNOWN = "unknown"
    """The id is not in the offer catalog."""
    INVALID_ID = "invalid_id"
    """The entry of `RecommendationItems` is not an item id (`transformer.items.is_item_id`)."""
    INVALID = "invalid"
    """The item store holds the id but the record is not a valid offer (no code, no preference, a damaged
    document, ...)."""
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    CHANNEL = "channel"
    """The offer is restricted to other channels than the endpoint's ChannelType."""


def exclusion_of(offer: Offer, send_time: datetime, channel: str | None) -> Exclusion | None:
    """None when `offer` may be sent at `send_time` on `channel` (None: the endpoint has no usable ChannelType);
    otherwise the reason it may not.

    An offer is live from `starts_at` (inclusive) until `expires_at` (exclusive).
    """
    if offer.starts_at is not None and send_time < offer.starts_at:
        return Exclusion.NOT_STARTED
    if offer.expires_at is not None and send_time >= offer.expires_at:
        return Exclusion.EXPIRED
    if offer.channels is not None and channel not in offer.channels:
        return Exclusion.CHANNEL
    return None
