"""`pinrec send --on-aws`: upload the segment if needed, start the Step Functions execution, follow it to the end.

The state machine is `infra/send-statemachine.yaml`: a Distributed Map over the JSON Lines segment in S3, 50
endpoints per child, each child the Lambda `handlers.send_batch` (running `campaign_tools.send.aws_batch`), the ledger
in DynamoDB.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaign_tools.send.aws_batch import BatchSettings
from campaign_tools.send.sources import split_s3_uri
from transformer.errors import PinrecError

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
        return split_s3_uri(segment)
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


def execution_input(bucket: str, key: str, settings: BatchSettings, max_concurrency: int) -> dict[str, Any]:
    return {
        "segment": {"Bucket": bucket, "Key": key},
        "max_concurrency": max_concurrency,
        "settings": settings.to_input(),
    }


def start(sfn: Any, state_machine_arn: str, campaign_id: str, payload: dict[str, Any]) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    name = f"{campaign_id}-{uuid.uuid4().hex[:12]}"[-EXECUTION_NAME_LENGTH:].replace(".", "-")
    try:
        response = sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))
    except (ClientError, BotoCoreError) as error:
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
            execution = sfn.describe_execution(executionArn=execution_arn)
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
