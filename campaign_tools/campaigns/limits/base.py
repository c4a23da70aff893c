"""Per-endpoint message limits: Pinpoint's `CampaignLimits` (`Daily`, `Total`) per campaign and the project's
limits (`ApplicationSettings.Limits`) across every campaign, kept beside the send ledger so that two campaigns
running at once cannot both pass a cap.

Semantics (the one rule every store applies, `refusal`):
- A *reservation* is one message to one endpoint from one send unit (`<campaign>.<slot>.<treatment>.<channel>`) of
  one campaign, made at instant `at` BEFORE the message is delivered. It counts against:
  - the campaign's `daily` cap: the campaign's reservations of the endpoint made less than 24 hours from `at`
    (`|at - reserved_at| < 86,400 s`: a rolling window, not the UTC calendar day — Pinpoint's "during a 24-hour
    period"; with calendar days an endpoint could get a message at 23:59 and another at 00:01; either side of `at`,
    so a clock set back cannot open a second window);
  - the campaign's `total` cap: all the campaign's reservations of the endpoint, ever;
  - the project's `daily` and `total` caps: the same over every campaign that reserves in this store (campaigns
    run with `pinrec campaign run` / `trigger` always record their reservations, capped or not, so they count
    towards the project caps of the others).
- Check and record are one atomic step (SQLite: one `BEGIN IMMEDIATE` transaction; DynamoDB: a conditional write on
  the endpoint's item version), so of two concurrent reservations only as many pass as the caps allow.
- A cap of None (0 in campaign.toml) is no limit. A refused reservation is `cap_total` when a total cap (the
  campaign's or the project's) is reached, else `cap_daily`: the endpoint is skipped with that reason.
- Reserving again for the same (unit, endpoint) returns the reservation that exists (a resumed run reuses what a
  killed run reserved) and counts nothing twice.
- `release` removes a reservation whose message was not delivered (failed, skipped after reserving, never
  attempted): it counts nowhere. A reservation whose message is in doubt (the ledger row stayed `pending`) is kept:
  if anything, a cap holds one message too many back, never lets one too many through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from campaign_tools.campaigns.definition import Limits

DAY_SECONDS = 86_400.0


class Refusal(StrEnum):
    CAP_DAILY = "cap_daily"
    CAP_TOTAL = "cap_total"


@dataclass(frozen=True, slots=True)
class Caps:
    """Messages per endpoint; None: no limit."""

    daily: int | None = None
    total: int | None = None
    project_daily: int | None = None
    project_total: int | None = None

    @classmethod
    def of(cls, limits: Limits) -> Caps:
        return cls(limits.daily, limits.total, limits.project.daily, limits.project.total)

    def __bool__(self) -> bool:
        return any(cap is not None for cap in (self.daily, self.total, self.project_daily, self.project_total))


@dataclass(frozen=True, slots=True)
class Counts:
    """An endpoint's reservations before a new one: the campaign's in 24 hours and ever, the project's likewise."""

    daily: int = 0
    total: int = 0
    project_daily: int = 0
    project_total: int = 0


def _reached(count: int, cap: int | None) -> bool:
    return cap is not None and count >= cap


def refusal(counts: Counts, caps: Caps) -> Refusal | None:
    """Why one more message to the endpoint would pass a cap, or None when it may go."""
    if _reached(counts.total, caps.total) or _reached(counts.project_total, caps.project_total):
        return Refusal.CAP_TOTAL
    if _reached(counts.daily, caps.daily) or _reached(counts.project_daily, caps.project_daily):
        return Refusal.CAP_DAILY
    return None


@dataclass(frozen=True, slots=True)
class Reservation:
    unit_id: str
    campaign_id: str
    endpoint_id: str
    at: float


class LimitStore(Protocol):
    def reserve(
        self, unit_id: str, campaign_id: str, endpoint_ids: Sequence[str], caps: Caps, at: float
    ) -> dict[str, Refusal | None]:
        """Reserve one message for each endpoint (each atomically with its check); endpoint id -> None when
        reserved (or already reserved by this unit), else the refusal. Repeated ids are reserved once."""
        ...

    def release(self, unit_id: str, endpoint_ids: Sequence[str]) -> None:
        """Remove the unit's reservations of these endpoints (those it has none for are ignored)."""
        ...

    def counts(self, campaign_id: str, endpoint_id: str, at: float) -> Counts:
        """The endpoint's reservations as `reserve` would judge them at `at` (reports and tests)."""
        ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


def recent(reserved_at: float, at: float) -> bool:
    """Whether a reservation counts against a daily cap judged at `at`."""
    return abs(at - reserved_at) < DAY_SECONDS


def counted(reservations: Sequence[tuple[str, float]], campaign_id: str, at: float) -> Counts:
    """Counts of an endpoint's reservations ((campaign, reserved_at) each) as judged at `at`."""
    daily = total = project_daily = 0
    for campaign, reserved_at in reservations:
        is_recent = recent(reserved_at, at)
        project_daily += is_recent
        if campaign == campaign_id:
            total += 1
            daily += is_recent
    return Counts(daily, total, project_daily, len(reservations))
