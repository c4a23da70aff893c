"""The send ledger: one row per (campaign id, endpoint id), written before and after each delivery.

States: `pending` (claimed, delivery under way or interrupted), `sent`, `failed` (reason, attempts; retried by a
later run), `skipped` (reason; looked at again by a later run). `sent` is final: no run claims it again.

Beside its rows, a campaign has one *campaign record*: what the campaign was bound to when it first wrote a row (the
template, configuration, segment, channel and recommendations it sends; see `campaign_tools.send.binding`). It is
kept apart from the rows, so summaries and listings never count it as an endpoint.

A `pending` row whose claim is older than the lease is *in doubt*: its run died between delivering and recording.
For an idempotent deliverer (the outbox) re-delivery is harmless and happens on the next run. For SES, SMS and push
(no idempotency token) the delivery events settle it (`campaign_tools.send.reconcile`, before every resumed run):
marked sent when an event shows the provider accepted it, released to be sent again when none came within the
lease and the event grace period. Otherwise it is left alone unless the run is given `reclaim_expired`
(`--retry-pending`): at least once by explicit choice.

Beside the rows, the ledger keeps the *delivery events* of its messages (`record_events`): each attributed to one
(campaign, endpoint) by the message tags the send set or by the provider's message id, stored once per event id.
Any event of a message proves the provider accepted it: that is how an in-doubt row is reconciled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from campaign_tools.events.model import DeliveryEvent
from transformer.errors import PinrecError

DEFAULT_LEASE_SECONDS = 900.0
DEFAULT_EVENT_GRACE_SECONDS = 900.0
"""How long a message's delivery events may take to reach the ledger once its claim's lease ran out
(`campaign_tools.send.reconcile`)."""


class State(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Claim(StrEnum):
    CLAIMED = "claimed"
    ALREADY_SENT = "already_sent"
    IN_PROGRESS = "in_progress"
    """Pending, claimed by a run within the lease: perhaps another run is sending it now."""
    IN_DOUBT = "in_doubt"
    """Pending past the lease: perhaps delivered, not recorded. Settled by its delivery events (reconciliation), or
    resent by --retry-pending."""


class LedgerError(PinrecError):
    """The ledger cannot be opened, read or written."""


@dataclass(frozen=True)
class ClaimPolicy:
    run_id: str
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    reclaim_pending: bool = False
    """Claim pending rows whatever their age: for idempotent delivery, or by explicit choice (--retry-pending)."""
    reclaim_expired: bool = False
    """Claim pending rows past the lease (--retry-pending)."""


def decide(state: State | None, claimed_at: float | None, now: float, policy: ClaimPolicy) -> Claim:
    """Whether a row in `state` may be claimed now: the one rule both ledgers apply."""
    if state is None or state in (State.FAILED, State.SKIPPED):
        return Claim.CLAIMED
    if state is State.SENT:
        return Claim.ALREADY_SENT
    expired = claimed_at is None or now - claimed_at >= policy.lease_seconds
    if policy.reclaim_pending or (expired and policy.reclaim_expired):
        return Claim.CLAIMED
    return Claim.IN_DOUBT if expired else Claim.IN_PROGRESS


@dataclass
class LedgerSummary:
    campaign_id: str
    sent: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    pending_in_lease: int = 0
    pending_in_doubt: int = 0
    oldest_pending: float | None = None
    first_at: float | None = None
    last_at: float | None = None

    @property
    def total(self) -> int:
        return (
            self.sent
            + sum(self.failed.values())
            + sum(self.skipped.values())
            + self.pending_in_lease
            + self.pending_in_doubt
        )

    def add(self, state: str, reason: str | None, claimed_at: float | None, updated_at: float | None) -> None:
        """Count one row; `now - claimed_at` against the lease is decided by the caller via `add_pending`."""
        if state == State.SENT:
            self.sent += 1
        elif state == State.FAILED:
            self.failed[reason or "unknown"] += 1
        elif state == State.SKIPPED:
            self.skipped[reason or "unknown"] += 1
        if updated_at is not None:
            self.first_at = updated_at if self.first_at is None else min(self.first_at, updated_at)
            self.last_at = updated_at if self.last_at is None else max(self.last_at, updated_at)

    def add_pending(self, claimed_at: float | None, now: float, lease_seconds: float) -> None:
        if claimed_at is not None and now - claimed_at < lease_seconds:
            self.pending_in_lease += 1
        else:
            self.pending_in_doubt += 1
        if claimed_at is not None:
            self.oldest_pending = claimed_at if self.oldest_pending is None else min(self.oldest_pending, claimed_at)


@dataclass(frozen=True)
class LedgerRow:
    endpoint_id: str
    state: str
    reason: str | None
    attempts: int
    updated_at: float | None


@dataclass(frozen=True)
class CampaignRecord:
    """What a campaign id is bound to: the binding as the send wrote it (JSON text), and when."""

    campaign_id: str
    binding: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class RecordedEvents:
    """What `record_events` did with a batch of events."""

    recorded: int = 0
    duplicates: int = 0
    """Already stored (the same event id delivered again): nothing changed."""
    unknown: int = 0
    """Neither their tags nor their message id name a message of this ledger: counted, not stored."""

    def __add__(self, other: RecordedEvents) -> RecordedEvents:
        return RecordedEvents(
            self.recorded + other.recorded, self.duplicates + other.duplicates, self.unknown + other.unknown
        )


@dataclass(frozen=True)
class MessageEvent:
    """A delivery event as the ledger keeps it: attributed to one message, without the recipient's address."""

    campaign_id: str
    endpoint_id: str
    event_id: str
    channel: str
    kind: str
    occurred_at: float
    message_id: str | None = None
    subtype: str | None = None
    detail: str | None = None
    link: str | None = None
    topic: str | None = None


