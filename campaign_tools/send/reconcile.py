"""Reconciliation: exactly once, in effect.

SES, End User Messaging SMS and push take no idempotency token, so a run killed between a provider accepting a
message and the ledger recording `sent` leaves the row `pending`: *in doubt*. Delivery events settle it. Any event of
a message (send, delivery, bounce, ...) proves the provider accepted it (`Ledger.accepted_among`), and every message
carries tags naming its campaign and endpoint (`campaign_tools.events.tags`), so its events reach its row even when
its message id never did.

A pending row is judged by the age of its claim and the events the ledger holds (`verdict`, pure):

| verdict | when | what `reconcile` does |
|---|---|---|
| in progress | claimed within the lease: a run may be sending it now | nothing |
| accepted | past the lease, with an event of its own | `mark_sent` with the event's message id (`reconciled` when the event carried none) |
| awaiting events | past the lease, within lease + grace, no event | nothing: it stays in doubt, reported |
| unheard | past lease + grace, no event, and no event of the campaign occurred since its claim | nothing: events may not be flowing (no configuration set, ingestion down); it stays in doubt |
| unconfirmed | past lease + grace, no event, while events of the campaign that occurred after its claim did arrive | released: the row becomes `failed` with reason `unconfirmed`, and the next claim (the run's normal retry path) sends it |

The grace period is how long a provider's events may take to reach the ledger (SES publishes a Send event within
seconds, EventBridge and SQS add seconds more): 15 minutes by default. A message whose events take longer than the
lease plus the grace is sent a second time, so keep the events flowing (the configuration set with its event
destination, and the events ingestion) before relying on this.

The release is race-safe in every ledger: it is a claim of rows claimed before `now - (lease + grace)` (the ledger's
own compare-and-set; `ClaimPolicy.reclaim_expired` over a lease of lease + grace), then `mark_failed`, which replaces
only that pending claim. A row another run claimed since is in progress and left alone; a reconciliation killed in
between leaves a fresh pending claim with nothing sent, released again after lease + grace.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass as settings_dataclass

from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import (
    DEFAULT_EVENT_GRACE_SECONDS,
    DEFAULT_LEASE_SECONDS,
    Claim,
    ClaimPolicy,
    Ledger,
    State,
)
from campaign_tools.send.settings import AwsSettings, check_campaign_id
from campaign_tools.settings import SETTINGS_CONFIG, InvalidSettings, Settings, Violations
from transformer.errors import PinrecError

UNCONFIRMED = "unconfirmed"
"""The failure reason of a released row: no event confirmed its message within lease + grace; a run resends it."""
RECONCILED_WITHOUT_ID = "reconciled"
"""The message id recorded for a row marked sent from events that carried none (SES events always carry one)."""


class Verdict(StrEnum):
    IN_PROGRESS = "in_progress"
    ACCEPTED = "accepted"
    AWAITING_EVENTS = "awaiting_events"
    UNHEARD = "unheard"
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True)
class ReconcilePolicy:
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    grace_seconds: float = DEFAULT_EVENT_GRACE_SECONDS


def verdict(
    claimed_at: float, now: float, accepted: bool, latest_event: float | None, policy: ReconcilePolicy
) -> Verdict:
    """What a pending row claimed at `claimed_at` is, given whether an event of its own is stored (`accepted`) and
    when the latest stored event of its campaign occurred (`latest_event`)."""
    age = now - claimed_at
    if age < policy.lease_seconds:
        return Verdict.IN_PROGRESS
    if accepted:
        return Verdict.ACCEPTED
    if age < policy.lease_seconds + policy.grace_seconds:
        return Verdict.AWAITING_EVENTS
    if latest_event is None or latest_event < claimed_at:
        return Verdict.UNHEARD
    return Verdict.UNCONFIRMED


@dataclass(frozen=True)
class PendingRow:
    endpoint_id: str
    claimed_at: float


@dataclass
class Reconciliation:
    """What a reconciliation found (and, unless `applied` is False, did) for one campaign's pending rows."""

    campaign_id: str
    applied: bool = True
    counts: Counter[Verdict] = field(default_factory=Counter)
    oldest: dict[Verdict, float] = field(default_factory=dict)
    """The oldest claim of each verdict's rows."""
    decided: dict[Verdict, list[str]] = field(default_factory=dict)
    """The endpoints of each verdict."""

    def add(self, row: PendingRow, found: Verdict) -> None:
        self.counts[found] += 1
        self.oldest[found] = min(self.oldest.get(found, row.claimed_at), row.claimed_at)
        self.decided.setdefault(found, []).append(row.endpoint_id)

    @property
    def reconciled(self) -> int:
        return self.counts[Verdict.ACCEPTED]

    @property
    def released(self) -> int:
        return self.counts[Verdict.UNCONFIRMED]

    @property
    def in_doubt(self) -> int:
        """Rows left in doubt: awaiting events, or unheard."""
        return self.counts[Verdict.AWAITING_EVENTS] + self.counts[Verdict.UNHEARD]

    def __bool__(self) -> bool:
        return any(self.counts[kind] for kind in Verdict if kind is not Verdict.IN_PROGRESS)

    def lines(self, heading: str | None = None) -> list[str]:
        """What it found, for people: a heading, then one line per verdict that has rows (none when nothing was in
        doubt)."""
        if not self:
            return []
        done = self.applied
        lines = [heading or f"  reconciled from delivery events ({'done' if done else 'dry run: nothing changed'}):"]
        if self.reconciled:
            verb = "marked sent" if done else "would be marked sent"
            lines.append(f"    {self.reconciled:,} in doubt {verb}: an event shows the provider accepted them")
        if self.released:
            verb = "released to be sent again" if done else "would be released to be sent again"
            lines.append(
                f"    {self.released:,} {verb} (failed: {UNCONFIRMED}): no event within lease + grace, claimed since "
                f"{_when(self.oldest[Verdict.UNCONFIRMED])}"
            )
        if self.counts[Verdict.AWAITING_EVENTS]:
            lines.append(
                f"    {self.counts[Verdict.AWAITING_EVENTS]:,} awaiting events (still in doubt, within the grace "
                f"period), claimed since {_when(self.oldest[Verdict.AWAITING_EVENTS])}"
            )
        if self.counts[Verdict.UNHEARD]:
            lines.append(
                f"    {self.counts[Verdict.UNHEARD]:,} still in doubt, claimed since "
                f"{_when(self.oldest[Verdict.UNHEARD])}: no event of this campaign arrived since they were claimed "
                "(is the configuration set publishing events, and are they ingested?); --retry-pending resends them "
                "(perhaps a second time)"
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            **{str(kind): self.counts[kind] for kind in Verdict},
            "oldest": {str(kind): _when(claimed) for kind, claimed in self.oldest.items()},
        }


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def plan(
    campaign_id: str,
    rows: Iterable[PendingRow],
    now: float,
    *,
    accepted: Mapping[str, str | None],
    latest_event: float | None,
    policy: ReconcilePolicy,
) -> Reconciliation:
    """Each pending row's verdict (pure): nothing is read or written."""
    found = Reconciliation(campaign_id, applied=False)
    for row in rows:
        found.add(row, verdict(row.claimed_at, now, row.endpoint_id in accepted, latest_event, policy))
    return found


