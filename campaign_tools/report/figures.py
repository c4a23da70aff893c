"""A campaign's figures from its ledger: what was sent, what became of it, at what rates, and how it unfolded over
the first 72 hours. Pure: the ledger's rows and events in, a `CampaignReport` out.

Every recipient (endpoint) counts once per figure, whatever the number of events: `delivered` is the endpoints with
at least one delivery event, `opened` those with at least one open, and so on. Only `clicks` (and each link's
`clicks`) count events. Events arrive in any order and any number of times; the ledger keeps each event id once, and
nothing here depends on the order events are given in.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from campaign_tools.events.model import EventKind
from campaign_tools.report.thresholds import RateWarning, warnings_for
from campaign_tools.send.ledgers.base import LedgerSummary, MessageEvent

SERIES_HOURS = 72
BUCKET_SECONDS = 3600
SUPPRESSED_PREFIX = "suppressed:"
UNKNOWN_CHANNEL = "unknown"
NO_LINK = "(no link)"
HARD_BOUNCE = "Permanent"
UNSUBSCRIBED = "unsubscribed"
FAILING_KINDS = frozenset({EventKind.FAILED.value, EventKind.BLOCKED.value})
SERIES_KINDS: tuple[str, ...] = tuple(kind.value for kind in EventKind)


@dataclass(frozen=True)
class RateDefinition:
    name: str
    numerator: str
    """A `Figures` field."""
    denominator: str


RATES: tuple[RateDefinition, ...] = (
    RateDefinition("delivery", "delivered", "sent"),
    RateDefinition("bounce", "bounced", "sent"),
    RateDefinition("hard_bounce", "hard_bounced", "sent"),
    RateDefinition("soft_bounce", "soft_bounced", "sent"),
    RateDefinition("complaint", "complained", "delivered"),
    RateDefinition("reject", "rejected", "sent"),
    RateDefinition("open", "opened", "delivered"),
    RateDefinition("click", "clicked", "delivered"),
    RateDefinition("click_to_open", "clicked", "opened"),
    RateDefinition("unsubscribe", "unsubscribed", "delivered"),
)
"""Each rate is numerator / denominator of the same channel's (or the total's) figures; None when the denominator
is 0."""


@dataclass(frozen=True)
class LinkClicks:
    link: str
    clicks: int
    """Click events on the link."""
    unique: int
    """Recipients who clicked it at least once."""


@dataclass(frozen=True)
class Figures:
    """One channel's figures, or the campaign's total."""

    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    hard_bounced: int = 0
    soft_bounced: int = 0
    complained: int = 0
    rejected: int = 0
    rendering_failed: int = 0
    delayed: int = 0
    opened: int = 0
    clicked: int = 0
    clicks: int = 0
    unsubscribed: int = 0
    suppressed: int = 0
    suppressed_by_reason: Mapping[str, int] = field(default_factory=dict)
    failed: int = 0
    failed_by_reason: Mapping[str, int] = field(default_factory=dict)
    links: tuple[LinkClicks, ...] = ()
    """By clicks, then unique clickers (both descending), then link."""

    def count(self, name: str) -> int:
        value = getattr(self, name)
        assert isinstance(value, int)
        return value

    def rate(self, name: str) -> Fraction | None:
        definition = next(rate for rate in RATES if rate.name == name)
        denominator = self.count(definition.denominator)
        return Fraction(self.count(definition.numerator), denominator) if denominator else None

    def rates(self) -> dict[str, Fraction | None]:
        return {definition.name: self.rate(definition.name) for definition in RATES}

    def rate_terms(self) -> dict[str, tuple[int, int]]:
        """Rate name -> (numerator, denominator)."""
        return {rate.name: (self.count(rate.numerator), self.count(rate.denominator)) for rate in RATES}


@dataclass(frozen=True)
class Series:
    """Recipients by the hour of their first event of each kind, over the first `SERIES_HOURS` hours after `start`
    (bucket h holds first events at start + h hours <= t < start + h + 1 hours)."""

    start: float | None
    """The earliest send event; without one, the earliest event; None without events."""
    counts: Mapping[str, tuple[int, ...]]
    """Event kind -> SERIES_HOURS counts; every kind of `SERIES_KINDS` is there."""
    outside: int = 0
    """First events before `start` or after the window: not in any bucket."""


@dataclass(frozen=True)
class LedgerFacts:
    """What the report reads from the ledger besides the events."""

    summary: LedgerSummary
    channel: str
    """The campaign's channel (its binding); its ledger rows count there."""
    failed_rows: Mapping[str, str]
    """Endpoint id -> reason of every row in state failed."""
    sent_with_events: frozenset[str]
    """Endpoints with stored events whose row is in state sent."""


