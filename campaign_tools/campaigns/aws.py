"""`pinrec campaign deploy | pause | resume | delete | list --aws`: a campaign's slots as EventBridge Scheduler
schedules in one schedule group (`infra/campaigns.yaml`), each starting the send state machine
(`infra/send-statemachine.yaml`) with the execution input `pinrec send --on-aws` gives it.

- **One schedule per send unit** (slot, treatment, channel; `campaigns.units`), as Pinpoint ran campaigns: for a
  local-time campaign one slot per UTC offset that has recipients, read from the segment by the same planner as
  `campaign plan`. Each is a one-time `at(...)` schedule in UTC (`ScheduleExpressionTimezone` "UTC": the instant the
  planner resolved, DST included) that deletes itself after it ran (`ActionAfterCompletion` DELETE). Not `cron()` or
  `rate()`: each execution's input names its own ledger unit id `<campaign>.<slot>.<treatment>.<channel>`, which a
  recurring schedule's fixed input cannot (Scheduler's `<aws.scheduler.scheduled-time>` is ISO text the send
  settings do not read). Recurring campaigns are scheduled up to a horizon (`--horizon`, 35 days by default, or the
  schedule's end) and topped up by deploying again.
- **Names.** `<campaign id>.<15 hex digits of SHA-256 of the unit id>` (Scheduler's 64 characters); the unit id is the
  schedule's description. A campaign's schedules are those with the name prefix `<campaign id>.` (an id has no `.`).
- **Idempotent.** Deploy lists the campaign's schedules in the group: a wanted one that exists is updated (its
  State kept: a paused campaign stays paused), a new one created, one no longer wanted (the segment moved offsets,
  the definition changed) deleted. Pause and resume update each schedule's State (DISABLED / ENABLED) with the rest
  of its definition as Scheduler returns it; delete deletes them. `--dry-run` prints every request, sends none.
- **Retry and lateness.** A start is retried for at most the schedule's `max_lateness` (60 s to 24 h, Scheduler's
  bounds), then goes to the dead-letter queue: never started late, as `campaign plan` skips a `late` slot.
- **Segments.** The execution input reads the unit's own segment object, `<segment prefix><unit id>.jsonl`: the
  recipients of that unit, written before the slot (phase 2's `campaign run --on-aws` writes them; until one
  exists the execution fails reading it and sends nothing). The input also carries `campaign_unit` (campaign, slot,
  treatment, channel, unit id) for the executions' logs.
- **Event-triggered campaigns** have no schedules: the stack's EventBridge rule invokes the trigger function.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from campaign_tools.campaigns.definition import HOLDOUT, CampaignDefinition, load_campaign
from campaign_tools.campaigns.plan import CampaignPlan, plan
from campaign_tools.campaigns.schedule import State
from campaign_tools.campaigns.units import SendUnit, send_settings
from campaign_tools.send.on_aws import child_settings, execution_input
from transformer.errors import PinrecError
from transformer.files import split_s3_url

DEFAULT_GROUP = "pinrec-campaigns"
DEFAULT_HORIZON = timedelta(days=35)
DEFAULT_MAX_CONCURRENCY = 10
NAME_DIGEST = 15
RETRY_ATTEMPTS = 3
MIN_EVENT_AGE, MAX_EVENT_AGE = 60, 86_400
UPDATABLE = (
    "Name",
    "GroupName",
    "ScheduleExpression",
    "StartDate",
    "EndDate",
    "Description",
    "ScheduleExpressionTimezone",
    "KmsKeyArn",
    "Target",
    "FlexibleTimeWindow",
    "ActionAfterCompletion",
)
"""What UpdateSchedule takes (it replaces the whole definition) of what GetSchedule returns."""


class SchedulerError(PinrecError):
    """A Scheduler call failed."""


@dataclass(frozen=True)
class DeployTarget:
    """Where a deployed campaign's schedules start their sends (the stacks' outputs)."""

    state_machine_arn: str
    role_arn: str
    segment_prefix: str
    """s3://BUCKET/PREFIX/: each unit's segment is <prefix><unit id>.jsonl."""
    group: str = DEFAULT_GROUP
    dead_letter_arn: str | None = None
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY

    def problems(self) -> list[str]:
        found = []
        if ":states:" not in self.state_machine_arn or ":stateMachine:" not in self.state_machine_arn:
            found.append("--state-machine-arn must be a Step Functions state machine ARN")
        if ":iam::" not in self.role_arn or ":role/" not in self.role_arn:
            found.append("--scheduler-role-arn must be an IAM role ARN (the stack's SchedulerRoleArn)")
        if not self.segment_prefix.startswith("s3://") or not split_s3_url(self.segment_prefix)[0]:
            found.append("--segment-prefix must be s3://BUCKET/PREFIX/")
        if not 1 <= self.max_concurrency <= 10_000:
            found.append("--max-concurrency must be 1 to 10,000")
        return found


