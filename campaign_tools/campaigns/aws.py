"""`pinrec campaign deploy | pause | resume | delete | list --aws`: a campaign's slots as EventBridge Scheduler
schedules in one schedule group (`infra/campaigns.yaml`), each invoking the campaign's slot function
(`campaigns.slot`, `handlers/campaign_slot.py`) with the unit it is for.

- **One schedule per send unit** (slot, treatment, channel; `campaigns.units`), as Pinpoint ran campaigns: for a
  local-time campaign one slot per UTC offset that has recipients, read from the segment by the same planner as
  `campaign plan`. Each is a one-time `at(...)` schedule in UTC (`ScheduleExpressionTimezone` "UTC": the instant the
  planner resolved, DST included) that deletes itself after it ran (`ActionAfterCompletion` DELETE). Not `cron()` or
  `rate()`: each invocation's input names its own unit `<campaign>.<slot>.<treatment>.<channel>`, which a recurring
  schedule's fixed input cannot. Recurring campaigns are scheduled up to a horizon (`--horizon`, 35 days by
  default, or the schedule's end) and topped up by deploying again.
- **The slot function does the rest at the slot**: it stages the unit's recipients from the campaign's segment as
  it is then, writes the unit's segment object, binds and reconciles the unit in the ledger and starts the send
  state machine (`campaigns.slot`). The input is `{"campaign", "slot", "treatment", "channel", "unit"}`.
- **Names.** `<campaign id>.<15 hex digits of SHA-256 of the unit id>` (Scheduler's 64 characters); the unit id is the
  schedule's description. A campaign's schedules are those with the name prefix `<campaign id>.` (an id has no `.`).
- **Idempotent.** Deploy lists the campaign's schedules in the group: a wanted one that exists is updated (its
  State kept: a paused campaign stays paused), a new one created, one no longer wanted (the segment moved offsets,
  the definition changed) deleted. Pause and resume update each schedule's State (DISABLED / ENABLED) with the rest
  of its definition as Scheduler returns it; delete deletes them. `--dry-run` prints every request, sends none.
- **Retry and lateness.** Scheduler retries an invocation it could not deliver for at most the schedule's
  `max_lateness` (60 s to 24 h, Scheduler's bounds), then sends it to the dead-letter queue; the slot function
  itself starts nothing for a slot past its `max_lateness`, as `campaign plan` skips a `late` slot.
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
from campaign_tools.campaigns.slot import SlotRequest, missing_rate
from campaign_tools.campaigns.units import SendUnit
from transformer.errors import PinrecError

DEFAULT_GROUP = "pinrec-campaigns"
DEFAULT_HORIZON = timedelta(days=35)
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
    """What a deployed campaign's schedules invoke (infra/campaigns.yaml's outputs)."""

    function_arn: str
    """The campaign's slot function (SlotFunctionArn)."""
    role_arn: str
    group: str = DEFAULT_GROUP
    dead_letter_arn: str | None = None

    def problems(self) -> list[str]:
        found = []
        if ":lambda:" not in self.function_arn or ":function:" not in self.function_arn:
            found.append("--slot-function-arn must be a Lambda function ARN (the stack's SlotFunctionArn)")
        if ":iam::" not in self.role_arn or ":role/" not in self.role_arn:
            found.append("--scheduler-role-arn must be an IAM role ARN (the stack's SchedulerRoleArn)")
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


def unit_input(unit: SendUnit) -> dict[str, str]:
    """The slot function's input for one unit."""
    return SlotRequest(unit.campaign_id, unit.at, unit.treatment, unit.channel).to_dict()


def schedule_request(definition: CampaignDefinition, unit: SendUnit, target: DeployTarget) -> dict[str, Any]:
    """CreateSchedule's parameters for one unit."""
    lateness = int(definition.schedule_of(unit.treatment).max_lateness.total_seconds())
    scheduler_target: dict[str, Any] = {
        "Arn": target.function_arn,
        "RoleArn": target.role_arn,
        "Input": json.dumps(unit_input(unit), sort_keys=True, separators=(",", ":")),
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
        if definition.limits.messages_per_second is None:
            raise PinrecError(f"cannot deploy: {missing_rate(definition.id)}")
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
