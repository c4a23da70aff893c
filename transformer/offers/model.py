"""The offer record: validated once, projected onto the configured attributes once."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from transformer.attributes import AttributeRenderer, ItemProjector, ItemValues, Unrenderable
from transformer.offers.errors import InvalidOfferError

if TYPE_CHECKING:
    from transformer.config import AttributeConfig

CHANNEL_TYPES = frozenset(
    {
        "PUSH",
        "GCM",
        "APNS",
        "APNS_SANDBOX",
        "APNS_VOIP",
        "APNS_VOIP_SANDBOX",
        "ADM",
        "SMS",
        "VOICE",
        "EMAIL",
        "BAIDU",
        "CUSTOM",
        "IN_APP",
    }
)
"""Pinpoint's ChannelType values (botocore pinpoint model)."""

MAX_OFFER_ID_LENGTH = 100
"""Pinpoint's limit for a value retrieved from Personalize (an item id)."""

REQUIRED_TEXT_FIELDS = ("title", "description", "code")


@dataclass(frozen=True, slots=True)
class Offer:
    id: str
    preference: float
    starts_at: datetime | None
    expires_at: datetime | None
    channels: frozenset[str] | None
    """None: every channel; otherwise the Pinpoint ChannelType values the offer may be sent on."""
    values: ItemValues
    """The configured attributes' values for this offer, in configuration order."""


def parse_timestamp(value: object, name: str) -> datetime | None:
    """An ISO 8601 timestamp with a UTC offset. Naive timestamps are rejected: '09:00' in which time zone?"""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidOfferError(f"{name} must be an ISO 8601 string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidOfferError(f"{name} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidOfferError(f"{name} has no time zone (add 'Z' or an offset such as '+01:00')")
    return parsed


def _preference(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidOfferError(f"preference must be a number, got {type(value).__name__}")
    preference = float(value)
    if not math.isfinite(preference) or preference <= 0:
        raise InvalidOfferError("preference must be a finite number greater than 0")
    return preference


def _channels(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise InvalidOfferError("channels must be a non-empty list of Pinpoint channel types")
    unknown = [channel for channel in value if not isinstance(channel, str) or channel not in CHANNEL_TYPES]
    if unknown:
        raise InvalidOfferError(
            f"channels holds {len(unknown)} unknown channel type(s); use {', '.join(sorted(CHANNEL_TYPES))}"
        )
    return frozenset(value)


def _offer_id(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise InvalidOfferError("id must be a non-empty string or an integer")
    if len(value) > MAX_OFFER_ID_LENGTH:
        raise InvalidOfferError(f"id must be at most {MAX_OFFER_ID_LENGTH} characters")
    return value


class OfferProjector:
    """The `[attributes.*]` tables applied to offers: an ItemProjector that names the attribute that fails."""

    def __init__(self, attributes: Mapping[str, AttributeConfig]) -> None:
        self._projector = ItemProjector(attributes)
        self._renderers = [AttributeRenderer(name, spec) for name, spec in attributes.items()]
        self.names = self._projector.names

    def project(self, document: Mapping[str, Any]) -> ItemValues:
        values = self._projector.project(document)
        if values is not None:
            return values
        failing = []
        for renderer in self._renderers:
            try:
                renderer.render(document)
            except Unrenderable as problem:
                failing.append(f"{renderer.name} ({problem})")
        raise InvalidOfferError(f"attribute {'; '.join(failing)} has no value for this offer and no default")


def parse_offer(document: Mapping[str, Any], projector: OfferProjector) -> Offer:
    """Validate one offer document and project it; raise InvalidOfferError naming the field and the rule.

    A code is required: an offer without one is never mailed with an invented code.
    """
    offer_id = _offer_id(document.get("id"))
    for name in REQUIRED_TEXT_FIELDS:
        text = document.get(name)
        if not isinstance(text, str) or not text.strip():
            raise InvalidOfferError(f"{name} must be a non-empty string")
    if "preference" not in document:
        raise InvalidOfferError("preference is required (a number greater than 0)")
    preference = _preference(document["preference"])
    starts_at = parse_timestamp(document.get("starts_at"), "starts_at")
    expires_at = parse_timestamp(document.get("expires_at"), "expires_at")
    if starts_at is not None and expires_at is not None and expires_at <= starts_at:
        raise InvalidOfferError("expires_at must be later than starts_at")
    channels = _channels(document.get("channels"))
    values = projector.project({**document, "id": offer_id})
    return Offer(offer_id, preference, starts_at, expires_at, channels, values)