@dataclass(frozen=True)
class Request:
    operation: str
    """CreateSchedule, UpdateSchedule, DeleteSchedule."""
    parameters: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.operation, "parameters": self.parameters}


@dataclass
class SchedulerResult:
    campaign_id: str
    requests: list[Request] = field(default_factory=list)
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for request in self.requests:
            found[request.operation] = found.get(request.operation, 0) + 1
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "notes": self.notes,
            "requests": [request.to_dict() for request in self.requests],
        }

    def lines(self) -> list[str]:
        verb = "would send" if self.dry_run else "sent"
        counts = ", ".join(f"{operation} {n}" for operation, n in sorted(self.counts().items())) or "nothing to do"
        found = [f"campaign {self.campaign_id}: {verb} {counts}"] + [f"  {note}" for note in self.notes]
        if self.dry_run:
            found += [json.dumps(request.to_dict(), indent=2, sort_keys=True) for request in self.requests]
        return found


def schedule_name(campaign_id: str, send_id: str) -> str:
    return f"{campaign_id}.{hashlib.sha256(send_id.encode()).hexdigest()[:NAME_DIGEST]}"


def _template_name(definition: CampaignDefinition, unit: SendUnit) -> str | None:
    message = definition.message(unit.treatment, unit.channel)
    if message.template or not message.built:
        return message.template
    from campaign_tools.templates.prebuilt import load_prebuilt

    return load_prebuilt(Path(message.built)).name


def unit_input(definition: CampaignDefinition, unit: SendUnit, target: DeployTarget) -> dict[str, Any]:
    """The state machine execution input of one unit: `pinrec send --on-aws`'s, from `units.send_settings`."""
    bucket, prefix = split_s3_url(target.segment_prefix)
    key = f"{prefix}{unit.send_id}.jsonl"
    settings = send_settings(definition, unit, segment=f"s3://{bucket}/{key}", deliver=True, outbox=None)
    payload = execution_input(
        bucket,
        key,
        child_settings(settings, _template_name(definition, unit), target.max_concurrency),
        target.max_concurrency,
    )
    payload["campaign_unit"] = {
        "campaign": unit.campaign_id,
        "slot": unit.at.isoformat().replace("+00:00", "Z"),
        "treatment": unit.treatment,
        "channel": unit.channel,
        "unit": unit.send_id,
    }
    return payload


def schedule_request(definition: CampaignDefinition, unit: SendUnit, target: DeployTarget) -> dict[str, Any]:
    """CreateSchedule's parameters for one unit."""
    lateness = int(definition.schedule_of(unit.treatment).max_lateness.total_seconds())
    scheduler_target: dict[str, Any] = {
        "Arn": target.state_machine_arn,
        "RoleArn": target.role_arn,
        "Input": json.dumps(unit_input(definition, unit, target), sort_keys=True, separators=(",", ":")),
        "RetryPolicy": {
            "MaximumEventAgeInSeconds": min(max(lateness, MIN_EVENT_AGE), MAX_EVENT_AGE),
            "MaximumRetryAttempts": RETRY_ATTEMPTS,
        },
    }
    if target.dead_letter_arn:
        scheduler_target["DeadLetterConfig"] = {"Arn": target.dead_letter_arn}
    return {
        "Name": schedule_name(definition.id, unit.send_id),
        "GroupName": target.group,
        "ScheduleExpression": f"at({unit.at:%Y-%m-%dT%H:%M:%S})",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Description": unit.send_id,
        "State": "ENABLED",
        "ActionAfterCompletion": "DELETE",
        "Target": scheduler_target,
    }


def wanted_units(definition: CampaignDefinition, result: CampaignPlan) -> list[SendUnit]:
    """The units of the upcoming slots that have recipients (the holdout gets no message: no schedule)."""
    units: dict[str, SendUnit] = {}
    for key, counts in result.ordered_slots():
        if key.state is not State.UPCOMING:
            continue
        for (group, channel), n in sorted(counts.recipients.items()):
            if group != HOLDOUT and n:
                unit = SendUnit(definition.id, key.at, group, channel)
                units[unit.send_id] = unit
    return list(units.values())


def _call(client: Any, operation: str, **parameters: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response: dict[str, Any] = getattr(client, operation)(**parameters)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "ClientError")
        message = error.response.get("Error", {}).get("Message", "")
        raise SchedulerError(f"scheduler {operation} {parameters.get('Name', '')}: {code} {message}".strip()) from None
    except BotoCoreError as error:
        raise SchedulerError(f"scheduler {operation}: {error}") from None
    return response


