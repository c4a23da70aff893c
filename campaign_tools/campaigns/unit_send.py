"""One send unit through the normal send, with the campaign's limits around it: the records of the unit are fed to
`SendRun.run(records=...)` one batch (50) at a time, and for each batch

1. endpoints the unit's ledger already holds as sent are left out (a re-run sends nothing twice);
2. the others are reserved in the limits store (`campaigns.limits`, atomically, before delivery): a refused one is
   recorded in the ledger as skipped `cap_daily` / `cap_total` and not fed;
3. the reserved ones go through the send (suppression, recommendations, compose, claim, paced delivery, record);
4. those the ledger does not then hold as sent are released when the unit ends — unless their row stayed
   `pending` (in doubt: perhaps delivered), whose reservation is kept.

`maximum_duration` (Pinpoint's `MaximumDuration`: how long after its scheduled start a campaign may go on
delivering) is measured from the unit's slot: no batch starts after `slot + maximum_duration`; the endpoints left
are recorded as skipped `maximum_duration`. The pace (`messages_per_second`) is the send's own `rate`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from campaign_tools.campaigns.limits.base import Caps, LimitStore
from campaign_tools.send.batch import BATCH_SIZE
from campaign_tools.send.ledgers.base import Ledger, State
from campaign_tools.send.run import SendRun

MAXIMUM_DURATION = "maximum_duration"
ALREADY_SENT = "already_sent"


@dataclass
class UnitOutcome:
    unit_id: str
    treatment: str
    channel: str
    at: datetime
    recipients: int = 0
    sent: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    released: int = 0
    """Reservations given back: their message was not delivered."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit_id,
            "slot": self.at.isoformat().replace("+00:00", "Z"),
            "treatment": self.treatment,
            "channel": self.channel,
            "recipients": self.recipients,
            "sent": self.sent,
            "skipped": dict(sorted(self.skipped.items())),
            "failed": dict(sorted(self.failed.items())),
            "released": self.released,
        }

    def line(self) -> str:
        parts = [f"sent {self.sent:,}"]
        parts += [f"{reason} {n:,}" for reason, n in sorted(self.skipped.items())]
        parts += [f"failed {reason} {n:,}" for reason, n in sorted(self.failed.items())]
        return f"  {self.unit_id}: {self.recipients:,} recipients; " + ", ".join(parts)


def _chunks(records: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(records)
    while chunk := list(itertools.islice(iterator, BATCH_SIZE)):
        yield chunk


def _ids(records: Sequence[dict[str, Any]]) -> list[str]:
    return [str(record.get("Id")) for record in records]


@dataclass
class LimitedSend:
    """The limits around one unit's `SendRun` (`ledger` and `limits`: None in a dry run)."""

    send: SendRun
    outcome: UnitOutcome
    campaign_id: str
    caps: Caps
    ledger: Ledger | None
    limits: LimitStore | None
    clock: Callable[[], float]
    deadline: float | None = None
    _unsettled: set[str] = field(default_factory=set)

    def run(self, records: Iterable[dict[str, Any]]) -> UnitOutcome:
        try:
            for chunk in _chunks(records):
                self.outcome.recipients += len(chunk)
                if self.deadline is not None and self.clock() >= self.deadline:
                    self._skip(_ids(chunk), MAXIMUM_DURATION)
                    continue
                self._batch(chunk)
        finally:
            self._release()
            summary = self.send.summary
            self.outcome.sent = summary.sent
            self.outcome.skipped.update(summary.all_skipped())
            self.outcome.failed.update(summary.failed)
        return self.outcome

    def _skip(self, endpoint_ids: Sequence[str], reason: str) -> None:
        self.outcome.skipped[reason] += len(endpoint_ids)
        if self.ledger is not None:
            now = self.clock()
            for endpoint_id in endpoint_ids:
                self.ledger.mark_skipped(self.outcome.unit_id, endpoint_id, reason, now)

    def _batch(self, chunk: list[dict[str, Any]]) -> None:
        unit_id = self.outcome.unit_id
        if self.ledger is None or self.limits is None:
            self.send.run(records=chunk)
            return
        sent = self.ledger.sent_among(unit_id, _ids(chunk))
        todo = [record for record in chunk if str(record.get("Id")) not in sent]
        if len(todo) < len(chunk):
            self.outcome.skipped[ALREADY_SENT] += len(chunk) - len(todo)
        if not todo:
            return
        refused = self.limits.reserve(unit_id, self.campaign_id, _ids(todo), self.caps, self.clock())
        for reason in sorted({str(r) for r in refused.values() if r is not None}):
            self._skip([e for e, r in refused.items() if r == reason], reason)
        reserved = [record for record in todo if refused.get(str(record.get("Id"))) is None]
        if not reserved:
            return
        self._unsettled.update(_ids(reserved))
        try:
            self.send.run(records=reserved)
        finally:
            self._unsettled -= self.ledger.sent_among(unit_id, sorted(self._unsettled))

    def _release(self) -> None:
        if not self._unsettled or self.ledger is None or self.limits is None:
            return
        unit_id = self.outcome.unit_id
        pending = {row.endpoint_id for row in self.ledger.rows(unit_id, State.PENDING)}
        released = sorted(self._unsettled - pending)
        self.limits.release(unit_id, released)
        self.outcome.released += len(released)
        self._unsettled.clear()
