"""`pinrec catalog load` as a library call: validated settings, then `load_catalog(settings)`.

The source streams (constant memory) through the record parser into the target's writer; which writer is the
target's backend's business (see transformer.stores).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import ClassVar

from pydantic import InstanceOf

from campaign_tools.catalog.records import read_csv, read_jsonl
from campaign_tools.catalog.sources import OpenedSource, SourceFormat, open_source, source_label
from campaign_tools.catalog.target import CatalogTarget, sdk_errors
from campaign_tools.settings import InvalidSettings, SettingsModel
from transformer.aws import AwsOptions
from transformer.collector import young_collections_less_often
from transformer.stores.base import CatalogLoadError, InvalidRecord, LoadOptions, LoadSummary, Progress, Record, Reject


class InvalidLoadSettings(InvalidSettings, CatalogLoadError):
    """A catalog load's settings break rules; nothing was read or changed."""

    heading = "invalid catalog load"


class CatalogLoadSettings(SettingsModel):
    """What to load where, and how. Built with every problem reported at once."""

    invalid: ClassVar[type[InvalidSettings]] = InvalidLoadSettings
    flags: ClassVar[Mapping[str, str]] = MappingProxyType({"source": "SOURCE", "target": "--store"})

    source: str
    """A local file, s3://BUCKET/KEY, or - for standard input."""
    target: InstanceOf[CatalogTarget]
    format: SourceFormat | None = None
    """None: from the source's name, else sniffed (a first line starting with `{` is JSON Lines)."""
    string_columns: tuple[str, ...] = ()
    """CSV columns whose cells stay text even when they look like numbers or booleans."""
    merge: bool = False
    skip_invalid: bool = False
    allow_empty: bool = False
    allow_shrink: bool = False
    """Accept a snapshot that removes more than MAX_SHRINK_SHARE (10 %) of the catalog's items."""
    concurrency: int = 8
    """Write requests in flight, for stores written over the network (DynamoDB)."""

    def problems(self) -> list[str]:
        found = []
        if self.concurrency < 1:
            found.append("--concurrency must be at least 1")
        if self.string_columns and self.format == "jsonl":
            found.append(STRING_COLUMNS_ARE_CSV_ONLY)
        return found

    @property
    def source_aws(self) -> AwsOptions:
        """An s3:// source is read as the target's profile, from the SDK's region and endpoint (those of the
        target's options name where the store is)."""
        return AwsOptions(profile=self.target.aws.profile)


STRING_COLUMNS_ARE_CSV_ONLY = "--string-columns applies to CSV sources only"


class _Rejections:
    """Counts skipped records and passes each on, naming the source."""

    def __init__(self, report: Reject | None, source: str) -> None:
        self.count = 0
        self._report = report
        self._source = source

    def __call__(self, problem: InvalidRecord) -> None:
        self.count += 1
        if self._report is not None:
            self._report(problem.named(self._source))


def _records(
    opened: OpenedSource, key: str, on_reject: Reject | None, string_columns: tuple[str, ...]
) -> Iterable[Record]:
    if opened.format == "csv":
        return read_csv(opened.lines, key, on_reject, string_columns, opened.label)
    if string_columns:
        raise CatalogLoadError(STRING_COLUMNS_ARE_CSV_ONLY)
    return read_jsonl(opened.lines, key, on_reject, opened.label)


def load_catalog(
    settings: CatalogLoadSettings,
    *,
    on_reject: Reject | None = None,
    progress: Progress | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> LoadSummary:
    """Load the source into the target: a snapshot (afterwards the catalog holds exactly the source's items) or,
    with `merge`, an upsert. A malformed record fails the load, naming its line, before anything is swapped or
    purged; with `skip_invalid` it is skipped, counted, and passed to `on_reject`. `progress` is called with the
    records read so far; `on_phase` is told when a long load enters a new phase. Every malformed record is named by
    the source (its path or URL, or "stdin") and line; one that fails the load also says how to skip such lines.

    A snapshot that would remove more than MAX_SHRINK_SHARE of the catalog's items is refused unless
    `allow_shrink` (ShrinkRefused); a catalog that was empty never shrinks."""
    target = settings.target
    label = source_label(settings.source)
    rejections = _Rejections(on_reject, label) if settings.skip_invalid else None
    options = LoadOptions(
        source=settings.source,
        merge=settings.merge,
        allow_empty=settings.allow_empty,
        allow_shrink=settings.allow_shrink,
        concurrency=settings.concurrency,
        aws=target.aws,
        on_reject=rejections,
        progress=progress,
        on_phase=on_phase,
        attributes=target.attributes,
    )
    try:
        with (
            sdk_errors(),
            young_collections_less_often(),
            open_source(settings.source, settings.format, aws=settings.source_aws) as opened,
        ):
            summary = target.store.load(_records(opened, target.key, rejections, settings.string_columns), options)
    except InvalidRecord as problem:
        raise problem.named(label, hint=True) from None
    summary.rejected = rejections.count if rejections is not None else 0
    return summary
