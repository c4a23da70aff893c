"""`pinrec campaign run`: the slots that are due now, each unit through the normal send, resuming through the ledger.

1. The segment is read once and split into the due slots' units (`stage.stage`, under `stage_dir`): (slot,
   treatment, channel) and each slot's holdout per channel. A unit's file is its send's segment, so its ledger
   binding (`send.binding`) stays the same on every run.
2. Each slot's holdout is recorded as skipped `holdout` under `<campaign>.<slot>.holdout.<channel>` (what
   `campaign report` reads for lift); recipients in quiet time (`skip` mode) as skipped `quiet_time` in their unit.
3. Each unit is one `SendRun` on `units.send_settings` (its treatment's template and sender settings, the
   campaign's pace), fed its records batch by batch inside the campaign's limits (`unit_send.LimitedSend`).

A re-run at the same `now` sends nothing twice: the ledger holds each unit's rows. `dry_run` composes every message
(the send's dry run), records nothing and reserves nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic.dataclasses import dataclass as settings_dataclass

from campaign_tools.campaigns.definition import CampaignDefinition, load_campaign
from campaign_tools.campaigns.ledger_units import HOLDOUT_REASON
from campaign_tools.campaigns.limits.base import Caps, LimitStore
from campaign_tools.campaigns.limits.registry import open_limits
from campaign_tools.campaigns.plan import window_of
from campaign_tools.campaigns.recipients import segment_rows
from campaign_tools.campaigns.schedule import State
from campaign_tools.campaigns.stage import Staged, read_unit, stage
from campaign_tools.campaigns.unit_send import LimitedSend, UnitOutcome
from campaign_tools.campaigns.units import SendUnit, send_settings
from campaign_tools.channels.base import ClientFactory
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import Ledger
from campaign_tools.send.run import SendRun, client_factory
from campaign_tools.send.settings import DEFAULT_LEDGER
from campaign_tools.settings import SETTINGS_CONFIG, Settings, check_with
from transformer.aws import AwsOptions
from transformer.errors import PinrecError
from transformer.files import is_s3_url

DEFAULT_STAGE_DIR = "pinrec-campaign-units"
QUIET_TIME = "quiet_time"


@dataclass(frozen=True)
class DeliveryOptions:
    """How a campaign's sends deliver and record: the `pinrec send` options a campaign run passes on."""

    ledger: str = DEFAULT_LEDGER
    outbox: str | None = None
    deliver: bool = False
    dry_run: bool = False
    suppression: str | None = None
    workers: int = 4
    aws: AwsOptions = field(default_factory=AwsOptions)

    def overrides(self) -> dict[str, Any]:
        aws = {"region": self.aws.region, "profile": self.aws.profile, "endpoint_url": self.aws.endpoint_url}
        return {
            "ledger": self.ledger,
            "outbox": self.outbox,
            "deliver": self.deliver,
            "dry_run": self.dry_run,
            "suppression": self.suppression,
            "workers": self.workers,
            "aws": aws,
        }


@settings_dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class CampaignRunSettings(Settings):
    file: Path
    """The campaign.toml."""
    now: datetime | None = None
    """The instant slots are judged at (default: the clock)."""
    segment: str | None = None
    segment_format: Literal["jsonl", "csv"] | None = None
    ledger: Annotated[str, check_with(ledger_registry.check_spec)] | None = None
    """The send ledger (and the limits beside it); None: the campaign file's `ledger`, else the default."""
    outbox: str | None = None
    deliver: bool = False
    dry_run: bool = False
    suppression: str | None = None
    """None: the campaign file's `suppression`, else what `pinrec send` would consult."""
    workers: int = 4
    stage_dir: Path = Path(DEFAULT_STAGE_DIR)
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def delivery(self, definition: CampaignDefinition) -> DeliveryOptions:
        """The delivery options: a run's own options override the campaign file's `ledger` and `suppression`."""
        aws = AwsOptions(region=self.region, profile=self.profile, endpoint_url=self.endpoint_url)
        ledger = self.ledger or definition.ledger or DEFAULT_LEDGER
        suppression = self.suppression or definition.suppression
        return DeliveryOptions(ledger, self.outbox, self.deliver, self.dry_run, suppression, self.workers, aws)