def _latest_event(ledger: Ledger, campaign_id: str) -> float | None:
    """When the campaign's latest stored event occurred: from the ledger's own query when it has one
    (`latest_event_at`, an optional capability), else by reading the campaign's events."""
    query = getattr(ledger, "latest_event_at", None)
    if callable(query):
        found = query(campaign_id)
        return float(found) if found is not None else None
    latest = None
    for event in ledger.events(campaign_id):  # by time of occurrence: the last is the latest
        latest = event.occurred_at
    return latest


def reconcile(
    ledger: Ledger, campaign_id: str, now: float, policy: ReconcilePolicy, *, apply: bool = True
) -> Reconciliation:
    """Judge the campaign's pending rows by their events and settle them (`apply`): accepted rows become sent,
    unconfirmed ones are released to be sent again; the rest is left as it is. Reads only the pending rows, and the
    events only when some are past the lease."""
    rows = [
        # A pending row's last change is its claim: claims set both, and nothing else changes a pending row.
        PendingRow(row.endpoint_id, row.updated_at if row.updated_at is not None else 0.0)
        for row in ledger.rows(campaign_id, State.PENDING)
    ]
    expired = [row for row in rows if now - row.claimed_at >= policy.lease_seconds]
    accepted = ledger.accepted_among(campaign_id, [row.endpoint_id for row in expired]) if expired else {}
    overdue = any(
        row.endpoint_id not in accepted and now - row.claimed_at >= policy.lease_seconds + policy.grace_seconds
        for row in expired
    )
    latest = _latest_event(ledger, campaign_id) if overdue else None
    found = plan(campaign_id, rows, now, accepted=accepted, latest_event=latest, policy=policy)
    if not apply:
        return found
    for endpoint_id in found.decided.get(Verdict.ACCEPTED, []):
        ledger.mark_sent(campaign_id, endpoint_id, accepted[endpoint_id] or RECONCILED_WITHOUT_ID, now)
    release = ClaimPolicy(
        run_id=f"reconcile-{uuid.uuid4().hex}",
        lease_seconds=policy.lease_seconds + policy.grace_seconds,
        reclaim_expired=True,
    )
    released: list[str] = []
    for endpoint_id in found.decided.get(Verdict.UNCONFIRMED, []):
        if ledger.claim(campaign_id, endpoint_id, now, release) is Claim.CLAIMED:
            ledger.mark_failed(campaign_id, endpoint_id, UNCONFIRMED, now)
            released.append(endpoint_id)
    if len(released) != found.released:  # another run took some meanwhile: they are in progress now
        taken = found.released - len(released)
        found.counts[Verdict.UNCONFIRMED] = len(released)
        found.counts[Verdict.IN_PROGRESS] += taken
        found.decided[Verdict.UNCONFIRMED] = released
    found.applied = True
    return found


