"""`pinrec segment build` as a library call: a definition evaluated over endpoint exports, streamed into a pinrec
segment (JSON Lines of Endpoint records, as `pinrec send --segment` reads them).

Memory stays constant whatever the exports' size: one record at a time is read, decided and written. Only imported
base segments (`--imported ID=FILE`) are held, as the set of their endpoint ids.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import field as dataclass_field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, TextIO

from pydantic import Field
from pydantic.dataclasses import dataclass

from campaign_tools.console import json_text
from campaign_tools.segments.definition import SegmentDefinition, load_definition, parse_now
from campaign_tools.segments.evaluate import Evaluator
from campaign_tools.send.segments import (
    MALFORMED_EXAMPLES,
    MalformedRow,
    _csv_records,
    _jsonl_records,
    check_endpoint,
    open_segment,
)
from campaign_tools.settings import SETTINGS_CONFIG, InvalidSettings, Settings
from transformer.aws import AwsOptions
from transformer.errors import PinrecError
from transformer.files import STDIN, is_s3_url, s3_client, upload_object

CSV_LIST_SEPARATOR = "|"


class InvalidSegmentBuild(InvalidSettings):
    heading = "invalid segment build"


@dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class SegmentBuildSettings(Settings):
    invalid: ClassVar[type[InvalidSettings]] = InvalidSegmentBuild
    flags: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"definition": "SEGMENT", "endpoints": "--endpoints", "sources": "--source"}
    )

    definition: str
    """The segment definition: a JSON file (SegmentResponse or WriteSegmentRequest)."""
    endpoints: Annotated[tuple[str, ...], Field(min_length=1)]
    """Endpoint exports: files (any name; gzip and format from the content), folders of them, s3:// or -."""
    out: str
    """The pinrec segment written: a local path, s3://BUCKET/KEY or - (standard output)."""
    now: str | None = None
    """The instant Behavior.Recency is measured from (ISO-8601); None: now."""
    sources: tuple[str, ...] = ()
    """Definitions of the base segments its groups name (their Id says which)."""
    imported: tuple[str, ...] = ()
    """Imported base segments as ID=FILE[,FILE...]: their endpoints (ids only are kept)."""
    aws: AwsOptions = dataclass_field(default_factory=AwsOptions)


@dataclasses.dataclass
class BuildReport:
    segment: str
    files: list[str] = dataclass_field(default_factory=list)
    rows: int = 0
    members: int = 0
    malformed: int = 0
    malformed_examples: list[str] = dataclass_field(default_factory=list)

    def malformed_row(self, where: str, line: int, reason: str) -> None:
        self.malformed += 1
        if len(self.malformed_examples) < MALFORMED_EXAMPLES:
            self.malformed_examples.append(f"{where} line {line}: {reason}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "files": self.files,
            "rows": self.rows,
            "members": self.members,
            "malformed": self.malformed,
            "malformed_examples": self.malformed_examples,
        }

    def text(self, out: str) -> str:
        lines = [
            f"segment {self.segment}: {self.members:,} of {self.rows:,} endpoints in {len(self.files)} file(s) "
            f"written to {out}"
        ]
        if self.malformed:
            lines.append(f"  malformed records: {self.malformed:,} skipped")
            lines += [f"    {example}" for example in self.malformed_examples]
        return "\n".join(lines)


def expand(locations: tuple[str, ...] | list[str]) -> list[str]:
    """Each location, a local folder standing for the files in it (sorted, hidden ones left out)."""
    found: list[str] = []
    for location in locations:
        path = Path(location)
        if location != STDIN and not is_s3_url(location) and path.is_dir():
            found += [str(item) for item in sorted(path.iterdir()) if item.is_file() and not item.name.startswith(".")]
        else:
            found.append(location)
    return found


