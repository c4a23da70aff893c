"""`pinrec campaign report FILE`: per treatment and for the holdout, the recipients, the conversions within the
attribution window, the conversion rate and value, and the lift over the holdout with confidence intervals.

- **Recipients** come from the ledger: a treatment's are the endpoints with a `sent` row in any of its units
  (`<campaign>.<slot>.<treatment>.<channel>`); the holdout's the `skipped` rows with reason `holdout` in its units
  (`ledger_units` documents the convention and how units are found). An endpoint counts once per group.
- **Attribution.** A recipient converts when one of its conversions (`campaign.toml` `[conversions]`: of
  `event_types`, or any) falls within `window` after one of its messages: a treatment recipient's message time is
  its row's (when it was marked sent), a holdout recipient's is its slot (its skipped row is rewritten by resumed
  runs, so its time is not kept). The holdout window therefore opens up to a send's length earlier: lift is, if
  anything, understated. A conversion names an endpoint (used when it is a recipient) or a user; users map to their
  endpoints through the campaign's segment (`User.UserId`), read only when a user-keyed conversion needs it. A
  conversion counts once per group however many messages its window follows; `value` sums attributed conversions.
- **Lift** as `lift` computes it: rate difference with Newcombe's interval, relative lift with Katz's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field
from pydantic.dataclasses import dataclass as settings_dataclass

from campaign_tools.campaigns import lift as statistics
from campaign_tools.campaigns.definition import HOLDOUT, CampaignDefinition, load_campaign
from campaign_tools.campaigns.ledger_units import HOLDOUT_REASON, UnitId, campaign_units
from campaign_tools.campaigns.recipients import segment_rows
from campaign_tools.conversions import registry as conversions_registry
from campaign_tools.conversions.base import ConversionStore
from campaign_tools.conversions.model import Conversion
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import Ledger, State
from campaign_tools.send.segments import MalformedRow, check_endpoint
from campaign_tools.send.settings import DEFAULT_LEDGER
from campaign_tools.settings import SETTINGS_CONFIG, Settings, rule
from transformer.aws import AwsOptions, client
from transformer.errors import PinrecError


def _spec_problems(check: Callable[[str], object]) -> Callable[[str], list[str]]:
    def problems(spec: str) -> list[str]:
        try:
            check(spec)
        except PinrecError as error:
            return [str(error)]
        return []

    return problems


@settings_dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class CampaignReportSettings(Settings):
    file: Path
    """The campaign.toml."""
    ledger: Annotated[str, rule(_spec_problems(ledger_registry.check_spec))] = DEFAULT_LEDGER
    conversions: Annotated[str, rule(_spec_problems(conversions_registry.check_spec))] = (
        conversions_registry.DEFAULT_CONVERSIONS
    )
    segment: str | None = None
    """Maps user-keyed conversions to endpoints (default: the campaign's segment)."""
    confidence: Annotated[float, Field(gt=0.5, lt=1)] = statistics.DEFAULT_CONFIDENCE
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def aws(self) -> AwsOptions:
        return AwsOptions(region=self.region, profile=self.profile, endpoint_url=self.endpoint_url)


@dataclass
class _Group:
    messages: dict[str, list[float]] = field(default_factory=dict)
    """Endpoint -> its message (holdout: slot) times."""
    channels: Counter[str] = field(default_factory=Counter)
    converted: set[str] = field(default_factory=set)
    conversions: int = 0
    value: float = 0.0

    def add(self, endpoint_id: str, at: float, channel: str) -> None:
        times = self.messages.get(endpoint_id)
        if times is None:
            self.messages[endpoint_id] = [at]
            self.channels[channel] += 1
        else:
            times.append(at)


@dataclass(frozen=True)
class GroupResult:
    name: str
    holdout: bool
    recipients: int
    by_channel: Mapping[str, int]
    rate: statistics.Rate
    conversions: int
    """Attributed conversions (events), each counted once in the group."""
    lift: statistics.Lift | None
    """Over the holdout (None for the holdout itself, or without one)."""


@dataclass(frozen=True)
class LiftReport:
    campaign_id: str
    window: timedelta
    event_types: tuple[str, ...] | None
    confidence: float
    units: int
    slots: tuple[datetime, ...]
    groups: tuple[GroupResult, ...]
    unattributed: Counter[str]
    """Conversions in the report's time range attributed to no recipient, by why."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "window_seconds": self.window.total_seconds(),
            "event_types": list(self.event_types) if self.event_types is not None else None,
            "confidence": self.confidence,
            "units": self.units,
            "slots": [_iso(slot) for slot in self.slots],
            "groups": [_group_dict(group) for group in self.groups],
            "unattributed": dict(sorted(self.unattributed.items())),
        }

    def lines(self) -> list[str]:
        types = ", ".join(self.event_types) if self.event_types is not None else "every type"
        found = [
            f"campaign {self.campaign_id}: {self.units} units over {len(self.slots)} slots; conversions of {types} "
            f"within {_duration(self.window)} after the message (holdout: its slot); {self.confidence:.0%} intervals"
        ]
        for group in self.groups:
            found.append(_group_line(group))
            if group.lift is not None:
                found.append(f"    lift over holdout: {_lift_text(group.lift)}")
        if not any(group.holdout and group.recipients for group in self.groups):
            found.append("no holdout recipients in the ledger: no lift (holdout_percent = 0, or not recorded)")
        if self.unattributed:
            found.append("unattributed: " + ", ".join(f"{k} {n:,}" for k, n in sorted(self.unattributed.items())))
        return found


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _interval(value: tuple[float, float] | None) -> list[float] | None:
    return None if value is None else [value[0], value[1]]


def _group_dict(group: GroupResult) -> dict[str, Any]:
    lift = group.lift
    return {
        "group": group.name,
        "holdout": group.holdout,
        "recipients": group.recipients,
        "recipients_by_channel": dict(sorted(group.by_channel.items())),
        "converted": group.rate.converted,
        "conversion_rate": group.rate.rate,
        "conversion_rate_interval": _interval(group.rate.interval),
        "conversions": group.conversions,
        "value": group.rate.value,
        "lift": None
        if lift is None
        else {
            "difference": lift.difference,
            "difference_interval": _interval(lift.difference_interval),
            "relative": lift.relative,
            "relative_interval": _interval(lift.relative_interval),
        },
    }


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _group_line(group: GroupResult) -> str:
    interval = group.rate.interval
    shown = f" [{_percent(interval[0])}, {_percent(interval[1])}]" if interval else ""
    name = f"{group.name} (holdout)" if group.holdout and group.name != HOLDOUT else group.name
    return (
        f"  {name}: {group.recipients:,} recipients, {group.rate.converted:,} converted "
        f"({_percent(group.rate.rate)}{shown}), {group.conversions:,} conversions, value {group.rate.value:,.2f}"
    )


def _lift_text(lift: statistics.Lift) -> str:
    low, high = lift.difference_interval
    text = f"{lift.difference * 100:+.2f} points [{low * 100:+.2f}, {high * 100:+.2f}]"
    if lift.relative is not None and lift.relative_interval is not None:
        text += f", {lift.relative:+.1%} relative [{lift.relative_interval[0]:+.1%}, {lift.relative_interval[1]:+.1%}]"
    return text


def read_recipients(ledger: Ledger, definition: CampaignDefinition, units: list[UnitId]) -> dict[str, _Group]:
    """Each group's recipients and their message (holdout: slot) times, from the units' rows."""
    groups: dict[str, _Group] = {}
    for unit in units:
        group = groups.setdefault(unit.group, _Group())
        send_id = unit.send_id(definition.id)
        if unit.group == HOLDOUT:
            for row in ledger.rows(send_id, State.SKIPPED):
                if row.reason == HOLDOUT_REASON:
                    group.add(row.endpoint_id, unit.at.timestamp(), unit.channel)
        else:
            for row in ledger.rows(send_id, State.SENT):
                at = row.updated_at if row.updated_at is not None else unit.at.timestamp()
                group.add(row.endpoint_id, at, unit.channel)
    return groups


class _Users:
    """user id -> the recipient endpoints of that user, from the segment, read once when first needed."""

    def __init__(self, segment: str | None, definition: CampaignDefinition, recipients: set[str], s3: Any) -> None:
        self.segment = segment
        self.definition = definition
        self.recipients = recipients
        self.s3 = s3
        self._map: dict[str, list[str]] | None = None

    def endpoints(self, user_id: str) -> list[str] | None:
        """None: there is no segment to map users with."""
        if self.segment is None:
            return None
        if self._map is None:
            self._map = self._read()
        return self._map.get(user_id, [])

    def _read(self) -> dict[str, list[str]]:
        assert self.segment is not None
        found: dict[str, list[str]] = {}
        fmt, separator = self.definition.segment_format, self.definition.csv_list_separator
        s3 = self.s3 if self.segment.startswith("s3://") else None
        with segment_rows(self.segment, fmt, separator, s3) as rows:
            for _, record in rows:
                try:
                    endpoint_id, endpoint = check_endpoint(record)
                except MalformedRow:
                    continue
                user = endpoint.get("User")
                user_id = user.get("UserId") if isinstance(user, dict) else None
                if endpoint_id in self.recipients and isinstance(user_id, str) and user_id:
                    found.setdefault(user_id, []).append(endpoint_id)
        return found


def attribute(
    groups: Mapping[str, _Group],
    conversions: Iterator[Conversion],
    window: timedelta,
    users: Callable[[str], list[str] | None],
) -> Counter[str]:
    """Mark each group's converted recipients, conversions and value; returns the unattributed counts by reason."""
    owners: dict[str, list[str]] = {}
    for name, group in groups.items():
        for endpoint_id in group.messages:
            owners.setdefault(endpoint_id, []).append(name)
    span = window.total_seconds()
    unattributed: Counter[str] = Counter()
    for conversion in conversions:
        if conversion.endpoint_id is not None and conversion.endpoint_id in owners:
            endpoints = [conversion.endpoint_id]
        elif conversion.user_id is not None:
            mapped = users(conversion.user_id)
            if mapped is None:
                unattributed["user_id_without_segment"] += 1
                continue
            endpoints = mapped
        else:
            endpoints = []
        counted: set[str] = set()
        for endpoint_id in endpoints:
            for name in owners.get(endpoint_id, ()):
                group = groups[name]
                if any(0 <= conversion.occurred_at - at <= span for at in group.messages[endpoint_id]):
                    group.converted.add(endpoint_id)
                    if name not in counted:
                        counted.add(name)
                        group.conversions += 1
                        group.value += conversion.value or 0.0
        if not counted:
            unattributed["not_a_recipient_in_window"] += 1
    return unattributed


def _ordered(definition: CampaignDefinition, groups: Mapping[str, _Group]) -> list[str]:
    known = [HOLDOUT, definition.treatment_name, *(treatment.name for treatment in definition.treatments)]
    return known + sorted(name for name in groups if name not in known)


def compute(
    definition: CampaignDefinition,
    groups: Mapping[str, _Group],
    units: list[UnitId],
    store: ConversionStore,
    users: Callable[[str], list[str] | None],
    *,
    confidence: float,
) -> LiftReport:
    settings = definition.conversions
    times = [at for group in groups.values() for ats in group.messages.values() for at in ats]
    unattributed: Counter[str] = Counter()
    if times:
        conversions = store.between(min(times), max(times) + settings.window.total_seconds(), settings.event_types)
        unattributed = attribute(groups, conversions, settings.window, users)
    rates = {
        name: statistics.rate(len(group.converted), len(group.messages), group.value, confidence)
        for name, group in groups.items()
    }
    holdout = rates.get(HOLDOUT)
    results = []
    for name in _ordered(definition, groups):
        group = groups.get(name, _Group())
        found = rates.get(name) or statistics.rate(0, 0, 0.0, confidence)
        lifted = None if name == HOLDOUT or holdout is None else statistics.lift(found, holdout, confidence)
        results.append(
            GroupResult(
                name, name == HOLDOUT, len(group.messages), dict(group.channels), found, group.conversions, lifted
            )
        )
    return LiftReport(
        definition.id,
        settings.window,
        settings.event_types,
        confidence,
        len([unit for unit in units if unit.group != HOLDOUT]),
        tuple(sorted({unit.at for unit in units})),
        tuple(results),
        unattributed,
    )


def campaign_lift_report(
    settings: CampaignReportSettings, *, clients: Callable[[str], Any] | None = None
) -> LiftReport:
    """The library entry point of `pinrec campaign report`."""
    statistics.require_statistics()  # before reading anything: the missing extra is named at once
    definition = load_campaign(settings.file)
    made: dict[str, Any] = {}

    def factory(service: str) -> Any:
        if clients is not None:
            return clients(service)
        if service not in made:
            made[service] = client(service, settings.aws())
        return made[service]

    ledger = ledger_registry.open_ledger(settings.ledger, factory, read_only=True)
    try:
        units = campaign_units(ledger, definition.id)
        if not units:
            raise PinrecError(f"campaign {definition.id} has no units in ledger {ledger.describe()}")
        groups = read_recipients(ledger, definition, units)
    finally:
        ledger.close()
    recipients = {endpoint for group in groups.values() for endpoint in group.messages}
    segment = settings.segment or definition.segment
    users = _Users(segment, definition, recipients, factory("s3") if segment and segment.startswith("s3://") else None)
    store = conversions_registry.open_conversions(settings.conversions, factory, read_only=True)
    try:
        return compute(definition, groups, units, store, users.endpoints, confidence=settings.confidence)
    finally:
        store.close()
