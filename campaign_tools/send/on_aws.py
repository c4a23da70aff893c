"""`pinrec send --on-aws`: upload the segment if needed, start the Step Functions execution, follow it to the end.

The state machine is `infra/send-statemachine.yaml`: a Distributed Map over the JSON Lines segment in S3, 50
endpoints per child, each child the Lambda `handlers.send_batch` (`campaign_tools.send.child`: the same `run_send` as here), the
ledger in DynamoDB.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaign_tools.send.ledgers.base import LedgerSummary
from campaign_tools.send.reconcile import ReconcilePolicy, Reconciliation, reconcile
from campaign_tools.send.settings import SendSettings
from transformer.errors import PinrecError
from transformer.files import split_s3_url

FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
EXECUTION_NAME_LENGTH = 80


class OnAwsError(PinrecError):
    """The AWS run could not start, or did not finish successfully."""


@dataclass(frozen=True)
class MapProgress:
    total: int
    succeeded: int
    failed: int
    running: int


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(error).__name__)


def segment_location(segment: str, s3: Any, bucket: str | None, campaign_id: str) -> tuple[str, str]:
    """The segment's bucket and key, uploading a local file to `s3://BUCKET/pinrec-send/CAMPAIGN/NAME` first."""
    from botocore.exceptions import BotoCoreError, ClientError

    if segment.startswith("s3://"):
        return split_s3_url(segment)
    path = Path(segment)
    if not path.is_file():
        raise OnAwsError(f"segment {segment} not found")
    if not bucket:
        raise OnAwsError("--on-aws with a local segment needs --bucket to upload it to")
    key = f"pinrec-send/{campaign_id}/{path.name}"
    try:
        s3.upload_file(str(path), bucket, key)
    except (ClientError, BotoCoreError) as error:
        raise OnAwsError(f"cannot upload {segment} to s3://{bucket}/{key}: {_code(error)}") from None
    return bucket, key


LOCAL_ONLY = frozenset(
    {"segment", "outbox", "deliver", "dry_run", "ledger", "config", "built", "templates_dir", "compose_processes"}
    | {"workers", "aws", "rebind"}
)
"""Settings that describe this machine, not the campaign: each child has its own (its environment's)."""


def child_settings(settings: SendSettings, template_name: str | None, max_concurrency: int) -> dict[str, Any]:
    """The settings every child runs with: the campaign's, each child pacing at its share of the rate."""
    data = settings.model_dump(mode="json", exclude=set(LOCAL_ONLY))
    data["template"] = settings.template or template_name
    data["rate"] = settings.rate / max_concurrency if settings.rate else None
    return {key: value for key, value in data.items() if value is not None}


def execution_input(bucket: str, key: str, settings: dict[str, Any], max_concurrency: int) -> dict[str, Any]:
    return {
        "segment": {"Bucket": bucket, "Key": key},
        "max_concurrency": max_concurrency,
        "settings": settings,
    }


def start(sfn: Any, state_machine_arn: str, campaign_id: str, payload: dict[str, Any], name: str | None = None) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    execution = name or f"{campaign_id}-{uuid.uuid4().hex[:12]}"[-EXECUTION_NAME_LENGTH:].replace(".", "-")
    try:
        response = sfn.start_execution(stateMachineArn=state_machine_arn, name=execution, input=json.dumps(payload))
    except (ClientError, BotoCoreError) as error:
        if name and _code(error) == "ExecutionAlreadyExists":
            return f"{state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"
        raise OnAwsError(f"cannot start {state_machine_arn}: {_code(error)}") from None
    return str(response["executionArn"])


def map_progress(sfn: Any, execution_arn: str) -> MapProgress | None:
    runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
    if not runs:
        return None
    counts = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"]).get("itemCounts", {})
    return MapProgress(
        total=int(counts.get("total", 0)),
        succeeded=int(counts.get("succeeded", 0)),
        failed=int(counts.get("failed", 0)),
        running=int(counts.get("running", 0)),
    )


