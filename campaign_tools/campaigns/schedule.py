"""When a campaign's messages go: the slots of a schedule between two instants, for a recipient's zone.

- **Occurrences.** `start`, then every hour, day, week or month (a monthly campaign started on the 31st runs on the
  last day of shorter months), strictly before `end`; `once` has one; `event` has none (events trigger it).
  Hourly without `local_time` steps in real time; everything else steps on the wall clock, so a daily 09:00 stays
  09:00 across DST changes.
- **Local time.** With `local_time`, an occurrence is a wall-clock time read in each recipient's own zone
  (`zones.recipient_zone`: the campaign's zone for endpoints with none or an invalid one), so recipients at the same
  offset share one slot: one slot per distinct instant that has recipients, as Pinpoint ran them. Without it, an
  occurrence is read in the campaign's zone and everyone shares its slot. Gaps and repeated hours of DST changes
  follow `zones.localize`: a time in a gap fires the gap's length later, a repeated time fires once.
- **Quiet time** applies, as Pinpoint documented, only to a recipient whose endpoint has a valid time zone of its
  own, when its local time at the slot is in [start, end) (spanning midnight when start > end; Pinpoint said
  "later than or equal to start, earlier than or equal to end" at minute resolution: pinrec ends quiet time at
  `end` itself so that a held message goes at `end`). `quiet_time_mode = "skip"` (Pinpoint's campaigns: such a
  recipient gets nothing from that slot, reason `quiet_time`); `"hold"` (Pinpoint's journeys' WaitForQuietTime):
  the message goes when quiet time ends, the next `end` in the recipient's zone.
- **Lateness.** Relative to `now`: a slot at or before `now` is `due` while `now - at <= max_lateness`, then `late`
  (skipped and reported, never sent late); after `now` it is `upcoming`. At or after the campaign's `expiry`:
  `expired`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

from campaign_tools.campaigns.definition import Schedule
from campaign_tools.campaigns.zones import RecipientZone, localize

STEPS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
EARLIEST_OFFSET = timedelta(hours=14)
"""A wall-clock time happens at most 14 hours before (UTC+14) ..."""
LATEST_OFFSET = timedelta(hours=12)
"""... and at most 12 hours after (UTC-12) the same reading in UTC."""
HOLD_MARGIN = timedelta(hours=26)
"""The longest a held message can wait: a quiet time of almost a day, plus a DST change."""


class State(StrEnum):
    DUE = "due"
    UPCOMING = "upcoming"
    LATE = "late"
    QUIET_TIME = "quiet_time"
    EXPIRED = "expired"


SKIPPED = frozenset({State.LATE, State.QUIET_TIME, State.EXPIRED})


@dataclass(frozen=True, slots=True)
class Fire:
    """One recipient zone's share of one occurrence."""

    occurrence: datetime
    """The occurrence: its wall-clock time (naive) with local_time, else its UTC instant."""
    scheduled: datetime
    """The UTC instant of the slot in the recipient's zone."""
    at: datetime
    """When the message goes: `scheduled`, or the end of quiet time when held."""
    offset: timedelta
    """The UTC offset of the zone the slot was read in, at `scheduled`."""
    state: State
    held: bool = False


@dataclass(frozen=True, slots=True)
class Window:
    """The slots asked about: those with `since < at <= until`, judged at `now`."""

    now: datetime
    since: datetime | None
    until: datetime


def _add_months(wall: datetime, months: int) -> datetime:
    index = wall.month - 1 + months
    year, month = wall.year + index // 12, index % 12 + 1
    return wall.replace(year=year, month=month, day=min(wall.day, calendar.monthrange(year, month)[1]))


