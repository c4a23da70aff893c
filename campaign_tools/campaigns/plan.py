"""The dry run of a campaign: which slots are due, upcoming or skipped, and who each would reach, per channel and per
treatment (and the holdout, which gets nothing but is counted for lift), streaming over the segment once with
counters only: memory grows with the slots, never with the segment.

The window: slots with `since < at <= until`, judged at `now` (`schedule.State`). Without `since` it looks back one
period (a day, a week, ...) before the lateness window, so the last missed slot shows as `late`; a `once` campaign
looks back to its start. Without `until`, up to `now`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from campaign_tools.campaigns.assignment import Assignment
from campaign_tools.campaigns.definition import HOLDOUT, CampaignDefinition, Schedule
from campaign_tools.campaigns.recipients import Malformed, Recipient, Skipped, recipient
from campaign_tools.campaigns.schedule import SKIPPED, STEPS, Fire, State, Timetable, Window
from campaign_tools.campaigns.zones import RecipientZone, ZoneStatus, offset_label, recipient_zone

MALFORMED_EXAMPLES = 20
MONTH = timedelta(days=31)


def default_since(definition: CampaignDefinition, now: datetime) -> datetime | None:
    """One period before the lateness window of every schedule of the campaign (None: from the start)."""
    earliest: datetime | None = now
    for schedule in _schedules(definition):
        if schedule.frequency in ("once", "event"):
            return None
        period = MONTH if schedule.frequency == "monthly" else STEPS[schedule.frequency]
        candidate = now - schedule.max_lateness - period
        earliest = candidate if earliest is None or candidate < earliest else earliest
    return earliest


def _schedules(definition: CampaignDefinition) -> list[Schedule]:
    return [definition.schedule] + [t.schedule for t in definition.treatments if t.schedule is not None]


@dataclass(frozen=True, slots=True, order=True)
class SlotKey:
    at: datetime
    scheduled: datetime
    state: State
    held: bool
    occurrence: datetime = field(compare=False)


@dataclass
class SlotCounts:
    offsets: set[timedelta] = field(default_factory=set)
    recipients: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(group, channel) -> recipients; group is a treatment's name or `holdout`."""

    def total(self, *, holdout: bool = False) -> int:
        return sum(n for (group, _), n in self.recipients.items() if (group == HOLDOUT) == holdout)


class Planner:
    """Each recipient's group and fires for a window, cached per (group's schedule, zone)."""

    def __init__(self, definition: CampaignDefinition, window: Window) -> None:
        self.definition = definition
        self.window = window
        self.assignment = Assignment.of(definition)
        self.channels = definition.channel_objects()
        self.zone = definition.schedule.zone
        expiry = definition.expiry_instant()
        self.timetables = {
            group: Timetable(definition.schedule if group == HOLDOUT else definition.schedule_of(group), expiry)
            for group in self.assignment.groups
        }
        self._fires: dict[tuple[str, str, bool], tuple[Fire, ...]] = {}

    def zone_of(self, found: Recipient) -> RecipientZone:
        return recipient_zone(found.endpoint, self.zone, self.definition.schedule.timezone)

    def group_of(self, found: Recipient) -> str:
        return self.assignment.group(found.endpoint_id, found.endpoint)

    def fires(self, group: str, zone: RecipientZone) -> tuple[Fire, ...]:
        key = (group, zone.key, zone.own)
        cached = self._fires.get(key)
        if cached is None:
            cached = self._fires[key] = self.timetables[group].fires(zone, self.window)
        return cached


