"""A Pinpoint campaign's (or treatment's) `Schedule` and `CampaignLimits` -> campaign.toml's `[schedule]` and
`[limits]` tables, as plain data for the TOML writer (`campaigns.definition` validates them afterwards).

- `StartTime` `IMMEDIATE` (Pinpoint sent as soon as that campaign version was written) becomes the campaign's
  `LastModifiedDate` (else `CreationDate`, else the migration's `--now`): a completed campaign stays in the past.
- With `IsLocalTime`, `StartTime`/`EndTime` are instants whose wall-clock time in `Schedule.Timezone` (Pinpoint's
  "starting UTC offset") is the local time every recipient gets: written without an offset, as campaign.toml reads
  a local-time schedule. `Timezone` stays the zone of endpoints without one of their own.
- `QuietTime`: Pinpoint's campaigns skipped a recipient whose local time was in quiet time, so `quiet_time_mode` is
  `"skip"` (journeys' wait-for-quiet-time is `"hold"`).
- `EventFilter` (`FilterType`, `Dimensions.EventType|Attributes|Metrics`) becomes `[schedule.event_filter]` key for
  key; values are passed through for the definition to judge.
Anything without an equivalent is appended to the outcome's not-carried list with its Pinpoint path and reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from campaign_tools.campaigns.zones import campaign_zone
from campaign_tools.migrate.outcome import Outcome

FREQUENCIES = frozenset({"ONCE", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "EVENT"})
SCHEDULE_KEYS = frozenset({"StartTime", "EndTime", "Frequency", "IsLocalTime", "Timezone", "QuietTime", "EventFilter"})
LIMIT_KEYS = {"Daily": "daily", "Total": "total", "MessagesPerSecond": "messages_per_second"}
IMMEDIATE = "IMMEDIATE"


class Unconvertible(Exception):
    """The campaign cannot be carried over at all (it is then not written), and why."""


def parse_instant(value: object) -> datetime | None:
    """An ISO 8601 instant as Pinpoint writes them (`2025-04-01T09:00:00.000Z`); no offset: UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _quiet_time(value: object, where: str) -> dict[str, time] | None:
    if value is None or value == {}:
        return None
    start = value.get("Start") if isinstance(value, Mapping) else None
    end = value.get("End") if isinstance(value, Mapping) else None
    if start is None and end is None:
        return None
    try:
        return {"start": time.fromisoformat(str(start)), "end": time.fromisoformat(str(end))}
    except ValueError:
        raise Unconvertible(f"{where}.QuietTime: Start and End must both be HH:MM, got {start!r} and {end!r}") from None


def convert_event_filter(value: object, where: str, outcome: Outcome) -> dict[str, Any]:
    """CampaignEventFilter -> `[schedule.event_filter]`; values as given, for the definition to check."""
    if not isinstance(value, Mapping):
        raise Unconvertible(f"{where}: an EVENT campaign needs an EventFilter object")
    table: dict[str, Any] = {}
    if "FilterType" in value:
        table["filter_type"] = value["FilterType"]
    dimensions = value.get("Dimensions")
    if not isinstance(dimensions, Mapping):
        raise Unconvertible(f"{where}.Dimensions: missing or not an object")
    event_type = dimensions.get("EventType")
    if isinstance(event_type, Mapping):
        table["event_type"] = {"dimension_type": event_type.get("DimensionType", "INCLUSIVE")}
        table["event_type"]["values"] = event_type.get("Values")
    attributes = dimensions.get("Attributes")
    if isinstance(attributes, Mapping) and attributes:
        table["attributes"] = {
            str(name): {
                "attribute_type": dimension.get("AttributeType", "INCLUSIVE"),
                "values": dimension.get("Values"),
            }
            if isinstance(dimension, Mapping)
            else dimension
            for name, dimension in attributes.items()
        }
    metrics = dimensions.get("Metrics")
    if isinstance(metrics, Mapping) and metrics:
        table["metrics"] = {
            str(name): {"comparison_operator": dimension.get("ComparisonOperator"), "value": dimension.get("Value")}
            if isinstance(dimension, Mapping)
            else dimension
            for name, dimension in metrics.items()
        }
    for key in set(dimensions) - {"EventType", "Attributes", "Metrics"}:
        outcome.not_carried.append(f"{where}.Dimensions.{key}: not a dimension pinrec's event filter knows")
    for key in set(value) - {"FilterType", "Dimensions"}:
        outcome.not_carried.append(f"{where}.{key}: not a field of Pinpoint's CampaignEventFilter")
    return {key: item for key, item in table.items() if item is not None}