class Timetable:
    """A schedule's occurrences and each zone's fires, with the campaign's expiry."""

    def __init__(self, schedule: Schedule, expiry: datetime | None = None) -> None:
        self.schedule = schedule
        self.expiry = expiry
        self.zone = schedule.zone
        self.local = schedule.local_time
        if self.local:
            self.start_wall = schedule.start.replace(tzinfo=None)
            self.end_wall = schedule.end.replace(tzinfo=None) if schedule.end is not None else None
        else:
            self.start_wall = schedule.instant(schedule.start).astimezone(self.zone).replace(tzinfo=None)
            self.end_wall = None
        self.end_instant = None if self.local or schedule.end is None else schedule.instant(schedule.end)

    @property
    def real_time_steps(self) -> bool:
        return self.schedule.frequency == "hourly" and not self.local

    def walls(self, low: datetime, high: datetime) -> Iterator[datetime]:
        """Occurrences as naive wall-clock times within [low, high] (also naive), in order."""
        frequency = self.schedule.frequency
        if frequency == "event":
            return
        if frequency == "once":
            if low <= self.start_wall <= high:
                yield self.start_wall
            return
        if frequency == "monthly":
            months = (low.year - self.start_wall.year) * 12 + low.month - self.start_wall.month
            index = max(0, months - 1)
        else:
            index = max(0, (low - self.start_wall) // STEPS[frequency] - 1)
        while True:
            wall = self._nth(index)
            if wall > high or (self.end_wall is not None and wall >= self.end_wall):
                return
            if wall >= low:
                yield wall
            index += 1

    def _nth(self, index: int) -> datetime:
        if self.schedule.frequency == "monthly":
            return _add_months(self.start_wall, index)
        return self.start_wall + index * STEPS[self.schedule.frequency]

    def _scheduled(self, slot_zone: tzinfo, low: datetime, high: datetime) -> Iterator[tuple[datetime, datetime]]:
        """(occurrence, UTC instant) of the occurrences whose instant in `slot_zone` is within [low, high]."""
        if self.real_time_steps:
            first = localize(self.start_wall, self.zone)
            index = max(0, (low - first) // STEPS["hourly"])
            while (instant := first + index * STEPS["hourly"]) <= high:
                if self.end_instant is not None and instant >= self.end_instant:
                    return
                if instant >= low:
                    yield instant, instant
                index += 1
            return
        naive_low = low.replace(tzinfo=None) - LATEST_OFFSET - timedelta(hours=1)
        naive_high = high.replace(tzinfo=None) + EARLIEST_OFFSET + timedelta(hours=1)
        previous = None
        for wall in self.walls(naive_low, naive_high):
            instant = localize(wall, slot_zone)
            if instant == previous:  # two wall times in and after a DST gap: one slot
                continue
            previous = instant
            if self.end_instant is not None and instant >= self.end_instant:
                return
            if low <= instant <= high:
                yield (wall if self.local else instant), instant

    def fires(self, recipient: RecipientZone, window: Window) -> tuple[Fire, ...]:
        """Every fire of the recipient's zone with `window.since < at <= window.until`, judged at `window.now`."""
        slot_zone = recipient.zone if self.local else self.zone
        start = localize(self.start_wall, slot_zone) if window.since is None else window.since - HOLD_MARGIN
        found = []
        for occurrence, scheduled in self._scheduled(slot_zone, start, window.until):
            fire = self._fire(occurrence, scheduled, slot_zone, recipient, window.now)
            if (window.since is None or fire.at > window.since) and fire.at <= window.until:
                found.append(fire)
        return tuple(found)

    def _fire(
        self, occurrence: datetime, scheduled: datetime, slot_zone: tzinfo, recipient: RecipientZone, now: datetime
    ) -> Fire:
        offset = scheduled.astimezone(slot_zone).utcoffset() or timedelta(0)
        at, held, quiet = scheduled, False, False
        quiet_time = self.schedule.quiet_time
        if quiet_time is not None and recipient.own:
            local = scheduled.astimezone(recipient.zone)
            if quiet_time.covers(local.time().replace(tzinfo=None)):
                quiet = True
                if self.schedule.quiet_time_mode == "hold":
                    at, held, quiet = self._quiet_end(local.date(), scheduled, recipient.zone), True, False
        if self.expiry is not None and at >= self.expiry:
            state = State.EXPIRED
        elif quiet:
            state = State.QUIET_TIME
        elif at > now:
            state = State.UPCOMING
        elif now - at <= self.schedule.max_lateness:
            state = State.DUE
        else:
            state = State.LATE
        return Fire(occurrence, scheduled, at, offset, state, held)

    def _quiet_end(self, day: date, after: datetime, zone: tzinfo) -> datetime:
        """The first end of quiet time in `zone` after the instant `after`."""
        assert self.schedule.quiet_time is not None
        end = self.schedule.quiet_time.end
        for offset in range(3):
            candidate = localize(datetime.combine(day + timedelta(days=offset), end), zone)
            if candidate > after:
                return candidate
        raise AssertionError("quiet time ends within two days")  # pragma: no cover

    def next_occurrences(self, after: datetime, count: int) -> list[tuple[datetime, datetime, datetime]]:
        """The next `count` occurrences after `after`: (occurrence, earliest UTC instant, latest UTC instant). Without
        local_time both instants are the slot's; with it, the slot is at the occurrence in each zone: the earliest
        in UTC+14, the latest in UTC-12."""
        found: list[tuple[datetime, datetime, datetime]] = []
        if self.schedule.frequency == "event":
            return found
        if not self.local:
            horizon = after
            while len(found) < count:
                high = horizon + timedelta(days=400)
                found += [(o, i, i) for o, i in self._scheduled(self.zone, horizon, high) if i > after]
                if self.schedule.frequency == "once" or (self.end_instant is not None and high >= self.end_instant):
                    break
                horizon = high
            return found[:count]
        low = after.replace(tzinfo=None) - LATEST_OFFSET
        walls: list[datetime] = []
        while len(walls) < count:
            high = low + timedelta(days=400)
            walls += list(self.walls(low, high))
            if self.schedule.frequency == "once" or (self.end_wall is not None and high >= self.end_wall):
                break
            low = high + timedelta(microseconds=1)
        latest = [
            (wall, (wall - EARLIEST_OFFSET).replace(tzinfo=UTC), (wall + LATEST_OFFSET).replace(tzinfo=UTC))
            for wall in walls
        ]
        return [entry for entry in latest if entry[2] > after][:count]