def follow(
    sfn: Any,
    execution_arn: str,
    *,
    interval: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[MapProgress], None] | None = None,
) -> dict[str, Any]:
    """Poll the execution until it ends; raises OnAwsError unless it succeeded."""
    from botocore.exceptions import BotoCoreError, ClientError

    while True:
        try:
            execution: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if progress is not None:
                counts = map_progress(sfn, execution_arn)
                if counts is not None:
                    progress(counts)
        except (ClientError, BotoCoreError) as error:
            raise OnAwsError(f"cannot follow {execution_arn}: {_code(error)}") from None
        status = execution["status"]
        if status in FINAL_STATES:
            if status != "SUCCEEDED":
                detail = ": ".join(part for part in (execution.get("error"), execution.get("cause")) if part)
                raise OnAwsError(
                    f"execution {execution_arn} ended {status}{f' ({detail})' if detail else ''}; messages already "
                    "sent are in the ledger, and a new run resumes from it"
                )
            return execution
        sleep(interval)


@dataclass(frozen=True)
class StateMachine:
    """Where a campaign runs on AWS: the stack's state machine, the bucket a local segment is uploaded to, and how
    many children run at once."""

    arn: str
    bucket: str | None = None
    max_concurrency: int = 10


@dataclass(frozen=True)
class OnAwsResult:
    execution_arn: str
    ledger: LedgerSummary
    seconds: float
    reconciliation: Reconciliation | None = None
    """What the reconciliation before the execution settled (the children reconcile nothing)."""


def check_on_aws(settings: SendSettings, machine: StateMachine) -> None:
    if not machine.arn:
        raise OnAwsError("pinrec send --on-aws needs --state-machine-arn")
    if not settings.ledger.startswith("dynamodb:"):
        raise OnAwsError("--on-aws needs --ledger dynamodb:TABLE (the stack's LedgerTableName output)")
    if settings.dry_run or settings.outbox:
        raise OnAwsError("--on-aws delivers: it takes neither --dry-run nor --outbox")
    segment = settings.segment or ""
    if settings.segment_format == "csv" or segment.lower().removesuffix(".gz").endswith(".csv"):
        raise OnAwsError("--on-aws reads JSON Lines segments (the Distributed Map's JSONL reader)")
    if not 1 <= machine.max_concurrency <= 10_000:
        raise OnAwsError("--max-concurrency must be 1 to 10,000")


def run_on_aws(
    settings: SendSettings,
    machine: StateMachine,
    clients: Callable[[str], Any],
    *,
    say: Callable[[str], None] = lambda _: None,
    progress: Callable[[MapProgress], None] | None = None,
) -> OnAwsResult:
    """Check the campaign and bind its id (the children trust both: no preflight per batch), reconcile the rows
    earlier runs left in doubt, start its execution, follow it to its end, and read the ledger's summary."""
    from campaign_tools.send.binding import bind, binding_of
    from campaign_tools.send.ledgers.registry import open_ledger
    from campaign_tools.send.preflight import preflight
    from campaign_tools.send.suppression import NONE, choose
    from campaign_tools.templates.prebuilt import load_prebuilt

    check_on_aws(settings, machine)
    if settings.segment is None:
        raise OnAwsError("pinrec send --on-aws needs --segment")
    started = time.monotonic()
    parts, checked = preflight(settings, clients, on_aws=True)
    for note in checked.notes:
        say(f"  {note}")
    rate = settings.rate or settings.channel_object.default_rate(clients)[0]
    template = settings.template or (load_prebuilt(Path(settings.built)).name if settings.built else None)
    # The children consult the list the CLI chose (its preflight checked they can read it), or none when it chose
    # none: their own working folder is no default.
    suppression = choose(settings.suppression).spec or NONE
    paced = settings.model_copy(update={"rate": rate, "suppression": suppression})
    ledger = open_ledger(settings.ledger, clients)
    try:
        bind(ledger, settings.campaign_id, binding_of(settings, parts), rebind=settings.rebind, now=time.time())
        policy = ReconcilePolicy(settings.lease_seconds, settings.event_grace_seconds)
        reconciled = reconcile(ledger, settings.campaign_id, time.time(), policy)
        for line in reconciled.lines():
            say(line)
        bucket, key = segment_location(settings.segment, clients("s3"), machine.bucket, settings.campaign_id)
        sfn = clients("stepfunctions")
        payload = execution_input(
            bucket, key, child_settings(paced, template, machine.max_concurrency), machine.max_concurrency
        )
        execution_arn = start(sfn, machine.arn, settings.campaign_id, payload)
        say(f"campaign {settings.campaign_id}: started {execution_arn} over s3://{bucket}/{key}")
        follow(sfn, execution_arn, progress=progress)
        summary = ledger.summary(settings.campaign_id, time.time(), settings.lease_seconds)
    finally:
        ledger.close()
    return OnAwsResult(execution_arn, summary, time.monotonic() - started, reconciled)