class ReconcileError(InvalidSettings):
    heading = "invalid reconcile settings"


def ledger_spec(spec: str) -> str:
    """The ledger spec, checked (a settings validator)."""
    try:
        return ledger_registry.check_spec(spec)
    except PinrecError as error:
        raise Violations([str(error)]) from None


@settings_dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class ReconcileSettings(Settings):
    """`pinrec send reconcile CAMPAIGN`: which campaign, in which ledger, with which lease and grace."""

    invalid: ClassVar[type[InvalidSettings]] = ReconcileError
    flags: ClassVar[Mapping[str, str]] = {"grace_seconds": "--grace"}

    campaign_id: Annotated[str, AfterValidator(check_campaign_id)]
    ledger: Annotated[str, AfterValidator(ledger_spec)]
    lease_seconds: float = Field(DEFAULT_LEASE_SECONDS, gt=0, allow_inf_nan=False)
    grace_seconds: float = Field(DEFAULT_EVENT_GRACE_SECONDS, ge=0, allow_inf_nan=False)
    dry_run: bool = False
    aws: AwsSettings = AwsSettings()

    def policy(self) -> ReconcilePolicy:
        return ReconcilePolicy(self.lease_seconds, self.grace_seconds)


def run_reconcile(settings: ReconcileSettings, clients: Any, now: float) -> Reconciliation:
    """Reconcile one campaign in an existing ledger (`dry_run`: judge only, change nothing)."""
    reader = ledger_registry.open_ledger(settings.ledger, clients, read_only=True)  # fails when there is none
    if settings.dry_run:
        try:
            return reconcile(reader, settings.campaign_id, now, settings.policy(), apply=False)
        finally:
            reader.close()
    reader.close()
    ledger = ledger_registry.open_ledger(settings.ledger, clients)
    try:
        return reconcile(ledger, settings.campaign_id, now, settings.policy())
    finally:
        ledger.close()
