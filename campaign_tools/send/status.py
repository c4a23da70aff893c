"""`pinrec send status CAMPAIGN`: a campaign's ledger summary, its rows in one state, and what the delivery events
of its in-doubt rows say (judged only: the ledger is opened read-only and nothing changes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass as settings_dataclass

from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import (
    DEFAULT_EVENT_GRACE_SECONDS,
    DEFAULT_LEASE_SECONDS,
    LedgerError,
    LedgerRow,
    LedgerSummary,
    State,
)
from campaign_tools.send.reconcile import ReconcilePolicy, Reconciliation, ledger_spec, reconcile
from campaign_tools.send.settings import AwsSettings, check_campaign_id
from campaign_tools.settings import SETTINGS_CONFIG, InvalidSettings, Settings
from transformer.errors import PinrecError


class StatusError(InvalidSettings):
    """`pinrec send status` was given settings it cannot use."""


@settings_dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class StatusSettings(Settings):
    invalid: ClassVar[type[InvalidSettings]] = StatusError
    flags: ClassVar[dict[str, str]] = {"event_grace_seconds": "--event-grace", "list_state": "--list"}

    campaign_id: Annotated[str, AfterValidator(check_campaign_id)]
    ledger: Annotated[str, AfterValidator(ledger_spec)]
    lease_seconds: float = Field(DEFAULT_LEASE_SECONDS, gt=0, allow_inf_nan=False)
    event_grace_seconds: float = Field(DEFAULT_EVENT_GRACE_SECONDS, ge=0, allow_inf_nan=False)
    list_state: State | None = None
    """Also list the campaign's rows in this state."""
    aws: AwsSettings = AwsSettings()


@dataclass
class CampaignStatus:
    summary: LedgerSummary
    rows: list[LedgerRow] = field(default_factory=list)
    outlook: Reconciliation | str | None = None
    """What the next run would settle from the delivery events (only when rows are in doubt), or why the events
    cannot be read."""


def campaign_status(settings: StatusSettings, clients: Any, now: float) -> CampaignStatus:
    ledger = ledger_registry.open_ledger(settings.ledger, clients, read_only=True)
    try:
        summary = ledger.summary(settings.campaign_id, now, settings.lease_seconds)
        if summary.total == 0:
            raise PinrecError(f"campaign {settings.campaign_id} has no rows in ledger {settings.ledger}")
        rows = list(ledger.rows(settings.campaign_id, settings.list_state)) if settings.list_state else []
        outlook: Reconciliation | str | None = None
        if summary.pending_in_doubt:
            policy = ReconcilePolicy(settings.lease_seconds, settings.event_grace_seconds)
            try:
                outlook = reconcile(ledger, settings.campaign_id, now, policy, apply=False)
            except LedgerError as error:
                outlook = str(error)
    finally:
        ledger.close()
    return CampaignStatus(summary, rows, outlook)
