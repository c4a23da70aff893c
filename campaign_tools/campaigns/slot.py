"""A deployed campaign's slot, started on AWS: what the slot function (`slot_lambda`, `handlers/campaign_slot.py`)
does when one of `campaign deploy`'s EventBridge Scheduler schedules fires for its unit (slot, treatment, channel).

1. The slot is judged at the later of the clock and the slot instant (a schedule fires at its slot, never before
   it): a slot later than its `max_lateness` is `late`, one after the campaign's `expiry` `expired`, and nothing is
   started.
2. The campaign's segment is streamed once (`stage.stage` over the slot's window: this instant only) into the
   slot's unit files under the function's /tmp; the unit's own file is uploaded whole to
   `<unit prefix><unit id>.jsonl`, the object the execution reads. Its recipients in quiet time (`skip` mode) are
   recorded as skipped `quiet_time` in the unit, the slot's holdout of the unit's channel as skipped `holdout` under
   `<campaign>.<slot>.holdout.<channel>` (what `campaign report` reads; every unit of the slot writes the same rows:
   a skip is idempotent).
3. As `pinrec send --on-aws` does before its execution: the unit's send (`units.send_settings`) binds its id in the
   ledger (`send.binding`: the same template, configuration and unit segment on every start) and settles the rows
   earlier starts left in doubt (`send.reconcile`), then the send state machine's execution starts with the input
   `campaign deploy` used to give the schedules (`execution_payload`). The function does not follow it.

A unit without recipients now (the segment changed since deploy) starts nothing. A start that fails raises: Lambda
retries it (the ledger sends nobody twice) and then hands it to the dead-letter queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from campaign_tools.campaigns.definition import HOLDOUT, CampaignDefinition
from campaign_tools.campaigns.ledger_units import HOLDOUT_REASON
from campaign_tools.campaigns.recipients import segment_rows
from campaign_tools.campaigns.schedule import State, Window
from campaign_tools.campaigns.stage import Staged, StagedUnit, read_unit, stage
from campaign_tools.campaigns.units import SendUnit, send_settings
from campaign_tools.channels.base import ClientFactory
from campaign_tools.send.ledgers.base import Ledger
from campaign_tools.send.settings import SendSettings
from transformer.errors import PinrecError
from transformer.files import is_s3_url, split_s3_url

QUIET_TIME = "quiet_time"
SLOT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class SlotError(PinrecError):
    """The slot cannot be started: a bad input, or a campaign the function cannot send."""


@dataclass(frozen=True)
class SlotRequest:
    """What a schedule hands the slot function: its unit."""

    campaign: str
    slot: datetime
    treatment: str
    channel: str

    @property
    def unit(self) -> SendUnit:
        return SendUnit(self.campaign, self.slot, self.treatment, self.channel)

    def to_dict(self) -> dict[str, str]:
        return {
            "campaign": self.campaign,
            "slot": f"{self.slot:{SLOT_FORMAT}}",
            "treatment": self.treatment,
            "channel": self.channel,
            "unit": self.unit.send_id,
        }


def read_request(event: object) -> SlotRequest:
    """The schedule's input (any JSON value): `campaign`, `slot` (UTC, to the second), `treatment`, `channel`, and
    `unit`, which must be the id those four make."""
    if not isinstance(event, Mapping):
        raise SlotError("the slot input must be an object with campaign, slot, treatment, channel and unit")
    texts = {name: event.get(name) for name in ("campaign", "slot", "treatment", "channel", "unit")}
    missing = [name for name, value in texts.items() if not isinstance(value, str) or not value]
    if missing:
        raise SlotError(f"the slot input needs {', '.join(missing)} (text)")
    try:
        slot = datetime.strptime(str(texts["slot"]), SLOT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SlotError("slot must be a UTC instant to the second, YYYY-MM-DDTHH:MM:SSZ") from None
    request = SlotRequest(str(texts["campaign"]), slot, str(texts["treatment"]), str(texts["channel"]))
    if request.unit.send_id != texts["unit"]:
        raise SlotError(f"unit {texts['unit']} is not the unit of the input's campaign, slot, treatment and channel")
    return request


@dataclass(frozen=True)
class SlotTarget:
    """Where the slot's send runs: the stacks' state machine, ledger and unit prefix (the function's environment)."""

    state_machine_arn: str
    ledger_table: str
    unit_prefix: str
    """s3://BUCKET/PREFIX/: the unit's segment object is <prefix><unit id>.jsonl (the state machine reads it)."""
    max_concurrency: int = 10
    suppression: str = "none"
    """The list the children consult (dynamodb:TABLE), or none."""
    segment: str | None = None
    """The campaign's endpoints (s3://); None: the campaign file's `segment`."""

    def problems(self) -> list[str]:
        found = []
        if ":states:" not in self.state_machine_arn or ":stateMachine:" not in self.state_machine_arn:
            found.append("the state machine must be a Step Functions state machine ARN")
        if not is_s3_url(self.unit_prefix) or not split_s3_url(self.unit_prefix)[0]:
            found.append("the unit prefix must be s3://BUCKET/PREFIX/")
        if not 1 <= self.max_concurrency <= 10_000:
            found.append("the maximum concurrency must be 1 to 10,000")
        if self.suppression != "none" and not self.suppression.startswith("dynamodb:"):
            found.append("the suppression list must be dynamodb:TABLE (the children read it) or none")
        return found


@dataclass
class SlotResult:
    request: SlotRequest
    status: str
    """started; late, expired (past its slot's bounds); no_recipients."""
    recipients: int = 0
    quiet_time: int = 0
    holdout: int = 0
    segment: dict[str, int] = field(default_factory=dict)
    """Rows read and malformed, and the segment's skips by reason."""
    execution_arn: str | None = None
    reconciled: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.request.to_dict(),
            "status": self.status,
            "recipients": self.recipients,
            "quiet_time": self.quiet_time,
            "holdout": self.holdout,
            "segment": self.segment,
            "execution": self.execution_arn,
            "reconciled": self.reconciled,
        }


