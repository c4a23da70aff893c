"""Whether one endpoint is in a segment, with Pinpoint's meaning of each dimension.

- Attributes / UserAttributes (an endpoint's values are a list): INCLUSIVE, one of its values is one of the
  criterion's; EXCLUSIVE, none is (an endpoint without the attribute is included); CONTAINS, one of its values holds
  one of the criterion's as a substring; BEFORE / AFTER / ON / BETWEEN, one of its values read as an ISO-8601
  instant is before / after / on the same UTC day as / between (both ends included) the criterion's. Values are
  compared case-sensitively; a value that is not an instant matches no date criterion.
- Metrics: the endpoint's number compared with `ComparisonOperator`; no such metric, no match.
- Demographic (Channel is the endpoint's ChannelType) and Location.Country: INCLUSIVE, the value is one of
  Values; EXCLUSIVE, it is not (an endpoint without the field is included).
- Location.GPSPoint: the endpoint's Latitude/Longitude within RangeInKilometers (great-circle distance).
- Behavior.Recency: the export holds no sessions, so activity is the endpoint's EffectiveDate (when it was last
  updated): ACTIVE, within the duration before `now`; INACTIVE, not (no EffectiveDate: inactive).
- Within one SegmentDimensions every criterion must hold; a group's dimensions combine by its Type, its base
  segments by SourceType (no base segment: every endpoint), the groups by Include; top-level Dimensions and the
  groups must both hold.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from campaign_tools.segments.definition import (
    AttributeCriterion,
    AttributeType,
    Combine,
    Dimensions,
    Group,
    MetricCriterion,
    SegmentDefinition,
    SetCriterion,
    parse_instant,
)
from transformer.errors import PinrecError

EARTH_RADIUS_KM = 6371.0088


def combine(how: Combine, results: list[bool]) -> bool:
    if how is Combine.ALL:
        return all(results)
    if how is Combine.ANY:
        return any(results) if results else True
    return not any(results)


def _values(container: object, name: str) -> list[str]:
    found = container.get(name) if isinstance(container, Mapping) else None
    return [value for value in found if isinstance(value, str)] if isinstance(found, list) else []


_DATE_TESTS: dict[AttributeType, Callable[[datetime, tuple[datetime, ...]], bool]] = {
    AttributeType.BEFORE: lambda instant, wanted: instant < wanted[0],
    AttributeType.AFTER: lambda instant, wanted: instant > wanted[0],
    AttributeType.ON: lambda instant, wanted: instant.date() == wanted[0].date(),
    AttributeType.BETWEEN: lambda instant, wanted: wanted[0] <= instant <= wanted[1],
}


def attribute_matches(criterion: AttributeCriterion, values: list[str]) -> bool:
    kind = criterion.kind
    if kind is AttributeType.INCLUSIVE:
        return any(value in criterion.values for value in values)
    if kind is AttributeType.EXCLUSIVE:
        return not any(value in criterion.values for value in values)
    if kind is AttributeType.CONTAINS:
        return any(wanted in value for value in values for wanted in criterion.values)
    test = _DATE_TESTS[kind]
    return any(test(instant, criterion.instants) for instant in map(parse_instant, values) if instant is not None)


def metric_matches(criterion: MetricCriterion, value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    match criterion.operator:
        case "EQUAL":
            return value == criterion.value
        case "GREATER_THAN":
            return value > criterion.value
        case "GREATER_THAN_OR_EQUAL":
            return value >= criterion.value
        case "LESS_THAN":
            return value < criterion.value
    return value <= criterion.value


def set_matches(criterion: SetCriterion, value: object) -> bool:
    present = isinstance(value, str) and value in criterion.values
    return present if criterion.inclusive else not present


def distance_km(latitude: float, longitude: float, other_latitude: float, other_longitude: float) -> float:
    phi1, phi2 = math.radians(latitude), math.radians(other_latitude)
    d_phi = phi2 - phi1
    d_lambda = math.radians(other_longitude - longitude)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


@dataclass
class Evaluator:
    """Decides membership of `definition` for one endpoint at a time; `sources` are the segments its groups
    build on: dimensional definitions (evaluated on the same endpoint) or imported ones (a set of endpoint ids)."""

    definition: SegmentDefinition
    now: datetime
    definitions: Mapping[str, SegmentDefinition] = field(default_factory=dict)
    imported: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.check_sources()

    def check_sources(self) -> None:
        """Every base segment known and no cycle; PinrecError naming each that is not, before anything is read."""
        problems: list[str] = []
        seen: set[str] = set()

        def visit(definition: SegmentDefinition, path: tuple[str, ...]) -> None:
            for source in definition.source_ids():
                if source in path:
                    problems.append(f"base segment {source} refers back to itself ({' -> '.join((*path, source))})")
                elif source in self.imported:
                    continue
                elif source in self.definitions:
                    if self.definitions[source].imported:
                        problems.append(f"base segment {source} is imported: give its endpoints (--imported)")
                    elif source not in seen:
                        seen.add(source)
                        visit(self.definitions[source], (*path, source))
                else:
                    problems.append(
                        f"base segment {source} is unknown: give its definition (--source) or, if imported, its "
                        "endpoints (--imported ID=FILE)"
                    )

        visit(self.definition, (self.definition.segment_id or self.definition.label,))
        if problems:
            raise PinrecError(f"{self.definition.label}: " + "; ".join(dict.fromkeys(problems)))

    def matches(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> bool:
        return self._segment(self.definition, endpoint_id, endpoint)

    def _segment(self, definition: SegmentDefinition, endpoint_id: str, endpoint: Mapping[str, Any]) -> bool:
        if definition.imported:
            members = self.imported.get(definition.segment_id or "")
            return members is None or endpoint_id in members
        if definition.dimensions is not None and not self.dimensions(definition.dimensions, endpoint):
            return False
        if not definition.groups:
            return True
        return combine(definition.include, [self._group(group, endpoint_id, endpoint) for group in definition.groups])

    def _source(self, segment_id: str, endpoint_id: str, endpoint: Mapping[str, Any]) -> bool:
        if segment_id in self.imported:
            return endpoint_id in self.imported[segment_id]
        return self._segment(self.definitions[segment_id], endpoint_id, endpoint)

    def _group(self, group: Group, endpoint_id: str, endpoint: Mapping[str, Any]) -> bool:
        if group.sources:
            base = [self._source(source.segment_id, endpoint_id, endpoint) for source in group.sources]
            if not combine(group.source_type, base):
                return False
        if not group.dimensions:
            return True
        return combine(group.dimension_type, [self.dimensions(item, endpoint) for item in group.dimensions])

    def dimensions(self, dimensions: Dimensions, endpoint: Mapping[str, Any]) -> bool:
        return (
            self._attributes_hold(dimensions, endpoint)
            and self._demographic_holds(dimensions, endpoint)
            and self._location_holds(dimensions, endpoint)
            and self._recency_holds(dimensions, endpoint)
        )

    @staticmethod
    def _attributes_hold(dimensions: Dimensions, endpoint: Mapping[str, Any]) -> bool:
        attributes = endpoint.get("Attributes")
        if not all(attribute_matches(wanted, _values(attributes, name)) for name, wanted in dimensions.attributes):
            return False
        user = endpoint.get("User")
        user_attributes = user.get("UserAttributes") if isinstance(user, Mapping) else None
        if not all(
            attribute_matches(wanted, _values(user_attributes, name)) for name, wanted in dimensions.user_attributes
        ):
            return False
        metrics = endpoint.get("Metrics")
        metrics = metrics if isinstance(metrics, Mapping) else {}
        return all(metric_matches(wanted, metrics.get(name)) for name, wanted in dimensions.metrics)

    @staticmethod
    def _demographic_holds(dimensions: Dimensions, endpoint: Mapping[str, Any]) -> bool:
        demographic = endpoint.get("Demographic")
        demographic = demographic if isinstance(demographic, Mapping) else {}
        return all(
            set_matches(wanted, endpoint.get("ChannelType") if name == "Channel" else demographic.get(name))
            for name, wanted in dimensions.demographic
        )

    @staticmethod
    def _location_holds(dimensions: Dimensions, endpoint: Mapping[str, Any]) -> bool:
        location = endpoint.get("Location")
        location = location if isinstance(location, Mapping) else {}
        if dimensions.country is not None and not set_matches(dimensions.country, location.get("Country")):
            return False
        gps = dimensions.gps
        if gps is None:
            return True
        latitude, longitude = _number(location.get("Latitude")), _number(location.get("Longitude"))
        if latitude is None or longitude is None:
            return False
        return distance_km(gps.latitude, gps.longitude, latitude, longitude) <= gps.range_km

    def _recency_holds(self, dimensions: Dimensions, endpoint: Mapping[str, Any]) -> bool:
        if dimensions.recency is None:
            return True
        effective = endpoint.get("EffectiveDate")
        instant = parse_instant(effective) if isinstance(effective, str) else None
        active = instant is not None and self.now - instant <= timedelta(hours=dimensions.recency.hours)
        return active == dimensions.recency.active
