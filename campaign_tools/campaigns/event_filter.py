"""Which app events trigger an event campaign: Pinpoint's `CampaignEventFilter` and `EventDimensions`, and the event
JSON pinrec accepts.

An event is one JSON object. Keys in snake_case or as Pinpoint's `Event` spells them (both are read):
- `endpoint_id` / `EndpointId` and `user_id` / `UserId`: whom it is about (at least one);
- `event_type` / `EventType`: the event's name, e.g. `_custom.cart_abandoned`, `_session.start`;
- `timestamp` / `Timestamp`: ISO 8601 with an offset (or `Z`), or epoch milliseconds as Pinpoint's event streams
  write `event_timestamp`;
- `attributes` / `Attributes`: name -> string (a list of strings matches when any of them does);
- `metrics` / `Metrics`: name -> number.
Any other JSON value is tolerated: it is refused with a reason (`InvalidEvent.reason`), never raised.

Matching, as Pinpoint documents its dimensions (every given dimension must match):
- `filter_type`: ENDPOINT matches every event reported for an endpoint; SYSTEM only Pinpoint's own events, whose
  names start with `_` (`_email.delivered`, `_session.start`).
- `event_type` (SetDimension): INCLUSIVE when the event type is one of `values`, EXCLUSIVE when it is none of them.
- `attributes.NAME` (AttributeDimension): INCLUSIVE equals one of `values`; EXCLUSIVE equals none of them (an event
  without the attribute matches); CONTAINS has one of `values` as a substring; BEFORE / AFTER / ON / BETWEEN read
  the attribute and the values as ISO 8601 instants (no offset: UTC): before `values[0]`, after it, on its UTC date,
  or between `values[0]` and `values[1]` inclusive. Comparisons are exact (case-sensitive).
- `metrics.NAME` (MetricDimension): the event's metric compared with `value` by `comparison_operator` (GREATER_THAN,
  LESS_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN_OR_EQUAL, EQUAL); an event without the metric does not match.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, Field, model_validator

from campaign_tools.campaigns.table import Table, upper

SetType = Literal["INCLUSIVE", "EXCLUSIVE"]
AttributeType = Literal["INCLUSIVE", "EXCLUSIVE", "CONTAINS", "BEFORE", "AFTER", "ON", "BETWEEN"]
Operator = Literal["GREATER_THAN", "LESS_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN_OR_EQUAL", "EQUAL"]
DATE_TYPES = {"BEFORE": 1, "AFTER": 1, "ON": 1, "BETWEEN": 2}
"""The attribute types that compare instants, and how many values each takes."""
SYSTEM_PREFIX = "_"
MAX_EVENT_TYPE = 256


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 instant (naive: UTC), or None."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SetDimension(Table):
    dimension_type: Annotated[SetType, BeforeValidator(upper)] = "INCLUSIVE"
    values: tuple[str, ...] = Field(min_length=1)


class AttributeDimension(Table):
    attribute_type: Annotated[AttributeType, BeforeValidator(upper)] = "INCLUSIVE"
    values: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _instants(self) -> Self:
        wanted = DATE_TYPES.get(self.attribute_type)
        if wanted is None:
            return self
        if len(self.values) != wanted:
            raise ValueError(f"{self.attribute_type} takes {wanted} value{'s' if wanted > 1 else ''}")
        if any(parse_instant(value) is None for value in self.values):
            raise ValueError(f"{self.attribute_type} values must be ISO 8601 instants, e.g. 2027-03-01T00:00:00Z")
        return self


class MetricDimension(Table):
    comparison_operator: Annotated[Operator, BeforeValidator(upper)]
    value: float = Field(allow_inf_nan=False)


class EventFilter(Table):
    """Pinpoint's CampaignEventFilter: FilterType and Dimensions (EventType, Attributes, Metrics)."""

    filter_type: Annotated[Literal["ENDPOINT", "SYSTEM"], BeforeValidator(upper)] = "ENDPOINT"
    event_type: SetDimension
    attributes: dict[str, AttributeDimension] = Field(default_factory=dict)
    metrics: dict[str, MetricDimension] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AppEvent:
    event_type: str
    timestamp: datetime
    endpoint_id: str | None = None
    user_id: str | None = None
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InvalidEvent:
    reason: str
    """not_an_object, no_recipient, no_event_type, invalid_timestamp, invalid_attributes, invalid_metrics."""


def _get(record: Mapping[str, object], snake: str, pascal: str) -> object:
    return record[snake] if snake in record else record.get(pascal)