@dataclass
class CampaignRunResult:
    campaign_id: str
    now: datetime
    dry_run: bool
    rows: int = 0
    malformed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    slot_skips: Counter[str] = field(default_factory=Counter)
    holdout: Counter[str] = field(default_factory=Counter)
    """Slot (ISO) -> holdout recipients recorded."""
    units: list[UnitOutcome] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(unit.sent for unit in self.units)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "now": _iso(self.now),
            "dry_run": self.dry_run,
            "segment": {"rows": self.rows, "malformed": self.malformed, "skipped": dict(sorted(self.skipped.items()))},
            "skipped_in_slots": dict(sorted(self.slot_skips.items())),
            "holdout": dict(sorted(self.holdout.items())),
            "units": [unit.to_dict() for unit in self.units],
            "sent": self.sent,
        }

    def lines(self) -> list[str]:
        mode = " (dry run: nothing sent or recorded)" if self.dry_run else ""
        found = [f"campaign {self.campaign_id}: run at {_iso(self.now)}{mode}"]
        found.append(f"segment: {self.rows:,} rows, {self.malformed:,} malformed")
        if self.skipped:
            found.append("skipped: " + ", ".join(f"{r} {n:,}" for r, n in sorted(self.skipped.items())))
        if self.slot_skips:
            found.append("skipped in slots: " + ", ".join(f"{r} {n:,}" for r, n in sorted(self.slot_skips.items())))
        if not self.units and not self.holdout:
            found.append("no slot is due")
        for slot, n in sorted(self.holdout.items()):
            found.append(f"  holdout {slot}: {n:,} recorded")
        found += [unit.line() for unit in self.units]
        found.append(f"sent {self.sent:,}")
        return found


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Stores:
    """The ledger and limits a campaign's sends share (none in a dry run)."""

    def __init__(self, delivery: DeliveryOptions, clients: ClientFactory) -> None:
        self.ledger: Ledger | None = None
        self.limits: LimitStore | None = None
        if not delivery.dry_run:
            self.ledger = ledger_registry.open_ledger(delivery.ledger, clients)
            try:
                self.limits = open_limits(delivery.ledger, clients)
            except BaseException:
                self.ledger.close()
                raise

    def close(self) -> None:
        if self.limits is not None:
            self.limits.close()
        if self.ledger is not None:
            self.ledger.close()


def send_unit(
    definition: CampaignDefinition,
    unit: SendUnit,
    records: Any,
    *,
    delivery: DeliveryOptions,
    stores: Stores,
    clients: ClientFactory,
    clock: Callable[[], float],
    **settings: Any,
) -> UnitOutcome:
    """One unit's records through the send, inside the campaign's limits."""
    outcome = UnitOutcome(unit.send_id, unit.treatment, unit.channel, unit.at)
    duration = definition.limits.maximum_duration
    deadline = (unit.at + duration).timestamp() if duration is not None else None
    with SendRun(send_settings(definition, unit, **delivery.overrides(), **settings), clients=clients) as send:
        limited = LimitedSend(
            send, outcome, definition.id, Caps.of(definition.limits), stores.ledger, stores.limits, clock, deadline
        )
        return limited.run(records)


def _record(stores: Stores, unit_id: str, records: Any, reason: str, clock: Callable[[], float]) -> int:
    count = 0
    for record in records:
        count += 1
        if stores.ledger is not None:
            stores.ledger.mark_skipped(unit_id, str(record.get("Id")), reason, clock())
    return count


def run_staged(
    definition: CampaignDefinition,
    staged: Staged,
    result: CampaignRunResult,
    *,
    delivery: DeliveryOptions,
    clients: ClientFactory,
    clock: Callable[[], float] = time.time,
) -> CampaignRunResult:
    stores = Stores(delivery, clients)
    try:
        for unit in staged.ordered():
            if unit.quiet_path is not None:
                result.slot_skips[QUIET_TIME] += _record(
                    stores, unit.unit.send_id, read_unit(unit.quiet_path), QUIET_TIME, clock
                )
            if unit.holdout:
                result.holdout[_iso(unit.unit.at)] += _record(
                    stores, unit.unit.send_id, read_unit(unit.path), HOLDOUT_REASON, clock
                )
            elif unit.recipients:
                segment = {"segment": str(unit.path.resolve()), "segment_format": "jsonl"}
                outcome = send_unit(
                    definition,
                    unit.unit,
                    read_unit(unit.path),
                    delivery=delivery,
                    stores=stores,
                    clients=clients,
                    clock=clock,
                    **segment,
                )
                result.units.append(outcome)
    finally:
        stores.close()
    return result


def run_campaign(
    settings: CampaignRunSettings,
    *,
    clients: ClientFactory | None = None,
    clock: Callable[[], float] = time.time,
) -> CampaignRunResult:
    """Send the campaign's due slots (judged at `settings.now`, default the clock)."""
    definition = load_campaign(settings.file)
    if definition.schedule.frequency == "event":
        raise PinrecError(
            f"campaign {definition.id} is event-triggered: it has no slots to run; use `pinrec campaign trigger`"
        )
    segment = settings.segment or definition.segment
    if not segment:
        raise PinrecError("campaign run needs a segment: --segment FILE, or segment in the campaign file")
    delivery = settings.delivery(definition)
    clients = clients or client_factory(delivery.aws)
    now = settings.now or datetime.fromtimestamp(clock(), UTC)
    window = window_of(definition, now)
    folder = settings.stage_dir / definition.id
    s3 = clients("s3") if is_s3_url(segment) else None
    fmt = settings.segment_format or definition.segment_format
    with segment_rows(segment, fmt, definition.csv_list_separator, s3) as rows:
        staged = stage(definition, rows, window, frozenset({State.DUE}), folder)
    result = CampaignRunResult(definition.id, now, settings.dry_run, staged.rows, staged.malformed)
    result.skipped.update(staged.skipped)
    result.slot_skips.update(staged.slot_skips)
    return run_staged(definition, staged, result, delivery=delivery, clients=clients, clock=clock)