def deployed_schedules(client: Any, group: str, campaign_id: str) -> dict[str, str]:
    """The campaign's schedules in the group: name -> State."""
    found: dict[str, str] = {}
    request: dict[str, Any] = {"GroupName": group, "NamePrefix": f"{campaign_id}."}
    while True:
        response = _call(client, "list_schedules", **request)
        found.update({item["Name"]: item["State"] for item in response.get("Schedules", [])})
        if not response.get("NextToken"):
            return found
        request["NextToken"] = response["NextToken"]


_OPERATIONS = {"CreateSchedule": "create_schedule", "UpdateSchedule": "update_schedule"}
_OPERATIONS["DeleteSchedule"] = "delete_schedule"


def _send(client: Any, requests: Iterable[Request]) -> None:
    for request in requests:
        _call(client, _OPERATIONS[request.operation], **request.parameters)


def deploy(
    definition: CampaignDefinition,
    rows: Iterable[tuple[int, object]],
    client: Any,
    target: DeployTarget,
    now: datetime,
    *,
    horizon: timedelta = DEFAULT_HORIZON,
    dry_run: bool = False,
) -> SchedulerResult:
    """Make the group's schedules of the campaign exactly those of its upcoming units within the horizon."""
    problems = target.problems()
    if problems:
        raise PinrecError("cannot deploy:\n" + "\n".join(f"  - {problem}" for problem in problems))
    result = SchedulerResult(definition.id, dry_run=dry_run)
    wanted: dict[str, dict[str, Any]] = {}
    if definition.schedule.frequency == "event":
        result.notes.append("event-triggered: no schedules; the stack's trigger rule invokes the trigger function")
    else:
        planned = plan(definition, rows, now, since=now, until=now + horizon)
        for unit in wanted_units(definition, planned):
            request = schedule_request(definition, unit, target)
            wanted[request["Name"]] = request
        result.notes.append(f"{len(wanted)} units with recipients in the slots after {now:%Y-%m-%dT%H:%M:%SZ}")
    existing = deployed_schedules(client, target.group, definition.id)
    for name, request in sorted(wanted.items()):
        if name in existing:
            result.requests.append(Request("UpdateSchedule", {**request, "State": existing[name]}))
        else:
            result.requests.append(Request("CreateSchedule", request))
    result.requests += [
        Request("DeleteSchedule", {"Name": name, "GroupName": target.group})
        for name in sorted(existing.keys() - wanted)
    ]
    if not dry_run:
        _send(client, result.requests)
    return result


def _state_requests(client: Any, group: str, campaign_id: str, state: str) -> Iterator[Request]:
    for name, current in sorted(deployed_schedules(client, group, campaign_id).items()):
        if current == state:
            continue
        schedule = _call(client, "get_schedule", Name=name, GroupName=group)
        parameters = {key: schedule[key] for key in UPDATABLE if schedule.get(key) is not None}
        yield Request("UpdateSchedule", {**parameters, "State": state})


def set_state(
    campaign_id: str, client: Any, group: str = DEFAULT_GROUP, *, enabled: bool, dry_run: bool = False
) -> SchedulerResult:
    """Pause (DISABLED) or resume (ENABLED) every schedule of the campaign."""
    result = SchedulerResult(campaign_id, dry_run=dry_run)
    result.requests = list(_state_requests(client, group, campaign_id, "ENABLED" if enabled else "DISABLED"))
    if not dry_run:
        _send(client, result.requests)
    return result


def delete(campaign_id: str, client: Any, group: str = DEFAULT_GROUP, *, dry_run: bool = False) -> SchedulerResult:
    result = SchedulerResult(campaign_id, dry_run=dry_run)
    names = sorted(deployed_schedules(client, group, campaign_id))
    result.requests = [Request("DeleteSchedule", {"Name": name, "GroupName": group}) for name in names]
    if not dry_run:
        _send(client, result.requests)
    return result


@dataclass(frozen=True)
class CampaignListing:
    file: str
    campaign_id: str | None
    name: str | None
    frequency: str | None
    error: str | None = None
    schedules: dict[str, int] | None = None
    """State -> schedules deployed (with --aws)."""

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


def list_campaigns(
    folder: Path, client_of: Callable[[], Any] | None = None, group: str = DEFAULT_GROUP
) -> list[CampaignListing]:
    """The campaign files (*.toml) of a folder, each valid or with its first problem; with a Scheduler client, the
    states of its deployed schedules."""
    if not folder.is_dir():
        raise PinrecError(f"{folder} is not a folder")
    client = client_of() if client_of is not None else None
    found = []
    for file in sorted(folder.glob("*.toml")):
        try:
            definition = load_campaign(file)
        except PinrecError as error:
            found.append(CampaignListing(str(file), None, None, None, str(error).splitlines()[0]))
            continue
        states: dict[str, int] | None = None
        if client is not None:
            states = {}
            for state in deployed_schedules(client, group, definition.id).values():
                states[state] = states.get(state, 0) + 1
        found.append(
            CampaignListing(str(file), definition.id, definition.name, definition.schedule.frequency, None, states)
        )
    return found
