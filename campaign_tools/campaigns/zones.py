"""Time zones of campaigns and recipients, and the one rule that turns a wall-clock time into an instant.

A campaign's `timezone` is an IANA name (`Europe/Lisbon`) or one of Pinpoint's `Schedule.Timezone` offsets
(`UTC`, `UTC+05:30`, `UTC-03`). A recipient's zone is its endpoint's `Demographic.Timezone`, an IANA name read with
`zoneinfo` (the `tzdata` package stands in where the system has no zone database); an endpoint with none, or with a
value that names no zone, gets the campaign's zone, and is counted as `no_timezone` / `invalid_timezone`.

Wall-clock times that a DST change makes ambiguous or impossible are resolved as PEP 495's `fold=0` does, and
`localize` documents it: a time in a spring-forward gap (02:30 in New York on the day clocks go 02:00 -> 03:00) is
read with the offset in force before the gap, so it fires the gap's length later on the new wall clock (03:30 EDT,
the instant 07:30 UTC); a time that occurs twice when clocks go back fires once, at its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

PINPOINT_OFFSET = re.compile(r"UTC(?:([+-])(\d{2})(?::(\d{2}))?)?")
"""Pinpoint's Schedule.Timezone values: UTC, UTC+01, UTC+05:30, UTC-11, ..."""
MAX_ZONE_NAME = 64
"""Longer than any IANA name: a longer value is refused without a lookup."""


class ZoneStatus(StrEnum):
    VALID = "valid"
    NONE = "no_timezone"
    """The endpoint has no Demographic.Timezone: the campaign's zone applies."""
    INVALID = "invalid_timezone"
    """Its Demographic.Timezone names no zone (or is not a string): the campaign's zone applies."""


@dataclass(frozen=True, slots=True)
class RecipientZone:
    zone: tzinfo
    key: str
    """The zone's name (the campaign's for a defaulted endpoint): what slots and caches are keyed by."""
    status: ZoneStatus

    @property
    def own(self) -> bool:
        """The endpoint names a valid zone of its own: only then does quiet time apply to it (as in Pinpoint)."""
        return self.status is ZoneStatus.VALID


@lru_cache(maxsize=4096)
def iana_zone(name: str) -> ZoneInfo | None:
    """The IANA zone of that name, or None: any string is safe to ask about (no path escapes, no exception)."""
    if not name or len(name) > MAX_ZONE_NAME or not name.isprintable():
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError; bad keys raise ValueError
        return None


def campaign_zone(name: str) -> tzinfo:
    """A campaign's zone: an IANA name or a Pinpoint offset (`UTC+05:45`). ValueError names the accepted forms."""
    match = PINPOINT_OFFSET.fullmatch(name)
    if match:
        sign, hours, minutes = match.groups()
        if sign is None:
            return UTC
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if offset > timedelta(hours=14) or int(minutes or 0) >= 60:
            raise ValueError(f"time zone {name!r}: an offset is at most UTC+14:00 / UTC-14:00")
        return timezone(-offset if sign == "-" else offset)
    zone = iana_zone(name)
    if zone is None:
        raise ValueError(f"time zone {name!r}: use an IANA name such as Europe/Lisbon, or UTC, UTC+05:30, UTC-03")
    return zone


def recipient_zone(endpoint: Mapping[str, Any], default: tzinfo, default_key: str) -> RecipientZone:
    """The endpoint's own zone from Demographic.Timezone, else the campaign's (`default`), with the reason."""
    demographic = endpoint.get("Demographic")
    value = demographic.get("Timezone") if isinstance(demographic, Mapping) else None
    if value is None or value == "":
        return RecipientZone(default, default_key, ZoneStatus.NONE)
    zone = iana_zone(value) if isinstance(value, str) else None
    if zone is None:
        return RecipientZone(default, default_key, ZoneStatus.INVALID)
    return RecipientZone(zone, value, ZoneStatus.VALID)


def localize(wall: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of a naive wall-clock time in `zone`, by the rule of the module docstring (fold=0)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def offset_label(offset: timedelta) -> str:
    """`UTC+05:45`, `UTC-03:00`, `UTC+00:00`."""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"
