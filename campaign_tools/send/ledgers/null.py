"""The ledger of a dry run: it records nothing, so a dry run leaves the real ledger as it was."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from campaign_tools.events.model import DeliveryEvent
from campaign_tools.send.ledgers.base import (
    CampaignRecord,
    Claim,
    ClaimPolicy,
    LedgerRow,
    LedgerSummary,
    MessageEvent,
    RecordedEvents,
    State,
)


class NullLedger:
    def describe(self) -> str:
        return "none (dry run)"

    def claim(self, campaign_id: str, endpoint_id: str, now: float, policy: ClaimPolicy) -> Claim:
        return Claim.CLAIMED

    def claim_many(
        self, campaign_id: str, endpoint_ids: Sequence[str], now: float, policy: ClaimPolicy
    ) -> dict[str, Claim]:
        return dict.fromkeys(endpoint_ids, Claim.CLAIMED)

    def mark_sent(self, campaign_id: str, endpoint_id: str, message_id: str, now: float) -> None:
        return None

    def mark_sent_many(self, campaign_id: str, sent: Sequence[tuple[str, str]], now: float) -> None:
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

    def campaign_record(self, campaign_id: str) -> CampaignRecord | None:
        return None

    def bind_campaign(self, campaign_id: str, binding: str, now: float, *, replace: bool = False) -> CampaignRecord:
        return CampaignRecord(campaign_id, binding, now, now)

    def record_events(self, events: Sequence[DeliveryEvent], now: float) -> RecordedEvents:
        return RecordedEvents(unknown=len(events))

    def events(self, campaign_id: str) -> Iterator[MessageEvent]:
        return iter(())

    def accepted_among(self, campaign_id: str, endpoint_ids: Sequence[str]) -> dict[str, str | None]:
        return {}

    def close(self) -> None:
        return None
