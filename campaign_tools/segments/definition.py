"""A Pinpoint segment definition, parsed and checked: the `SegmentResponse` (`aws pinpoint get-segment(s)` output,
bare or wrapped in `{"SegmentResponse": ...}`) or `WriteSegmentRequest` shapes of botocore's pinpoint model.

Everything pinrec cannot evaluate with Pinpoint's meaning is refused here, every problem at once and named by its
place in the definition, before a single endpoint is read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from transformer.errors import PinrecError

SEGMENT_METADATA = frozenset(
    {"ApplicationId", "Arn", "CreationDate", "Id", "LastModifiedDate", "Name", "SegmentType", "Version", "tags"}
)
"""Top-level keys that describe a segment without deciding who is in it."""
DIMENSION_KEYS = ("Attributes", "Behavior", "Demographic", "Location", "Metrics", "UserAttributes")
DEMOGRAPHIC_FIELDS = ("AppVersion", "Channel", "DeviceType", "Make", "Model", "Platform")
DEFAULT_RANGE_KM = 100.0
"""GPSPointDimension.RangeInKilometers when it is not given (Pinpoint's documented default)."""
RECENCY_HOURS = {"HR_24": 24, "DAY_7": 7 * 24, "DAY_14": 14 * 24, "DAY_30": 30 * 24}
METRIC_OPERATORS = ("EQUAL", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL")


class DefinitionError(PinrecError):
    """The definition cannot be evaluated; the message lists every problem, each with its place."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{where}: cannot be evaluated:\n" + "\n".join(f"  - {problem}" for problem in problems))


class AttributeType(StrEnum):
    INCLUSIVE = "INCLUSIVE"
    EXCLUSIVE = "EXCLUSIVE"
    CONTAINS = "CONTAINS"
    BEFORE = "BEFORE"
    AFTER = "AFTER"
    ON = "ON"
    BETWEEN = "BETWEEN"


DATE_TYPES = frozenset({AttributeType.BEFORE, AttributeType.AFTER, AttributeType.ON, AttributeType.BETWEEN})
DATE_VALUE_COUNT = {AttributeType.BEFORE: 1, AttributeType.AFTER: 1, AttributeType.ON: 1, AttributeType.BETWEEN: 2}


class Combine(StrEnum):
    """How several parts combine: Include of a group list, Type of a group's dimensions, SourceType."""

    ALL = "ALL"
    ANY = "ANY"
    NONE = "NONE"


@dataclass(frozen=True)
class AttributeCriterion:
    kind: AttributeType
    values: tuple[str, ...]
    instants: tuple[datetime, ...] = ()
    """The values read as instants (UTC), for the date types."""


@dataclass(frozen=True)
class MetricCriterion:
    operator: str
    value: float


@dataclass(frozen=True)
class SetCriterion:
    inclusive: bool
    values: frozenset[str]


@dataclass(frozen=True)
class GpsCriterion:
    latitude: float
    longitude: float
    range_km: float


@dataclass(frozen=True)
class RecencyCriterion:
    active: bool
    hours: int


@dataclass(frozen=True)
class Dimensions:
    """One `SegmentDimensions`: every criterion it holds must hold (they are ANDed)."""

    attributes: tuple[tuple[str, AttributeCriterion], ...] = ()
    user_attributes: tuple[tuple[str, AttributeCriterion], ...] = ()
    metrics: tuple[tuple[str, MetricCriterion], ...] = ()
    demographic: tuple[tuple[str, SetCriterion], ...] = ()
    country: SetCriterion | None = None
    gps: GpsCriterion | None = None
    recency: RecencyCriterion | None = None

    @property
    def uses_recency(self) -> bool:
        return self.recency is not None


@dataclass(frozen=True)
class SourceRef:
    segment_id: str
    version: int | None = None


@dataclass(frozen=True)
class Group:
    """One `SegmentGroup`: base segments (SourceSegments, combined by SourceType; none: every endpoint) filtered by
    its dimensions (combined by Type)."""

    dimensions: tuple[Dimensions, ...] = ()
    dimension_type: Combine = Combine.ALL
    sources: tuple[SourceRef, ...] = ()
    source_type: Combine = Combine.ALL


@dataclass(frozen=True)
class SegmentDefinition:
    segment_id: str | None
    name: str | None
    imported: bool
    dimensions: Dimensions | None = None
    groups: tuple[Group, ...] = ()
    include: Combine = Combine.ALL
    import_definition: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or self.segment_id or "segment"

    def source_ids(self) -> list[str]:
        return list(dict.fromkeys(source.segment_id for group in self.groups for source in group.sources))

    def uses_recency(self) -> bool:
        dimensions = [self.dimensions] if self.dimensions else []
        dimensions += [item for group in self.groups for item in group.dimensions]
        return any(item.uses_recency for item in dimensions)


def parse_instant(text: str) -> datetime | None:
    """An ISO-8601 instant (ISO_INSTANT, or with an offset, or a date alone: midnight), in UTC; None if it is not."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Parser:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def mapping(self, value: object, where: str) -> Mapping[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.problem(where, "must be an object")
            return None
        return value

    def unknown_keys(self, value: Mapping[str, Any], known: tuple[str, ...] | frozenset[str], where: str) -> None:
        for key in value:
            if key not in known:
                self.problem(f"{where}.{key}" if where else key, f"not supported (known here: {', '.join(known)})")

    def choice(self, value: object, choices: tuple[str, ...], where: str, default: str | None = None) -> str | None:
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or value not in choices:
            self.problem(where, f"must be one of {', '.join(choices)}, got {json.dumps(value)}")
            return None
        return value

    def strings(self, value: object, where: str) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problem(where, "must be a list of strings")
            return None
        return tuple(value)

    def number(self, value: object, where: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.problem(where, f"must be a finite number, got {json.dumps(value)}")
            return None
        return float(value)

    def attribute_map(self, value: object, where: str) -> tuple[tuple[str, AttributeCriterion], ...]:
        found = self.mapping(value, where)
        criteria: list[tuple[str, AttributeCriterion]] = []
        for name, dimension in (found or {}).items():
            place = f"{where}.{name}"
            body = self.mapping(dimension, place)
            if body is None:
                continue
            self.unknown_keys(body, ("AttributeType", "Values"), place)
            kind = self.choice(body.get("AttributeType"), tuple(AttributeType), f"{place}.AttributeType", "INCLUSIVE")
            values = self.strings(body.get("Values"), f"{place}.Values")
            if kind is None or values is None:
                continue
            criterion: AttributeCriterion | None = AttributeCriterion(AttributeType(kind), values)
            if AttributeType(kind) in DATE_TYPES:
                criterion = self._dates(AttributeCriterion(AttributeType(kind), values), place)
            if criterion is not None:
                criteria.append((name, criterion))
        return tuple(criteria)

    def _dates(self, criterion: AttributeCriterion, where: str) -> AttributeCriterion | None:
        wanted = DATE_VALUE_COUNT[criterion.kind]
        if len(criterion.values) != wanted:
            self.problem(f"{where}.Values", f"{criterion.kind} takes {wanted} value(s), got {len(criterion.values)}")
            return None
        instants = [parse_instant(value) for value in criterion.values]
        if any(instant is None for instant in instants):
            self.problem(f"{where}.Values", f"{criterion.kind} takes ISO-8601 instants such as 2026-01-31T00:00:00Z")
            return None
        return AttributeCriterion(criterion.kind, criterion.values, tuple(i for i in instants if i is not None))

    def set_dimension(self, value: object, where: str) -> SetCriterion | None:
        body = self.mapping(value, where)
        if body is None:
            return None
        self.unknown_keys(body, ("DimensionType", "Values"), where)
        kind = self.choice(body.get("DimensionType"), ("INCLUSIVE", "EXCLUSIVE"), f"{where}.DimensionType", "INCLUSIVE")
        values = self.strings(body.get("Values"), f"{where}.Values")
        if kind is None or values is None:
            return None
        return SetCriterion(kind == "INCLUSIVE", frozenset(values))

    def dimensions(self, value: object, where: str) -> Dimensions | None:
        body = self.mapping(value, where)
        if body is None:
            return None
        self.unknown_keys(body, DIMENSION_KEYS, where)
        metrics: list[tuple[str, MetricCriterion]] = []
        for name, metric in (self.mapping(body.get("Metrics"), f"{where}.Metrics") or {}).items():
            place = f"{where}.Metrics.{name}"
            found = self.mapping(metric, place)
            if found is None:
                continue
            self.unknown_keys(found, ("ComparisonOperator", "Value"), place)
            operator = self.choice(found.get("ComparisonOperator"), METRIC_OPERATORS, f"{place}.ComparisonOperator")
            number = self.number(found.get("Value"), f"{place}.Value")
            if operator is not None and number is not None:
                metrics.append((name, MetricCriterion(operator, number)))
        demographic: list[tuple[str, SetCriterion]] = []
        for name, dimension in (self.mapping(body.get("Demographic"), f"{where}.Demographic") or {}).items():
            if name not in DEMOGRAPHIC_FIELDS:
                self.problem(f"{where}.Demographic.{name}", f"not supported (known: {', '.join(DEMOGRAPHIC_FIELDS)})")
                continue
            criterion = self.set_dimension(dimension, f"{where}.Demographic.{name}")
            if criterion is not None:
                demographic.append((name, criterion))
        country, gps = self._location(body.get("Location"), f"{where}.Location")
        return Dimensions(
            attributes=self.attribute_map(body.get("Attributes"), f"{where}.Attributes"),
            user_attributes=self.attribute_map(body.get("UserAttributes"), f"{where}.UserAttributes"),
            metrics=tuple(metrics),
            demographic=tuple(demographic),
            country=country,
            gps=gps,
            recency=self._recency(body.get("Behavior"), f"{where}.Behavior"),
        )

    def _location(self, value: object, where: str) -> tuple[SetCriterion | None, GpsCriterion | None]:
        body = self.mapping(value, where)
        if body is None:
            return None, None
        self.unknown_keys(body, ("Country", "GPSPoint"), where)
        country = self.set_dimension(body.get("Country"), f"{where}.Country")
        point = self.mapping(body.get("GPSPoint"), f"{where}.GPSPoint")
        if point is None:
            return country, None
        self.unknown_keys(point, ("Coordinates", "RangeInKilometers"), f"{where}.GPSPoint")
        coordinates = self.mapping(point.get("Coordinates"), f"{where}.GPSPoint.Coordinates") or {}
        latitude = self.number(coordinates.get("Latitude"), f"{where}.GPSPoint.Coordinates.Latitude")
        longitude = self.number(coordinates.get("Longitude"), f"{where}.GPSPoint.Coordinates.Longitude")
        given = point.get("RangeInKilometers", DEFAULT_RANGE_KM)
        range_km = self.number(given, f"{where}.GPSPoint.RangeInKilometers")
        if range_km is not None and range_km < 0:
            self.problem(f"{where}.GPSPoint.RangeInKilometers", "must not be negative")
            range_km = None
        if latitude is None or longitude is None or range_km is None:
            return country, None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            self.problem(f"{where}.GPSPoint.Coordinates", "latitude must be -90..90 and longitude -180..180")
            return country, None
        return country, GpsCriterion(latitude, longitude, range_km)

    def _recency(self, value: object, where: str) -> RecencyCriterion | None:
        body = self.mapping(value, where)
        if body is None:
            return None
        self.unknown_keys(body, ("Recency",), where)
        recency = self.mapping(body.get("Recency"), f"{where}.Recency")
        if recency is None:
            return None
        self.unknown_keys(recency, ("Duration", "RecencyType"), f"{where}.Recency")
        duration = self.choice(recency.get("Duration"), tuple(RECENCY_HOURS), f"{where}.Recency.Duration")
        kind = self.choice(recency.get("RecencyType"), ("ACTIVE", "INACTIVE"), f"{where}.Recency.RecencyType")
        if duration is None or kind is None:
            return None
        return RecencyCriterion(kind == "ACTIVE", RECENCY_HOURS[duration])

    def group(self, value: object, where: str) -> Group | None:
        body = self.mapping(value, where)
        if body is None:
            self.problem(where, "must be an object")
            return None
        self.unknown_keys(body, ("Dimensions", "SourceSegments", "SourceType", "Type"), where)
        dimensions: list[Dimensions] = []
        listed = body.get("Dimensions") or []
        if not isinstance(listed, list):
            self.problem(f"{where}.Dimensions", "must be a list")
            listed = []
        for number, item in enumerate(listed):
            parsed = self.dimensions(item, f"{where}.Dimensions[{number}]")
            if parsed is not None:
                dimensions.append(parsed)
        sources: list[SourceRef] = []
        references = body.get("SourceSegments") or []
        if not isinstance(references, list):
            self.problem(f"{where}.SourceSegments", "must be a list")
            references = []
        for number, item in enumerate(references):
            place = f"{where}.SourceSegments[{number}]"
            reference = self.mapping(item, place) or {}
            self.unknown_keys(reference, ("Id", "Version"), place)
            segment_id = reference.get("Id")
            version = reference.get("Version")
            if not isinstance(segment_id, str) or not segment_id:
                self.problem(f"{place}.Id", "must be a segment id")
            elif version is not None and (isinstance(version, bool) or not isinstance(version, int)):
                self.problem(f"{place}.Version", "must be a whole number")
            else:
                sources.append(SourceRef(segment_id, version))
        dimension_type = self.choice(body.get("Type"), tuple(Combine), f"{where}.Type", "ALL")
        source_type = self.choice(body.get("SourceType"), ("ALL", "ANY"), f"{where}.SourceType", "ALL")
        if dimension_type is None or source_type is None:
            return None
        return Group(tuple(dimensions), Combine(dimension_type), tuple(sources), Combine(source_type))


def _unwrap(data: Mapping[str, Any]) -> Mapping[str, Any]:
    for key in ("SegmentResponse", "WriteSegmentRequest"):
        if set(data) == {key} and isinstance(data[key], Mapping):
            return data[key]  # type: ignore[no-any-return]
    return data


def parse_definition(data: object, where: str = "segment") -> SegmentDefinition:
    """The definition in `data`; DefinitionError listing every problem (unsupported features included)."""
    parser = _Parser()
    if not isinstance(data, Mapping):
        raise DefinitionError(where, ["a segment definition must be a JSON object"])
    body = _unwrap(data)
    parser.unknown_keys(body, SEGMENT_METADATA | {"Dimensions", "SegmentGroups", "ImportDefinition"}, "")
    segment_type = body.get("SegmentType")
    imported = segment_type == "IMPORT" or (segment_type is None and "ImportDefinition" in body)
    if segment_type not in (None, "DIMENSIONAL", "IMPORT"):
        parser.problem("SegmentType", f"must be DIMENSIONAL or IMPORT, got {json.dumps(segment_type)}")
    segment_id = body.get("Id") if isinstance(body.get("Id"), str) else None
    name = body.get("Name") if isinstance(body.get("Name"), str) else None
    dimensions = parser.dimensions(body.get("Dimensions"), "Dimensions")
    groups: list[Group] = []
    include = Combine.ALL
    group_list = parser.mapping(body.get("SegmentGroups"), "SegmentGroups")
    if group_list is not None:
        parser.unknown_keys(group_list, ("Groups", "Include"), "SegmentGroups")
        chosen = parser.choice(group_list.get("Include"), tuple(Combine), "SegmentGroups.Include", "ALL")
        include = Combine(chosen) if chosen else Combine.ALL
        listed = group_list.get("Groups") or []
        if not isinstance(listed, list):
            parser.problem("SegmentGroups.Groups", "must be a list")
            listed = []
        for number, item in enumerate(listed):
            group = parser.group(item, f"SegmentGroups.Groups[{number}]")
            if group is not None:
                groups.append(group)
    import_definition = parser.mapping(body.get("ImportDefinition"), "ImportDefinition") or {}
    if imported and (dimensions is not None or groups):
        parser.problem("SegmentType", "an imported segment holds its endpoints; it takes no Dimensions or groups")
    if parser.problems:
        raise DefinitionError(where, parser.problems)
    return SegmentDefinition(segment_id, name, imported, dimensions, tuple(groups), include, import_definition)


def load_definition(path: str | Path, reader: Callable[[str], str] | None = None) -> SegmentDefinition:
    """The definition in a JSON file (`reader` reads it: a local path by default)."""
    where = str(path)
    try:
        text = reader(where) if reader is not None else Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
    except OSError as error:
        raise PinrecError(f"cannot read {where}: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise PinrecError(f"{where} is not JSON: {error}") from None
    return parse_definition(data, where)


def parse_now(text: str | None) -> datetime:
    """`--now`: the instant recency is measured from (default: the current time)."""
    if text is None:
        return datetime.now(UTC)
    instant = parse_instant(text)
    if instant is None:
        raise PinrecError(f"--now {text!r} is not an ISO-8601 instant such as 2026-01-31T12:00:00Z")
    return instant