@dataclass(frozen=True)
class CampaignReport:
    campaign_id: str
    generated_at: float
    channel: str
    ledger_rows: int
    pending: int
    """Rows still pending (in progress or in doubt)."""
    events: int
    """Events stored for the campaign."""
    last_event: float | None
    channels: Mapping[str, Figures]
    """By channel name, sorted."""
    total: Figures
    series: Series
    warnings: tuple[RateWarning, ...]
    """Email rates approaching or past the thresholds SES and the mailbox providers act on, by channel."""


_RECIPIENTS_OF = {
    EventKind.DELIVERY.value: "delivered",
    EventKind.COMPLAINT.value: "complained",
    EventKind.REJECT.value: "rejected",
    EventKind.RENDERING_FAILURE.value: "rendering_failed",
    EventKind.DELIVERY_DELAY.value: "delayed",
    EventKind.OPEN.value: "opened",
    EventKind.OPT_OUT.value: "unsubscribed",
}
"""Event kinds that simply add their recipient to one `_Tally` set."""


@dataclass
class _Tally:
    """The sets one channel's (or the total's) figures are counted from."""

    accepted: set[str] = field(default_factory=set)
    delivered: set[str] = field(default_factory=set)
    bounced: set[str] = field(default_factory=set)
    hard_bounced: set[str] = field(default_factory=set)
    complained: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    rendering_failed: set[str] = field(default_factory=set)
    delayed: set[str] = field(default_factory=set)
    opened: set[str] = field(default_factory=set)
    clicked: set[str] = field(default_factory=set)
    unsubscribed: set[str] = field(default_factory=set)
    failed: dict[str, tuple[float, str, str]] = field(default_factory=dict)
    """Endpoint -> (time, event id, reason) of its earliest failed or blocked event."""
    link_clicks: Counter[str] = field(default_factory=Counter)
    link_clickers: dict[str, set[str]] = field(default_factory=dict)

    def add(self, event: MessageEvent) -> None:
        endpoint, kind = event.endpoint_id, event.kind
        self.accepted.add(endpoint)
        recipients = _RECIPIENTS_OF.get(kind)
        if recipients is not None:
            getattr(self, recipients).add(endpoint)
        elif kind == EventKind.BOUNCE.value:
            self.bounced.add(endpoint)
            if event.subtype == HARD_BOUNCE:
                self.hard_bounced.add(endpoint)
        elif kind == EventKind.SUBSCRIPTION.value and event.subtype == UNSUBSCRIBED:
            self.unsubscribed.add(endpoint)
        elif kind == EventKind.CLICK.value:
            link = event.link if event.link is not None else NO_LINK
            self.clicked.add(endpoint)
            self.link_clicks[link] += 1
            self.link_clickers.setdefault(link, set()).add(endpoint)
        elif kind in FAILING_KINDS:
            failure = (event.occurred_at, event.event_id, f"{kind}:{event.detail or 'unknown'}")
            self.failed[endpoint] = min(failure, self.failed.get(endpoint, failure))

    def figures(self, facts: LedgerFacts, owns_ledger_rows: bool) -> Figures:
        """The figures; `owns_ledger_rows`: the ledger's sent, suppressed and failed rows count here."""
        sent = len(self.accepted - facts.sent_with_events) + (facts.summary.sent if owns_ledger_rows else 0)
        failed = {endpoint: reason for endpoint, (_, _, reason) in self.failed.items()}
        suppressed: Counter[str] = Counter()
        if owns_ledger_rows:
            failed.update(facts.failed_rows)
            for reason, count in facts.summary.skipped.items():
                if reason.startswith(SUPPRESSED_PREFIX):
                    suppressed[reason.removeprefix(SUPPRESSED_PREFIX) or "unknown"] += count
        links = sorted(
            (LinkClicks(link, clicks, len(self.link_clickers[link])) for link, clicks in self.link_clicks.items()),
            key=lambda entry: (-entry.clicks, -entry.unique, entry.link),
        )
        return Figures(
            sent=sent,
            delivered=len(self.delivered),
            bounced=len(self.bounced),
            hard_bounced=len(self.hard_bounced),
            soft_bounced=len(self.bounced - self.hard_bounced),
            complained=len(self.complained),
            rejected=len(self.rejected),
            rendering_failed=len(self.rendering_failed),
            delayed=len(self.delayed),
            opened=len(self.opened),
            clicked=len(self.clicked),
            clicks=sum(self.link_clicks.values()),
            unsubscribed=len(self.unsubscribed),
            suppressed=sum(suppressed.values()),
            suppressed_by_reason=_sorted_counts(suppressed),
            failed=len(failed),
            failed_by_reason=_sorted_counts(Counter(failed.values())),
            links=tuple(links),
        )