def check_request(definition: CampaignDefinition, request: SlotRequest) -> None:
    if request.campaign != definition.id:
        raise SlotError(f"this function sends campaign {definition.id}, not {request.campaign}")
    treatments = {definition.treatment_name, *(treatment.name for treatment in definition.treatments)}
    if request.treatment not in treatments:
        raise SlotError(f"campaign {definition.id} has no treatment {request.treatment} (holdout gets no message)")
    if request.channel not in definition.channels.given():
        raise SlotError(f"campaign {definition.id} has no {request.channel} message")
    if definition.limits.messages_per_second is None:
        raise SlotError(missing_rate(definition.id))


def missing_rate(campaign_id: str) -> str:
    return (
        f"campaign {campaign_id}: a deployed campaign paces at [limits] messages_per_second (the slot function reads "
        "no sending quota): set it"
    )


def template_name(definition: CampaignDefinition, unit: SendUnit) -> str | None:
    """The template the send stack's children compose from: the unit's `template`, or its built folder's name."""
    message = definition.message(unit.treatment, unit.channel)
    if message.template or not message.built:
        return message.template
    from campaign_tools.templates.prebuilt import load_prebuilt

    return load_prebuilt(Path(message.built)).name


def execution_payload(
    definition: CampaignDefinition, unit: SendUnit, settings: SendSettings, target: SlotTarget
) -> dict[str, Any]:
    """The state machine execution input of one unit: `pinrec send --on-aws`'s over the unit's segment object."""
    from campaign_tools.send.on_aws import child_settings, execution_input

    bucket, key = unit_object(target, unit)
    children = child_settings(settings, template_name(definition, unit), target.max_concurrency)
    payload = execution_input(bucket, key, children, target.max_concurrency)
    payload["campaign_unit"] = SlotRequest(unit.campaign_id, unit.at, unit.treatment, unit.channel).to_dict()
    return payload


def unit_object(target: SlotTarget, unit: SendUnit) -> tuple[str, str]:
    bucket, prefix = split_s3_url(target.unit_prefix)
    return bucket, f"{prefix}{unit.send_id}.jsonl"


def unit_settings(definition: CampaignDefinition, unit: SendUnit, target: SlotTarget) -> SendSettings:
    bucket, key = unit_object(target, unit)
    return send_settings(
        definition,
        unit,
        segment=f"s3://{bucket}/{key}",
        segment_format="jsonl",
        ledger=f"dynamodb:{target.ledger_table}",
        deliver=True,
        outbox=None,
        suppression=target.suppression,
    )