class Ledger(Protocol):
    def claim(self, campaign_id: str, endpoint_id: str, now: float, policy: ClaimPolicy) -> Claim: ...

    def claim_many(
        self, campaign_id: str, endpoint_ids: Sequence[str], now: float, policy: ClaimPolicy
    ) -> dict[str, Claim]:
        """`claim` for each of the (distinct) endpoints, in one transaction where the ledger has them: every claim
        made is durable (as `claim`'s is) when this returns."""
        ...

    def mark_sent(self, campaign_id: str, endpoint_id: str, message_id: str, now: float) -> None: ...

    def mark_sent_many(self, campaign_id: str, sent: Sequence[tuple[str, str]], now: float) -> None:
        """`mark_sent` for each (endpoint id, message id), in one transaction where the ledger has them."""
        ...

    def mark_failed(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None: ...

    def mark_skipped(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None:
        """Record why an endpoint got no message, unless it is already sent or pending."""
        ...

    def sent_among(self, campaign_id: str, endpoint_ids: list[str]) -> set[str]: ...

    def summary(self, campaign_id: str, now: float, lease_seconds: float) -> LedgerSummary: ...

    def rows(self, campaign_id: str, state: State) -> Iterator[LedgerRow]:
        """The campaign's rows in one state, by endpoint id."""
        ...

    def campaign_record(self, campaign_id: str) -> CampaignRecord | None:
        """The campaign's record, or None when the campaign never wrote a row since records exist."""
        ...

    def bind_campaign(self, campaign_id: str, binding: str, now: float, *, replace: bool = False) -> CampaignRecord:
        """Write the campaign's record unless it has one (atomically: concurrent senders agree on one), or replace
        it; returns the record in force afterwards."""
        ...

    def record_events(self, events: Sequence[DeliveryEvent], now: float) -> RecordedEvents:
        """Store each event once under its event id, attributed to the message its tags (campaign and endpoint, when
        that row exists) or else its message id name; events arrive in any order, any number of times."""
        ...

    def events(self, campaign_id: str) -> Iterator[MessageEvent]:
        """The campaign's stored events, by time of occurrence (then event id)."""
        ...

    def accepted_among(self, campaign_id: str, endpoint_ids: Sequence[str]) -> dict[str, str | None]:
        """Of these endpoints, those with at least one stored event (the provider accepted their message), each with
        the message id the event carried (None when it carried none)."""
        ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


def no_check(target: str, clients: Callable[[str], Any]) -> list[str]:
    return []


@dataclass(frozen=True)
class LedgerKind:
    """How `--ledger KIND:TARGET` opens one kind of ledger, and checks it can before a send starts."""

    kind: str
    usage: str
    """e.g. sqlite:PATH"""
    open: Callable[[str, Callable[[str], Any], bool], Ledger]
    """(target, AWS client factory, durable) -> the ledger; `durable`: every commit reaches the disk first."""
    open_existing: Callable[[str, Callable[[str], Any]], Ledger] | None = None
    """(target, AWS client factory) -> the ledger, to read only: creates nothing, fails when there is none.
    None: `open` creates nothing anyway (a table named by its ARN or name)."""
    check: Callable[[str, Callable[[str], Any]], list[str]] = no_check
    """(target, AWS client factory) -> why the ledger cannot be used (nothing opened or written), for the preflight."""