def endpoint_records(
    locations: list[str], client: Callable[[], Any], on_malformed: Callable[[str, int, str], None]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, record) of every well-formed Endpoint record of the files, in order; the others go to `on_malformed`."""
    for location in locations:
        with open_segment(location, client=client() if is_s3_url(location) else None) as (kind, text):
            rows = _jsonl_records(text) if kind == "jsonl" else _csv_records(text, CSV_LIST_SEPARATOR)
            for line, record in rows:
                if isinstance(record, MalformedRow):
                    on_malformed(location, line, str(record))
                    continue
                try:
                    endpoint_id, _ = check_endpoint(record)
                except MalformedRow as problem:
                    on_malformed(location, line, str(problem))
                    continue
                yield endpoint_id, record  # type: ignore[misc]  # check_endpoint proved it a dict


def _imported(specs: tuple[str, ...], client: Callable[[], Any]) -> dict[str, frozenset[str]]:
    imported: dict[str, frozenset[str]] = {}
    for spec in specs:
        segment_id, separator, files = spec.partition("=")
        if not separator or not segment_id or not files:
            raise PinrecError(f"--imported {spec!r}: expected SEGMENT_ID=FILE[,FILE...]")
        ids = (endpoint_id for endpoint_id, _ in endpoint_records(expand(files.split(",")), client, _ignore))
        imported[segment_id] = frozenset(ids)
    return imported


def _ignore(where: str, line: int, reason: str) -> None:
    """Malformed records of an imported base segment are not members; the build's own files report theirs."""


def _definitions(paths: tuple[str, ...]) -> dict[str, SegmentDefinition]:
    found: dict[str, SegmentDefinition] = {}
    for path in paths:
        definition = load_definition(path)
        if not definition.segment_id:
            raise PinrecError(f"--source {path}: a base segment's definition needs its Id")
        found[definition.segment_id] = definition
    return found


@contextlib.contextmanager
def open_output(out: str, aws: AwsOptions, client: Callable[[], Any]) -> Iterator[TextIO]:
    """A text stream to `out`, replaced whole only when the build succeeds (S3: uploaded then)."""
    if out == STDIN:
        yield sys.stdout
        return
    local = None if is_s3_url(out) else Path(out)
    folder = local.parent if local is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".segment-", suffix=".jsonl", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
        if local is not None:
            os.replace(temporary, local)
        else:
            upload_object(Path(temporary), out, aws=aws, client=client())
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def build_segment(settings: SegmentBuildSettings) -> BuildReport:
    """Evaluate the definition over the exports and write its members; every problem with the definition or its
    base segments is raised before any endpoint is read."""
    clients: dict[str, Any] = {}

    def client() -> Any:
        if "s3" not in clients:
            clients["s3"] = s3_client(settings.aws)
        return clients["s3"]

    definition = load_definition(settings.definition)
    now = parse_now(settings.now)
    definitions = _definitions(settings.sources)
    for source_id in definition.source_ids():
        imported_given = any(spec.partition("=")[0] == source_id for spec in settings.imported)
        if source_id in definitions and definitions[source_id].imported and not imported_given:
            raise PinrecError(
                f"base segment {source_id} is imported: give its endpoints with --imported {source_id}=FILE"
            )
    # Known sources are checked (unknown ids, cycles) before the imported files are read.
    placeholder = {spec.partition("=")[0]: frozenset[str]() for spec in settings.imported}
    Evaluator(definition, now, definitions, placeholder)
    evaluator = Evaluator(definition, now, definitions, _imported(settings.imported, client))
    report = BuildReport(definition.label, expand(settings.endpoints))
    with open_output(settings.out, settings.aws, client) as output:
        for endpoint_id, record in endpoint_records(report.files, client, report.malformed_row):
            report.rows += 1
            if evaluator.matches(endpoint_id, record):
                report.members += 1
                output.write(json_text(record, compact=True) + "\n")
    return report


def member_ids(definition: SegmentDefinition, records: Mapping[str, Mapping[str, Any]], now: str) -> list[str]:
    """The ids of `records` in `definition` (no base segments): for callers holding a few records in memory."""
    evaluator = Evaluator(definition, parse_now(now))
    return [endpoint_id for endpoint_id, record in records.items() if evaluator.matches(endpoint_id, record)]
