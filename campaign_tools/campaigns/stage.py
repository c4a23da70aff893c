"""A campaign's segment split into its send units: one pass over the segment writes each recipient's record to the
JSON Lines file of every unit it belongs to, `<folder>/<unit id>.jsonl` — (slot, treatment or `holdout`, channel),
as `units.SendUnit` names them (each file replaced whole) — for the slots of the states asked for (`due` for `campaign run`, `upcoming` for
`campaign deploy`'s S3 objects). Memory holds one open file per unit, never the segment.

A recipient in quiet time at a slot that is otherwise due (`quiet_time_mode = "skip"`, the slot at or before `now`
and within `max_lateness`) is written to `<unit id>.quiet_time.jsonl`: the run records it as skipped `quiet_time`.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from campaign_tools.campaigns.definition import HOLDOUT, CampaignDefinition
from campaign_tools.campaigns.plan import Planner
from campaign_tools.campaigns.recipients import Malformed, Recipient, Skipped, recipient
from campaign_tools.campaigns.schedule import Fire, State, Window
from campaign_tools.campaigns.units import SendUnit

QUIET_SUFFIX = ".quiet_time"


@dataclass
class StagedUnit:
    unit: SendUnit
    path: Path
    recipients: int = 0
    quiet_path: Path | None = None
    quiet: int = 0

    @property
    def holdout(self) -> bool:
        return self.unit.treatment == HOLDOUT


@dataclass
class Staged:
    rows: int = 0
    malformed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    """Endpoints the campaign cannot send to at all (no_channel, opted_out, ...), by reason."""
    slot_skips: Counter[str] = field(default_factory=Counter)
    """Recipients of slots in the window skipped as late or expired (quiet time is recorded per unit)."""
    units: dict[str, StagedUnit] = field(default_factory=dict)

    def ordered(self) -> list[StagedUnit]:
        """By slot, then treatment and channel; each slot's holdout first (it only records rows)."""
        return sorted(self.units.values(), key=lambda s: (s.unit.at, not s.holdout, s.unit.treatment, s.unit.channel))


def _quiet_and_due(fire: Fire, window: Window, definition: CampaignDefinition, group: str) -> bool:
    lateness = definition.schedule_of(group).max_lateness if group != HOLDOUT else definition.schedule.max_lateness
    return fire.state is State.QUIET_TIME and fire.at <= window.now and window.now - fire.at <= lateness


class _Writer:
    def __init__(self, folder: Path, staged: Staged, files: ExitStack) -> None:
        self.folder = folder
        self.staged = staged
        self.files = files
        self.open: dict[Path, IO[str]] = {}

    def _file(self, path: Path) -> IO[str]:
        handle = self.open.get(path)
        if handle is None:
            handle = self.open[path] = self.files.enter_context(_partial(path).open("w", encoding="utf-8"))
        return handle

    def finish(self) -> None:
        """Each file takes its name whole (a run reading the previous version keeps reading that one)."""
        for path, handle in self.open.items():
            handle.close()
            os.replace(_partial(path), path)

    def write(self, unit: SendUnit, record: dict[str, Any], *, quiet: bool) -> None:
        staged = self.staged.units.get(unit.send_id)
        if staged is None:
            staged = self.staged.units[unit.send_id] = StagedUnit(unit, self.folder / f"{unit.send_id}.jsonl")
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        if quiet:
            staged.quiet_path = self.folder / f"{unit.send_id}{QUIET_SUFFIX}.jsonl"
            self._file(staged.quiet_path).write(line)
            staged.quiet += 1
        else:
            self._file(staged.path).write(line)
            staged.recipients += 1


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def stage(
    definition: CampaignDefinition,
    rows: Iterable[tuple[int, object]],
    window: Window,
    states: frozenset[State],
    folder: Path,
) -> Staged:
    """Write the recipients of the window's slots in `states` to their units' files under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    planner = Planner(definition, window)
    staged = Staged()
    with ExitStack() as files:
        writer = _Writer(folder, staged, files)
        for line, record in rows:
            staged.rows += 1
            found = recipient(line, record, planner.channels)
            if isinstance(found, Malformed):
                staged.malformed += 1
            elif isinstance(found, Skipped):
                staged.skipped[found.reason] += 1
            else:
                _stage_recipient(definition, planner, found, states, writer)
    writer.finish()
    for unit in staged.units.values():
        if not unit.path.exists():
            unit.path.touch()
    return staged


def _stage_recipient(
    definition: CampaignDefinition, planner: Planner, found: Recipient, states: frozenset[State], writer: _Writer
) -> None:
    group = planner.group_of(found)
    record = {**found.endpoint, "Id": found.endpoint_id}
    for fire in planner.fires(group, planner.zone_of(found)):
        unit = SendUnit(definition.id, fire.at, group, found.channel.name)
        if fire.state in states:
            writer.write(unit, record, quiet=False)
        elif State.DUE in states and _quiet_and_due(fire, planner.window, definition, group):
            writer.write(unit, record, quiet=True)
        elif fire.state in (State.LATE, State.EXPIRED) and group != HOLDOUT:
            writer.staged.slot_skips[fire.state.value] += 1


def read_unit(path: Path) -> Iterator[dict[str, Any]]:
    """The records a stage wrote (its own JSON Lines: every line an object)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                if isinstance(record, dict):
                    yield record
