"""`pinrec send report`: read a campaign's ledger, compute its report, write the HTML page when asked."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field
from pydantic.dataclasses import dataclass as settings_dataclass

from campaign_tools.report.figures import CampaignReport, LedgerFacts, ReportBuilder, campaign_channel
from campaign_tools.send.binding import CampaignBinding
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import DEFAULT_LEASE_SECONDS, Ledger, State
from campaign_tools.send.run import client_factory
from campaign_tools.send.settings import DEFAULT_LEDGER
from campaign_tools.settings import SETTINGS_CONFIG, Settings, check_with, rule
from transformer.aws import AwsOptions
from transformer.errors import PinrecError

SENT_AMONG_CHUNK = 500


def _html_problems(path: Path | None) -> list[str]:
    if path is not None and path.is_dir():
        return [f"--html must name a file, {path} is a folder"]
    return []


@settings_dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class ReportSettings(Settings):
    """What `pinrec send report` reads and writes."""

    campaign_id: Annotated[str, Field(min_length=1)]
    ledger: Annotated[str, check_with(ledger_registry.check_spec)] = DEFAULT_LEDGER
    html: Annotated[Path | None, rule(_html_problems)] = None
    """Write the HTML report here (needs the `pinrec[report]` extra)."""
    lease_seconds: Annotated[float, Field(gt=0)] = DEFAULT_LEASE_SECONDS
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    flags: ClassVar[Mapping[str, str]] = {"campaign_id": "CAMPAIGN"}

    def aws(self) -> AwsOptions:
        return AwsOptions(region=self.region, profile=self.profile, endpoint_url=self.endpoint_url)


@dataclass(frozen=True)
class ReportResult:
    report: CampaignReport
    html: Path | None
    """Where the HTML report was written, when asked."""


def binding_channel(ledger: Ledger, campaign_id: str) -> str | None:
    """The channel the campaign was bound to when it started, when its record says."""
    record = ledger.campaign_record(campaign_id)
    if record is None:
        return None
    try:
        channel = CampaignBinding.from_json(record.binding).parts["channel"].shown
    except (ValueError, KeyError, TypeError):
        return None
    return channel or None


def read_report(ledger: Ledger, campaign_id: str, now: float, lease_seconds: float) -> CampaignReport:
    """The campaign's report from what the ledger holds; PinrecError when it holds nothing of the campaign."""
    summary = ledger.summary(campaign_id, now, lease_seconds)
    builder = ReportBuilder()
    for event in ledger.events(campaign_id):
        builder.add(event)
    if summary.total == 0 and not builder.endpoints:
        raise PinrecError(f"campaign {campaign_id} has no rows in ledger {ledger.describe()}")
    with_events = sorted(builder.endpoints)
    sent_with_events: set[str] = set()
    for start in range(0, len(with_events), SENT_AMONG_CHUNK):
        sent_with_events |= ledger.sent_among(campaign_id, with_events[start : start + SENT_AMONG_CHUNK])
    facts = LedgerFacts(
        summary=summary,
        channel=campaign_channel(binding_channel(ledger, campaign_id), builder.channels),
        failed_rows={row.endpoint_id: row.reason or "unknown" for row in ledger.rows(campaign_id, State.FAILED)},
        sent_with_events=frozenset(sent_with_events),
    )
    return builder.finish(campaign_id, facts, now)


def campaign_report(
    settings: ReportSettings, *, now: float | None = None, clients: Callable[[str], Any] | None = None
) -> ReportResult:
    """The library entry point of `pinrec send report`: the report, and the HTML page written when asked."""
    if settings.html is not None:
        from campaign_tools.report import charts

        charts.require_plotting()  # before reading a large ledger: the missing extra is named at once
    ledger = ledger_registry.open_ledger(settings.ledger, clients or client_factory(settings.aws()), read_only=True)
    try:
        report = read_report(ledger, settings.campaign_id, time.time() if now is None else now, settings.lease_seconds)
    finally:
        ledger.close()
    if settings.html is None:
        return ReportResult(report, None)
    from campaign_tools.report.html import render_html

    settings.html.parent.mkdir(parents=True, exist_ok=True)
    settings.html.write_text(render_html(report), encoding="utf-8")
    return ReportResult(report, settings.html)