def _identifier(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() and len(value) <= 1024 else None


def _timestamp(value: object) -> datetime | None:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _attributes(value: object) -> dict[str, tuple[str, ...]] | None:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        return None
    found: dict[str, tuple[str, ...]] = {}
    for name, item in value.items():
        if isinstance(item, str):
            found[name] = (item,)
        elif isinstance(item, list) and all(isinstance(part, str) for part in item):
            found[name] = tuple(item)
        else:
            return None
    return found


def _metrics(value: object) -> dict[str, float] | None:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        return None
    found: dict[str, float] = {}
    for name, item in value.items():
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            return None
        found[name] = float(item)
    return found


def parse_event(record: object) -> AppEvent | InvalidEvent:
    """The event in `record` (any JSON value), or why it is not one."""
    if not isinstance(record, Mapping):
        return InvalidEvent("not_an_object")
    endpoint_id = _identifier(_get(record, "endpoint_id", "EndpointId"))
    user_id = _identifier(_get(record, "user_id", "UserId"))
    event_type = _get(record, "event_type", "EventType")
    timestamp = _timestamp(_get(record, "timestamp", "Timestamp"))
    attributes = _attributes(_get(record, "attributes", "Attributes"))
    metrics = _metrics(_get(record, "metrics", "Metrics"))
    problems = (
        (endpoint_id is None and user_id is None, "no_recipient"),
        (not isinstance(event_type, str) or not event_type or len(event_type) > MAX_EVENT_TYPE, "no_event_type"),
        (timestamp is None, "invalid_timestamp"),
        (attributes is None, "invalid_attributes"),
        (metrics is None, "invalid_metrics"),
    )
    reason = next((reason for broken, reason in problems if broken), None)
    if reason is not None or not isinstance(event_type, str) or timestamp is None:
        return InvalidEvent(reason or "no_event_type")
    return AppEvent(event_type, timestamp, endpoint_id, user_id, attributes or {}, metrics or {})


@dataclass(frozen=True, slots=True)
class Match:
    matched: bool
    reason: str | None = None
    """Why not: filter_type, event_type, attributes or metrics (no event data in it)."""


MATCHED = Match(True)


def _set_matches(dimension: SetDimension, value: str) -> bool:
    return (value in dimension.values) == (dimension.dimension_type == "INCLUSIVE")


def _instant_matches(dimension: AttributeDimension, values: tuple[str, ...]) -> bool:
    bounds = [parse_instant(value) for value in dimension.values]
    for text in values:
        instant = parse_instant(text)
        if instant is None or bounds[0] is None:
            continue
        kind = dimension.attribute_type
        if (
            (kind == "BEFORE" and instant < bounds[0])
            or (kind == "AFTER" and instant > bounds[0])
            or (kind == "ON" and instant.date() == bounds[0].date())
            or (kind == "BETWEEN" and bounds[1] is not None and bounds[0] <= instant <= bounds[1])
        ):
            return True
    return False


def attribute_matches(dimension: AttributeDimension, values: tuple[str, ...] | None) -> bool:
    kind = dimension.attribute_type
    if kind == "EXCLUSIVE":
        return not values or not any(value in dimension.values for value in values)
    if not values:
        return False
    if kind == "INCLUSIVE":
        return any(value in dimension.values for value in values)
    if kind == "CONTAINS":
        return any(wanted in value for value in values for wanted in dimension.values)
    return _instant_matches(dimension, values)


def metric_matches(dimension: MetricDimension, value: float | None) -> bool:
    if value is None:
        return False
    target = dimension.value
    match dimension.comparison_operator:
        case "GREATER_THAN":
            return value > target
        case "LESS_THAN":
            return value < target
        case "GREATER_THAN_OR_EQUAL":
            return value >= target
        case "LESS_THAN_OR_EQUAL":
            return value <= target
    return value == target


def matches(event_filter: EventFilter, event: AppEvent) -> Match:
    """Whether `event` triggers the campaign, and the first dimension that does not match."""
    if event_filter.filter_type == "SYSTEM" and not event.event_type.startswith(SYSTEM_PREFIX):
        return Match(False, "filter_type")
    if not _set_matches(event_filter.event_type, event.event_type):
        return Match(False, "event_type")
    for name, attribute in event_filter.attributes.items():
        if not attribute_matches(attribute, event.attributes.get(name)):
            return Match(False, "attributes")
    for name, metric in event_filter.metrics.items():
        if not metric_matches(metric, event.metrics.get(name)):
            return Match(False, "metrics")
    return MATCHED
