"""What every recommendation source provides: per endpoint, 1 to `per_message` item ids, or why it has none.

Ids are looked up by the endpoint id or by the endpoint's `User.UserId`, per the id type (Pinpoint's
`RecommendationProviderIdType`: PINPOINT_ENDPOINT_ID or PINPOINT_USER_ID).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from campaign_tools.send.segments import SegmentEndpoint
from transformer.errors import PinrecError
from transformer.items import is_item_id
from transformer.limits import MAX_ITEMS_PER_MESSAGE, MIN_ITEMS_PER_MESSAGE


class IdType(StrEnum):
    ENDPOINT = "endpoint"
    USER = "user"


class RecommendationError(PinrecError):
    """The recommendation source is unusable as a whole (not found, no access, malformed file)."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """Per endpoint id: the item ids (1..per_message) or, when there are none, the reason."""

    items: dict[str, list[str]]
    missing: dict[str, str]


class RecommendationSource(Protocol):
    def lookup(self, endpoints: Sequence[SegmentEndpoint]) -> Lookup: ...

    def describe(self) -> str: ...

    def report(self) -> list[str]:
        """Lines for the run summary: what the source read or called (counts only)."""
        ...


@dataclass(frozen=True)
class SourceOptions:
    """What every source is opened with, besides its target."""

    id_type: IdType = IdType.ENDPOINT
    per_message: int = MAX_ITEMS_PER_MESSAGE
    filter_arn: str | None = None
    filter_values: Mapping[str, str] = field(default_factory=dict)
    concurrency: int = 8


@dataclass(frozen=True)
class SourceKind:
    """How `--recommendations KIND[:TARGET]` opens one kind of source."""

    kind: str
    usage: str
    """e.g. file:PATH"""
    open: Callable[[str, SourceOptions, Callable[[str], Any]], RecommendationSource]
    """(target, options, AWS client factory) -> the source."""
    needs_target: bool = True


def recommendation_key(segment_endpoint: SegmentEndpoint, id_type: IdType) -> str | None:
    if id_type is IdType.ENDPOINT:
        return segment_endpoint.endpoint_id
    user = segment_endpoint.endpoint.get("User")
    user_id = user.get("UserId") if isinstance(user, Mapping) else None
    return user_id if isinstance(user_id, str) and user_id else None


def check_per_message(per_message: int) -> int:
    if not MIN_ITEMS_PER_MESSAGE <= per_message <= MAX_ITEMS_PER_MESSAGE:
        raise PinrecError(
            f"--per-message must be {MIN_ITEMS_PER_MESSAGE} to {MAX_ITEMS_PER_MESSAGE} (Pinpoint's "
            f"RecommendationsPerMessage), got {per_message}"
        )
    return per_message


def usable_items(values: object, per_message: int) -> list[str]:
    """The first `per_message` item ids (`transformer.items.is_item_id`: the transformer's own rule), first of
    repeats; others are left out."""
    if not isinstance(values, list):
        return []
    unique = dict.fromkeys(value for value in values if is_item_id(value))
    return list(unique)[:per_message]