def upload(s3: Any, path: Path, bucket: str, key: str) -> None:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3.upload_file(str(path), bucket, key)
    except (ClientError, BotoCoreError, S3UploadFailedError) as error:
        raise SlotError(f"cannot write the unit's segment s3://{bucket}/{key}: {error}") from None


def _record(ledger: Ledger, unit_id: str, path: Path | None, reason: str, clock: Callable[[], float]) -> int:
    count = 0
    for record in read_unit(path) if path is not None else ():
        ledger.mark_skipped(unit_id, str(record.get("Id")), reason, clock())
        count += 1
    return count


def _stage(
    definition: CampaignDefinition,
    request: SlotRequest,
    target: SlotTarget,
    clients: ClientFactory,
    *,
    folder: Path,
    now: datetime,
) -> Staged:
    segment = target.segment or definition.segment
    if not segment or not is_s3_url(segment):
        raise SlotError(f"campaign {definition.id}: the slot function reads the segment from S3, not {segment!r}")
    window = Window(now, request.slot - timedelta(microseconds=1), request.slot)
    with segment_rows(segment, definition.segment_format, definition.csv_list_separator, clients("s3")) as rows:
        return stage(definition, rows, window, frozenset({State.DUE}), folder)


def _status(staged: Staged, unit: StagedUnit | None) -> str:
    if unit is not None and unit.recipients:
        return "started"
    for state in (State.LATE, State.EXPIRED):
        if staged.slot_skips[state.value]:
            return state.value
    return "no_recipients"


def start_slot(
    definition: CampaignDefinition,
    request: SlotRequest,
    target: SlotTarget,
    clients: ClientFactory,
    stage_dir: Path,
    *,
    clock: Callable[[], float] = time.time,
) -> SlotResult:
    """Stage, upload, bind, reconcile and start the execution of one deployed unit (see the module)."""
    from campaign_tools.send.binding import bind, binding_of
    from campaign_tools.send.ledgers.registry import open_ledger
    from campaign_tools.send.on_aws import StateMachine, check_on_aws, start
    from campaign_tools.send.parts import prepare
    from campaign_tools.send.reconcile import ReconcilePolicy, reconcile

    check_request(definition, request)
    problems = target.problems()
    if problems:
        raise SlotError("the slot function's settings:\n" + "\n".join(f"  - {problem}" for problem in problems))
    unit = request.unit
    now = max(datetime.fromtimestamp(clock(), UTC), request.slot)
    staged = _stage(definition, request, target, clients, folder=stage_dir / definition.id, now=now)
    mine = staged.units.get(unit.send_id)
    holdout = staged.units.get(SendUnit(unit.campaign_id, unit.at, HOLDOUT, unit.channel).send_id)
    result = SlotResult(request, _status(staged, mine))
    result.segment = {"rows": staged.rows, "malformed": staged.malformed, **dict(sorted(staged.skipped.items()))}
    settings = unit_settings(definition, unit, target)
    check_on_aws(settings, StateMachine(target.state_machine_arn, None, target.max_concurrency))
    ledger = open_ledger(settings.ledger, clients)
    try:
        result.quiet_time = _record(ledger, unit.send_id, mine.quiet_path if mine else None, QUIET_TIME, clock)
        if holdout is not None:
            result.holdout = _record(ledger, holdout.unit.send_id, holdout.path, HOLDOUT_REASON, clock)
        if result.status != "started" or mine is None:
            return result
        result.recipients = mine.recipients
        parts = prepare(settings, clients)
        bind(ledger, unit.send_id, binding_of(settings, parts), rebind=False, now=clock())
        policy = ReconcilePolicy(settings.lease_seconds, settings.event_grace_seconds)
        result.reconciled = reconcile(ledger, unit.send_id, clock(), policy).lines()
        upload(clients("s3"), mine.path, *unit_object(target, unit))
        payload = execution_payload(definition, unit, settings, target)
        result.execution_arn = start(clients("stepfunctions"), target.state_machine_arn, unit.send_id, payload)
    finally:
        ledger.close()
    return result