def _times(value: Mapping[str, Any], where: str, outcome: Outcome, launched: datetime) -> dict[str, datetime | None]:
    start_text = value.get("StartTime")
    if start_text == IMMEDIATE:
        start: datetime | None = launched
        outcome.notes.append(
            f"{where}.StartTime IMMEDIATE: start = {launched.isoformat()} (when Pinpoint launched this version); "
            "set a later start to send it again"
        )
    else:
        start = parse_instant(start_text)
    if start is None:
        raise Unconvertible(f"{where}.StartTime: {start_text!r} is not an ISO 8601 instant or IMMEDIATE")
    end = parse_instant(value.get("EndTime")) if value.get("EndTime") is not None else None
    if value.get("EndTime") is not None and end is None:
        raise Unconvertible(f"{where}.EndTime: {value.get('EndTime')!r} is not an ISO 8601 instant")
    return {"start": start, "end": end}


def convert_schedule(value: object, where: str, outcome: Outcome, launched: datetime) -> dict[str, Any]:
    """`[schedule]` of a Pinpoint Schedule; Unconvertible when it has no equivalent at all."""
    if not isinstance(value, Mapping):
        raise Unconvertible(f"{where}: missing or not an object: a campaign needs a schedule")
    frequency = value.get("Frequency")
    if not isinstance(frequency, str) or frequency.upper() not in FREQUENCIES:
        raise Unconvertible(f"{where}.Frequency: {frequency!r} is none of {', '.join(sorted(FREQUENCIES))}")
    event = frequency.upper() == "EVENT"
    table: dict[str, Any] = {"frequency": frequency.lower()}
    zone_name = value.get("Timezone")
    zone = campaign_zone("UTC")
    if isinstance(zone_name, str) and zone_name:
        try:
            zone = campaign_zone(zone_name)
            table["timezone"] = zone_name
        except ValueError as error:
            outcome.not_carried.append(f"{where}.Timezone: {error}; UTC is used")
    local = value.get("IsLocalTime") is True
    if local and event:
        outcome.not_carried.append(
            f"{where}.IsLocalTime: does not apply to an EVENT campaign (each event sends when it arrives)"
        )
        local = False
    if local:
        table["local_time"] = True
    for name, instant in _times(value, where, outcome, launched).items():
        if instant is not None:
            table[name] = instant.astimezone(zone).replace(tzinfo=None) if local else instant.astimezone(UTC)
    quiet = _quiet_time(value.get("QuietTime"), where)
    if quiet is not None:
        table["quiet_time"] = quiet
        table["quiet_time_mode"] = "skip"
    if event:
        table["event_filter"] = convert_event_filter(value.get("EventFilter"), f"{where}.EventFilter", outcome)
    elif value.get("EventFilter"):
        outcome.not_carried.append(f"{where}.EventFilter: only EVENT campaigns have one (Pinpoint ignored it here)")
    for key in sorted(set(value) - SCHEDULE_KEYS):
        outcome.not_carried.append(f"{where}.{key}: not a field of Pinpoint's Schedule pinrec knows")
    return table


def convert_limits(value: object, where: str, outcome: Outcome) -> dict[str, Any]:
    """`[limits]` of CampaignLimits (0: no limit, as in Pinpoint)."""
    if not isinstance(value, Mapping):
        return {}
    table: dict[str, Any] = {}
    for key, name in LIMIT_KEYS.items():
        if value.get(key) not in (None, 0):
            table[name] = value[key]
    if value.get("MaximumDuration") not in (None, 0):
        table["maximum_duration"] = value["MaximumDuration"]
    if value.get("Session") not in (None, 0):
        outcome.not_carried.append(
            f"{where}.Session = {value['Session']}: messages per app session; pinrec has no app sessions"
        )
    for key in sorted(set(value) - {*LIMIT_KEYS, "MaximumDuration", "Session"}):
        outcome.not_carried.append(f"{where}.{key}: not a field of Pinpoint's CampaignLimits pinrec knows")
    return table