def _sorted_counts(counts: Counter[str]) -> dict[str, int]:
    """By count descending, then name: the same order whatever order they were counted in."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


@dataclass
class _SeriesTally:
    first: dict[tuple[str, str], float] = field(default_factory=dict)
    """(kind, endpoint) -> its first event of the kind."""
    first_send: float | None = None
    earliest: float | None = None

    def add(self, event: MessageEvent) -> None:
        key, when = (event.kind, event.endpoint_id), event.occurred_at
        self.first[key] = min(when, self.first.get(key, when))
        self.earliest = when if self.earliest is None else min(self.earliest, when)
        if event.kind == EventKind.SEND.value:
            self.first_send = when if self.first_send is None else min(self.first_send, when)

    def series(self) -> Series:
        start = self.first_send if self.first_send is not None else self.earliest
        buckets = {kind: [0] * SERIES_HOURS for kind in SERIES_KINDS}
        outside = 0
        for (kind, _), when in self.first.items():
            hour = math.floor((when - start) / BUCKET_SECONDS) if start is not None else -1
            if kind in buckets and 0 <= hour < SERIES_HOURS:
                buckets[kind][hour] += 1
            else:
                outside += 1
        return Series(start, {kind: tuple(counts) for kind, counts in buckets.items()}, outside)


def compute_series(events: Iterable[MessageEvent]) -> Series:
    tally = _SeriesTally()
    for event in events:
        tally.add(event)
    return tally.series()


def campaign_channel(binding_channel: str | None, event_channels: Iterable[str]) -> str:
    """The channel the ledger's rows count in: the campaign's binding's, else the events' when they have one."""
    if binding_channel:
        return binding_channel
    seen = set(event_channels)
    return seen.pop() if len(seen) == 1 else UNKNOWN_CHANNEL


class ReportBuilder:
    """A campaign's report, built in one pass over its events (in any order), then finished with the ledger's facts:
    the events are never held in memory, only the sets of recipients each figure counts."""

    def __init__(self) -> None:
        self._total = _Tally()
        self._channels: dict[str, _Tally] = {}
        self._series = _SeriesTally()
        self._events = 0
        self._last: float | None = None

    def add(self, event: MessageEvent) -> None:
        self._total.add(event)
        self._channels.setdefault(event.channel, _Tally()).add(event)
        self._series.add(event)
        self._events += 1
        self._last = event.occurred_at if self._last is None else max(self._last, event.occurred_at)

    @property
    def endpoints(self) -> frozenset[str]:
        """Endpoints with at least one event."""
        return frozenset(self._total.accepted)

    @property
    def channels(self) -> frozenset[str]:
        """The channels of the events."""
        return frozenset(self._channels)

    def finish(self, campaign_id: str, facts: LedgerFacts, generated_at: float) -> CampaignReport:
        tallies = {facts.channel: _Tally(), **self._channels}
        channels = {
            name: tally.figures(facts, owns_ledger_rows=name == facts.channel)
            for name, tally in sorted(tallies.items())
        }
        summary = facts.summary
        return CampaignReport(
            campaign_id=campaign_id,
            generated_at=generated_at,
            channel=facts.channel,
            ledger_rows=summary.total,
            pending=summary.pending_in_lease + summary.pending_in_doubt,
            events=self._events,
            last_event=self._last,
            channels=channels,
            total=self._total.figures(facts, owns_ledger_rows=True),
            series=self._series.series(),
            warnings=tuple(
                warning for name, figures in channels.items() for warning in warnings_for(name, figures.rate_terms())
            ),
        )


def compute_report(
    campaign_id: str, facts: LedgerFacts, events: Iterable[MessageEvent], generated_at: float
) -> CampaignReport:
    """The report of a campaign from its ledger facts and events."""
    builder = ReportBuilder()
    for event in events:
        builder.add(event)
    return builder.finish(campaign_id, facts, generated_at)
