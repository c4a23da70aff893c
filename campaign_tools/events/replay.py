"""`pinrec events ingest` as a library call: validated settings, the file's records through the ingest core, into
the ledger and suppression list the settings name. (The settings live here, not in ingest.py, so the events Lambda
imports the core without pydantic.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from campaign_tools.events.ingest import BATCH_EVENTS, IngestReport, ingest
from campaign_tools.events.reader import records_of
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.settings import DEFAULT_LEDGER
from campaign_tools.settings import InvalidSettings, SettingsModel, check_with
from campaign_tools.suppression import registry as suppression_registry
from transformer.aws import AwsOptions, client

PROGRESS_EVERY = 50_000
"""Records between two progress lines."""


class InvalidIngestSettings(InvalidSettings):
    heading = "invalid events ingest settings"


class IngestSettings(SettingsModel):
    """What `pinrec events ingest` reads and where it writes."""

    invalid: ClassVar[type[InvalidSettings]] = InvalidIngestSettings

    source: str
    """Event records: a file, s3://BUCKET/KEY or - (standard input)."""
    ledger: Annotated[str, check_with(ledger_registry.check_spec)] = DEFAULT_LEDGER
    suppression: Annotated[str | None, check_with(lambda spec: spec and suppression_registry.check_spec(spec))] = (
        suppression_registry.DEFAULT_SUPPRESSION
    )
    """None: events feed no suppression list."""
    batch_events: int = BATCH_EVENTS
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def problems(self) -> list[str]:
        found = [] if self.source.strip() else ["give the events file: FILE, s3://BUCKET/KEY or -"]
        if self.batch_events < 1:
            found.append("--batch-events must be at least 1")
        return found

    def aws(self) -> AwsOptions:
        return AwsOptions(region=self.region, profile=self.profile, endpoint_url=self.endpoint_url)


def ingest_events(
    settings: IngestSettings,
    *,
    now: float | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> IngestReport:
    """Replay the file's records into the ledger and the suppression list, counting what each record gave."""
    made: dict[str, Any] = {}

    def clients(service: str) -> Any:
        if service not in made:
            made[service] = client(service, settings.aws())
        return made[service]

    ledger = ledger_registry.open_ledger(settings.ledger, clients, durable=False)
    suppression = suppression_registry.open_suppression(settings.suppression, clients) if settings.suppression else None
    shown = [0]

    def report_progress(report: IngestReport) -> None:
        if report.records - shown[0] >= PROGRESS_EVERY:
            shown[0] = report.records
            progress(f"{report.records:,} records, {sum(report.events.values()):,} events")

    try:
        return ingest(
            records_of(settings.source, settings.aws(), clients("s3") if settings.source.startswith("s3://") else None),
            ledger,
            suppression,
            time.time() if now is None else now,
            batch_events=settings.batch_events,
            progress=report_progress,
        )
    finally:
        ledger.close()
        if suppression is not None:
            suppression.close()
