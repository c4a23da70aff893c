"""`--dry-run`: compose and check every message as delivery would (SMS part budget included), send and record nothing."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.send.delivery import Delivered
from campaign_tools.send.delivery_outbox import OutboxDeliverer
from campaign_tools.send.ledger import Claim, ClaimPolicy, LedgerRow, LedgerSummary, State
from campaign_tools.send.messages import Message


class DryRunDeliverer:
    idempotent = True

    def __init__(self, renderer: OutboxDeliverer) -> None:
        self._renderer = renderer

    def describe(self) -> str:
        return "dry run (nothing delivered)"

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        self._renderer.render(campaign_id, endpoint_id, message)
        return Delivered("dry-run")


class NullLedger:
    """Records nothing: a dry run leaves the ledger as it was."""

    def describe(self) -> str:
        return "none (dry run)"

    def claim(self, campaign_id: str, endpoint_id: str, now: float, policy: ClaimPolicy) -> Claim:
        return Claim.CLAIMED

    def mark_sent(self, campaign_id: str, endpoint_id: str, message_id: str, now: float) -> None:
        return None

    def mark_failed(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None:
        return None

    def mark_skipped(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None:
        return None

    def sent_among(self, campaign_id: str, endpoint_ids: list[str]) -> set[str]:
        return set()

    def summary(self, campaign_id: str, now: float, lease_seconds: float) -> LedgerSummary:
        return LedgerSummary(campaign_id)

    def rows(self, campaign_id: str, state: State) -> Iterator[LedgerRow]:
        return iter(())

    def close(self) -> None:
        return None
