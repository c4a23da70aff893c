"""Delivery events in: records (any JSON value, in any transport's wrapping) → `DeliveryEvent`s → the ledger and the
suppression list. The one core `pinrec events ingest` and the events Lambda (handlers/events.py) share.

Idempotent and order-independent: an event's id comes from its record, the ledger stores each id once, and the
suppression list keeps an address's earliest entry per reason; so any replay, in any order, with any duplicates,
leaves the same state. A record that cannot be read is counted with its reason (and line), never raised; an event
for a message the ledger does not know is counted `unknown` (its suppression still applies: the address asked).

Suppression: a permanent bounce, a complaint (at once), an SES subscription unsubscribe (for its topic when it names
one) and an SMS opt-out add `Suppression(channel, normalised address, reason, since=occurred_at, source=event_id,
topic)`. Nothing here logs or returns an address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from campaign_tools.channels.addresses.registry import normalise
from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.events.sources.base import Reading
from campaign_tools.events.sources.registry import read_record
from campaign_tools.send.ledgers.base import Ledger
from campaign_tools.suppression.base import Reason, Suppression, SuppressionList

BATCH_EVENTS = 500
"""Events written per ledger transaction (and per suppression write)."""
MAX_LINES_KEPT = 20
"""Lines kept per malformed reason in a report."""
REASONS = {
    EventKind.BOUNCE: Reason.BOUNCE,
    EventKind.COMPLAINT: Reason.COMPLAINT,
    EventKind.SUBSCRIPTION: Reason.UNSUBSCRIBE,
    EventKind.OPT_OUT: Reason.OPT_OUT,
}


@dataclass(frozen=True, slots=True)
class Located:
    """A record and the line of the file it starts on."""

    value: object
    line: int | None = None


@dataclass
class IngestReport:
    records: int = 0
    events: Counter[str] = field(default_factory=Counter)
    """Events read, per `channel:kind`."""
    recorded: int = 0
    duplicates: int = 0
    unknown: int = 0
    malformed: Counter[str] = field(default_factory=Counter)
    malformed_lines: dict[str, list[int]] = field(default_factory=dict)
    """The first lines of each malformed reason (records read from a file)."""
    ignored: Counter[str] = field(default_factory=Counter)
    """Well-formed records that report no delivery event pinrec records, per what they are."""
    suppressions: int = 0
    """Suppression entries the events asked for."""
    suppressions_added: int = 0
    """Of those, entries new to the suppression list."""

    def count_malformed(self, reason: str, line: int | None) -> None:
        self.malformed[reason] += 1
        if line is not None:
            kept = self.malformed_lines.setdefault(reason, [])
            if len(kept) < MAX_LINES_KEPT:
                kept.append(line)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "events": dict(sorted(self.events.items())),
            "recorded": self.recorded,
            "duplicates": self.duplicates,
            "unknown": self.unknown,
            "malformed": {
                reason: {"count": count, "lines": self.malformed_lines.get(reason, [])}
                for reason, count in sorted(self.malformed.items())
            },
            "ignored": dict(sorted(self.ignored.items())),
            "suppressions": self.suppressions,
            "suppressions_added": self.suppressions_added,
        }

    def lines(self) -> list[str]:
        total = sum(self.events.values())
        found = [
            f"{self.records:,} records: {total:,} events, {sum(self.malformed.values()):,} malformed, "
            f"{sum(self.ignored.values()):,} not delivery events",
            f"recorded {self.recorded:,}, duplicates {self.duplicates:,}, unknown messages {self.unknown:,}",
            f"suppressions: {self.suppressions_added:,} added ({self.suppressions:,} asked)",
        ]
        found += [f"  {kind}: {count:,}" for kind, count in sorted(self.events.items())]
        for reason, count in sorted(self.malformed.items()):
            at = self.malformed_lines.get(reason)
            where = f" (lines {', '.join(map(str, at))}{', ...' if count > len(at) else ''})" if at else ""
            found.append(f"  malformed: {reason}: {count:,}{where}")
        found += [f"  not an event: {reason}: {count:,}" for reason, count in sorted(self.ignored.items())]
        return found


def suppressions_of(events: Iterable[DeliveryEvent]) -> list[Suppression]:
    """The suppression entries the events ask for: one per (channel, address, reason, topic), the earliest (then the
    smallest event id), so the entries do not depend on the events' order."""
    chosen: dict[tuple[str, str, Reason, str | None], Suppression] = {}
    for event in events:
        if not event.suppresses or not event.recipient:
            continue
        address = normalise(event.channel, event.recipient)
        if not address:
            continue
        reason = REASONS[event.kind]
        entry = Suppression(str(event.channel), address, reason, event.occurred_at, event.event_id, event.topic)
        key = (entry.channel, address, reason, entry.topic)
        current = chosen.get(key)
        if current is None or (entry.since, entry.source) < (current.since, current.source):
            chosen[key] = entry
    return list(chosen.values())


class Ingestor:
    """Reads records into events (counting every outcome) and writes events; `ingest` and the Lambda drive it."""

    def __init__(self, ledger: Ledger, suppression: SuppressionList | None, now: float) -> None:
        self.ledger = ledger
        self.suppression = suppression
        self.now = now
        self.report = IngestReport()

    def read(self, value: object, line: int | None = None) -> list[DeliveryEvent]:
        """The events of one record; what it could not give is counted."""
        self.report.records += 1
        events: list[DeliveryEvent] = []
        try:
            readings = list(read_record(value, self.now))
        except Exception as error:  # a reader's bug must cost one record, never the batch
            readings = [Reading(malformed=f"unreadable ({type(error).__name__})")]
        for reading in readings:
            if reading.malformed is not None:
                self.report.count_malformed(reading.malformed, line)
            elif reading.ignored is not None:
                self.report.ignored[reading.ignored] += 1
            else:
                events += reading.events
        for event in events:
            self.report.events[f"{event.channel}:{event.kind}"] += 1
        return events

    def write(self, events: Sequence[DeliveryEvent]) -> None:
        """Suppress first (what matters most), then record; raises the ledger's or the list's error, counting
        nothing of a write that failed (so a retry counts it once)."""
        if not events:
            return
        entries = suppressions_of(events)
        added = self.suppression.add(entries) if self.suppression is not None and entries else 0
        recorded = self.ledger.record_events(events, self.now)
        self.report.suppressions += len(entries) if self.suppression is not None else 0
        self.report.suppressions_added += added
        self.report.recorded += recorded.recorded
        self.report.duplicates += recorded.duplicates
        self.report.unknown += recorded.unknown


def ingest(
    records: Iterable[object],
    ledger: Ledger,
    suppression: SuppressionList | None,
    now: float,
    *,
    batch_events: int = BATCH_EVENTS,
    progress: Callable[[IngestReport], None] | None = None,
) -> IngestReport:
    """Read every record (a `Located` carries its line) and write its events in batches; `progress` is called after
    each batch. A ledger or suppression error stops the run (the events written so far stay, a rerun skips them)."""
    ingestor = Ingestor(ledger, suppression, now)
    batch: list[DeliveryEvent] = []
    for record in records:
        if isinstance(record, Located):
            batch += ingestor.read(record.value, record.line)
        else:
            batch += ingestor.read(record)
        if len(batch) >= batch_events:
            ingestor.write(batch)
            batch = []
            if progress is not None:
                progress(ingestor.report)
    ingestor.write(batch)
    return ingestor.report
