"""Pinpoint segments -> segment definition files (the SegmentResponse as exported, for `pinrec segment build`) and
built audiences (pinrec segments `pinrec send --segment` reads), evaluated over the project's endpoint exports.

Imported segments hold their endpoints: their files are looked for under `imports/<segment id>/` in the export
folder. A definition pinrec cannot evaluate as Pinpoint did is kept as a file and listed with its reasons.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from campaign_tools.migrate.outcome import Outcome
from campaign_tools.migrate.source import Found
from campaign_tools.segments.build import SegmentBuildSettings, build_segment
from campaign_tools.segments.definition import DefinitionError, SegmentDefinition, parse_definition
from transformer.errors import PinrecError

FILE_NAME = re.compile(r"[^A-Za-z0-9_-]+")
IMPORTS_FOLDER = "imports"


def file_name(found: Found) -> str:
    segment_id = found.body.get("Id")
    base = FILE_NAME.sub("-", found.name).strip("-") or "segment"
    return f"{base}-{segment_id}" if isinstance(segment_id, str) and segment_id and segment_id != found.name else base


def write_definitions(
    found: Sequence[Found], out: Path, folder: str
) -> dict[str, tuple[Found, str, SegmentDefinition | str]]:
    """Each segment's definition file; per segment id: the object, its file (relative) and its parsed definition,
    or why it cannot be evaluated."""
    written: dict[str, tuple[Found, str, SegmentDefinition | str]] = {}
    (out / folder).mkdir(parents=True, exist_ok=True)
    for item in found:
        relative = f"{folder}/{file_name(item)}.json"
        (out / relative).write_text(json.dumps({"SegmentResponse": item.body}, indent=2, ensure_ascii=False) + "\n")
        try:
            parsed: SegmentDefinition | str = parse_definition(item.body, relative)
        except DefinitionError as error:
            parsed = "; ".join(error.problems)
        key = item.body.get("Id") if isinstance(item.body.get("Id"), str) else relative
        written[str(key)] = (item, relative, parsed)
    return written


def imported_files(root: Path | None, segment_id: str, endpoint_files: Sequence[str]) -> list[str]:
    if root is None:
        return []
    folder = (root / IMPORTS_FOLDER / segment_id).resolve()
    return [path for path in endpoint_files if Path(path).resolve().is_relative_to(folder)]


def audience_path(definition: str, folder: str = "audiences") -> str:
    """Where the audience of a definition file (relative to the project) is written."""
    return f"{folder}/{Path(definition).stem}.jsonl"


def build_audiences(
    written: Mapping[str, tuple[Found, str, SegmentDefinition | str]],
    out: Path,
    folder: str,
    *,
    exports: Sequence[str],
    imports: Mapping[str, list[str]],
    now: datetime,
) -> list[Outcome]:
    outcomes = []
    sources = tuple(str(out / relative) for _, relative, parsed in written.values() if not isinstance(parsed, str))
    imported = tuple(f"{segment_id}={','.join(files)}" for segment_id, files in imports.items() if files)
    for segment_id, (item, relative, parsed) in written.items():
        outcome = Outcome("segment", f"{item.name} ({segment_id})", item.origin)
        outcome.became.append(f"`{relative}`: its definition, for `pinrec segment build`")
        outcomes.append(outcome)
        if isinstance(parsed, str):
            outcome.not_carried.append(f"its audience: the definition uses what pinrec cannot evaluate: {parsed}")
            continue
        endpoints = tuple(imports.get(segment_id, [])) if parsed.imported else tuple(exports)
        if not endpoints:
            why = (
                f"its imported endpoints were not in the export (put them under {IMPORTS_FOLDER}/{segment_id}/)"
                if parsed.imported
                else "no endpoint export was found to evaluate it over"
            )
            outcome.not_carried.append(f"its audience: {why}")
            continue
        audience = audience_path(relative, folder)
        settings = SegmentBuildSettings(
            definition=str(out / relative),
            endpoints=endpoints,
            out=str(out / audience),
            now=now.isoformat(),
            sources=tuple(source for source in sources if source != str(out / relative)),
            imported=imported,
        )
        try:
            report = build_segment(settings)
        except PinrecError as error:
            outcome.not_carried.append(f"its audience: {error}")
            continue
        outcome.became.append(
            f"`{audience}`: its audience, {report.members:,} of {report.rows:,} endpoints "
            f"(`pinrec send --segment {audience}`)"
        )
        if report.malformed:
            outcome.notes.append(
                f"{report.malformed:,} malformed export records skipped: " + "; ".join(report.malformed_examples)
            )
        if parsed.uses_recency():
            outcome.notes.append(
                f"Behavior.Recency was measured from {now.isoformat()} by each endpoint's EffectiveDate"
            )
        if any(source.version is not None for group in parsed.groups for source in group.sources):
            outcome.notes.append("SourceSegments name a Version: the exported definition of each base segment was used")
    return outcomes
