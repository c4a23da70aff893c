"""The correlation tags a send sets on each message, so that its delivery events name their campaign and endpoint
even when the provider's message id never reached the ledger (a run killed between delivering and recording).

SES message-tag values allow only ASCII letters, digits, `_` and `-` (at most 256 characters): ids are encoded as
URL-safe base64 without padding, whose alphabet is exactly that. End User Messaging `Context` values carry them the
same way, so one decoder serves every channel."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

CAMPAIGN_TAG = "pinrec-campaign"
ENDPOINT_TAG = "pinrec-endpoint"
MAX_TAG_VALUE = 256


def encode_tag(value: str) -> str | None:
    """The tag value for an id, or None when the id is too long to fit one (the message then carries no tag and is
    correlated by its message id only)."""
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no tag can carry it
        return None
    encoded = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return encoded if 0 < len(encoded) <= MAX_TAG_VALUE else None


def decode_tag(value: object) -> str | None:
    """The id a tag value encodes, or None for anything that is not one of ours (any JSON value may arrive)."""
    if isinstance(value, list) and len(value) == 1:  # SES event JSON gives each tag as a list of values
        value = value[0]
    if not isinstance(value, str) or not value or len(value) > MAX_TAG_VALUE:
        return None
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return text if text and encode_tag(text) == value else None


def message_tags(campaign_id: str, endpoint_id: str) -> dict[str, str]:
    """The tags to set on one message: both, or none when either id cannot be encoded."""
    campaign, endpoint = encode_tag(campaign_id), encode_tag(endpoint_id)
    if campaign is None or endpoint is None:
        return {}
    return {CAMPAIGN_TAG: campaign, ENDPOINT_TAG: endpoint}


def correlation(tags: Mapping[str, object]) -> tuple[str, str] | None:
    """(campaign id, endpoint id) from a message's tags, or None unless both are present and valid."""
    campaign, endpoint = decode_tag(tags.get(CAMPAIGN_TAG)), decode_tag(tags.get(ENDPOINT_TAG))
    return (campaign, endpoint) if campaign is not None and endpoint is not None else None