@dataclass
class CampaignPlan:
    campaign_id: str
    window: Window
    event_triggered: bool
    rows: int = 0
    eligible: int = 0
    malformed: int = 0
    malformed_examples: list[tuple[int, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    """Endpoints that get nothing from the campaign: no_channel, opted_out, inactive, no_address, invalid_address."""
    zones: Counter[str] = field(default_factory=Counter)
    """no_timezone, invalid_timezone: endpoints read in the campaign's zone."""
    groups: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(group, channel) -> eligible endpoints."""
    slots: dict[SlotKey, SlotCounts] = field(default_factory=dict)

    def add(self, key: SlotKey, fire: Fire, group: str, channel: str) -> None:
        counts = self.slots.get(key)
        if counts is None:
            counts = self.slots[key] = SlotCounts()
        counts.offsets.add(fire.offset)
        counts.recipients[group, channel] += 1

    def slot_skips(self) -> Counter[str]:
        """Messages the slots skip, by reason (quiet_time, late, expired); the holdout is not counted."""
        found: Counter[str] = Counter()
        for key, counts in self.slots.items():
            if key.state in SKIPPED:
                found[key.state.value] += counts.total()
        return found

    def ordered_slots(self) -> list[tuple[SlotKey, SlotCounts]]:
        return sorted(self.slots.items())

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "now": _iso(self.window.now),
            "since": _iso(self.window.since) if self.window.since else None,
            "until": _iso(self.window.until),
            "event_triggered": self.event_triggered,
            "segment": {
                "rows": self.rows,
                "eligible": self.eligible,
                "malformed": self.malformed,
                "malformed_examples": [{"line": line, "reason": reason} for line, reason in self.malformed_examples],
                "skipped": dict(sorted(self.skipped.items())),
                "time_zones": dict(sorted(self.zones.items())),
            },
            "groups": _nested(self.groups),
            "slots": [
                {
                    "at": _iso(key.at),
                    "scheduled": _iso(key.scheduled),
                    "occurrence": key.occurrence.isoformat(),
                    "state": key.state.value,
                    "held": key.held,
                    "utc_offsets": sorted(offset_label(offset) for offset in counts.offsets),
                    "recipients": _nested(counts.recipients),
                }
                for key, counts in self.ordered_slots()
            ],
            "skipped_in_slots": dict(sorted(self.slot_skips().items())),
        }

    def lines(self) -> list[str]:
        window = f"since {_iso(self.window.since)}" if self.window.since else "from the start"
        found = [
            f"campaign {self.campaign_id}: plan at {_iso(self.window.now)}, slots {window} to {_iso(self.window.until)}"
        ]
        found.append(f"segment: {self.rows:,} rows, {self.eligible:,} eligible, {self.malformed:,} malformed")
        found += [f"  line {line}: {reason}" for line, reason in self.malformed_examples]
        if self.skipped:
            found.append("skipped: " + ", ".join(f"{reason} {n:,}" for reason, n in sorted(self.skipped.items())))
        if self.zones:
            zones = ", ".join(f"{reason} {n:,}" for reason, n in sorted(self.zones.items()))
            found.append(f"time zones: {zones} (the campaign's zone applies, quiet time does not)")
        found.append("groups: " + _counts_text(self.groups))
        if self.event_triggered:
            found.append("event-triggered: no slots; each matching event sends to its endpoint")
            return found
        if not self.slots:
            found.append("slots: none in the window")
        for key, counts in self.ordered_slots():
            held = f" (held from {_iso(key.scheduled)})" if key.held else ""
            offsets = ",".join(sorted(offset_label(offset) for offset in counts.offsets))
            found.append(f"  {_iso(key.at)}  {key.state.value:<10} {offsets}{held}: {_counts_text(counts.recipients)}")
        skips = self.slot_skips()
        if skips:
            found.append("skipped in slots: " + ", ".join(f"{reason} {n:,}" for reason, n in sorted(skips.items())))
        return found


def _iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _nested(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for (group, channel), n in sorted(counts.items()):
        found.setdefault(group, {})[channel] = n
    return found


def _counts_text(counts: Counter[tuple[str, str]]) -> str:
    nested = _nested(counts)
    return "; ".join(f"{group}: " + ", ".join(f"{c} {n:,}" for c, n in by.items()) for group, by in nested.items())


def window_of(
    definition: CampaignDefinition, now: datetime, since: datetime | None = None, until: datetime | None = None
) -> Window:
    return Window(now, since if since is not None else default_since(definition, now), until or now)


def plan(
    definition: CampaignDefinition,
    rows: Iterable[tuple[int, object]],
    now: datetime,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> CampaignPlan:
    """The dry run over `rows` ((line, record) of the segment), judged at `now`."""
    window = window_of(definition, now, since, until)
    planner = Planner(definition, window)
    result = CampaignPlan(definition.id, window, definition.schedule.frequency == "event")
    for line, record in rows:
        result.rows += 1
        found = recipient(line, record, planner.channels)
        if isinstance(found, Malformed):
            result.malformed += 1
            if len(result.malformed_examples) < MALFORMED_EXAMPLES:
                result.malformed_examples.append((found.line, found.reason))
            continue
        if isinstance(found, Skipped):
            result.skipped[found.reason] += 1
            continue
        _count(result, planner, found)
    return result


def _count(result: CampaignPlan, planner: Planner, found: Recipient) -> None:
    result.eligible += 1
    group = planner.group_of(found)
    channel = found.channel.name
    result.groups[group, channel] += 1
    zone = planner.zone_of(found)
    if zone.status is not ZoneStatus.VALID:
        result.zones[zone.status.value] += 1
    if result.event_triggered:
        return
    for fire in planner.fires(group, zone):
        result.add(SlotKey(fire.at, fire.scheduled, fire.state, fire.held, fire.occurrence), fire, group, channel)


def due_units(result: CampaignPlan) -> Iterator[tuple[SlotKey, str, str, int]]:
    """(slot, treatment, channel, recipients) of every due slot, the holdout left out: what a run would send."""
    for key, counts in result.ordered_slots():
        if key.state is State.DUE:
            for (group, channel), n in sorted(counts.recipients.items()):
                if group != HOLDOUT:
                    yield key, group, channel, n
