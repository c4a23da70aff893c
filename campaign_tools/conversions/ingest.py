"""`pinrec conversions ingest`: JSON Lines conversions (a file, `s3://` or `-`) into a conversions store, in batches;
each line that holds no conversion is counted with its line and reason, and reading goes on."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator

from campaign_tools.conversions import registry
from campaign_tools.conversions.base import Added, ConversionStore
from campaign_tools.conversions.model import Conversion, Rejected, read_conversion
from campaign_tools.events.ingest import Located
from campaign_tools.events.reader import records_of
from campaign_tools.events.sources.base import Unparsed
from campaign_tools.settings import InvalidSettings, SettingsModel, Violations
from transformer.aws import AwsOptions, client
from transformer.errors import PinrecError

BATCH = 500
EXAMPLES = 20


class InvalidConversionsSettings(InvalidSettings):
    heading = "invalid conversions ingest settings"


def _spec(value: str) -> str:
    try:
        registry.check_spec(value)
    except PinrecError as error:
        raise Violations([str(error)]) from None
    return value


class ConversionsIngestSettings(SettingsModel):
    invalid: ClassVar[type[InvalidSettings]] = InvalidConversionsSettings

    source: str
    """JSON Lines: a file, s3://BUCKET/KEY or - (standard input); gzip is read from the content."""
    conversions: Annotated[str, AfterValidator(_spec)] = registry.DEFAULT_CONVERSIONS
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def problems(self) -> list[str]:
        return [] if self.source.strip() else ["give the conversions file: FILE, s3://BUCKET/KEY or -"]

    def aws(self) -> AwsOptions:
        return AwsOptions(region=self.region, profile=self.profile, endpoint_url=self.endpoint_url)


@dataclass
class ConversionsReport:
    lines: int = 0
    added: int = 0
    duplicates: int = 0
    """Conversion ids already stored (a replayed file, or the same conversion twice)."""
    malformed: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[int | None, str]] = field(default_factory=list)
    """The first lines that held no conversion: (line, reason)."""

    def reject(self, line: int | None, reason: str) -> None:
        self.malformed[reason] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append((line, reason))

    def stored(self, added: Added) -> None:
        self.added += added.added
        self.duplicates += added.duplicates

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.lines,
            "added": self.added,
            "duplicates": self.duplicates,
            "malformed": sum(self.malformed.values()),
            "malformed_by_reason": dict(sorted(self.malformed.items())),
            "malformed_examples": [{"line": line, "reason": reason} for line, reason in self.examples],
        }

    def text(self) -> list[str]:
        found = [
            f"{self.lines:,} records: {self.added:,} conversions added, {self.duplicates:,} already stored, "
            f"{sum(self.malformed.values()):,} malformed"
        ]
        found += [f"  line {line}: {reason}" for line, reason in self.examples]
        return found


def ingest(records: Iterable[Located], store: ConversionStore, now: float) -> ConversionsReport:
    """Every record's conversion into the store, BATCH at a time; a record without one is counted, not stored."""
    report = ConversionsReport()
    batch: list[Conversion] = []
    for located in records:
        report.lines += 1
        value = located.value
        found = Rejected(f"not JSON ({value.reason})") if isinstance(value, Unparsed) else read_conversion(value)
        if isinstance(found, Rejected):
            report.reject(located.line, found.reason)
            continue
        batch.append(found)
        if len(batch) >= BATCH:
            report.stored(store.add(batch, now))
            batch = []
    if batch:
        report.stored(store.add(batch, now))
    return report


def ingest_conversions(settings: ConversionsIngestSettings, *, now: float | None = None) -> ConversionsReport:
    """The library entry point of `pinrec conversions ingest`."""
    made: dict[str, Any] = {}

    def clients(service: str) -> Any:
        if service not in made:
            made[service] = client(service, settings.aws())
        return made[service]

    store = registry.open_conversions(settings.conversions, clients)
    try:
        s3 = clients("s3") if settings.source.startswith("s3://") else None
        return ingest(records_of(settings.source, settings.aws(), s3), store, time.time() if now is None else now)
    finally:
        store.close()


__all__ = ["ConversionsIngestSettings", "ConversionsReport", "ingest", "ingest_conversions"]
