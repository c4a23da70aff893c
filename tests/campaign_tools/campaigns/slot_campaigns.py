"""A scheduled email campaign deployed on moto for the slot function's tests: its segment in S3, the ledger table,
the send state machine (moto stores it; nothing runs)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from campaign_tools.send.ledgers.dynamodb import create_ledger_table
from tests.campaign_tools.send.test_on_aws import write_config

SLOT = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
UNIT = "spring.20300101T090000Z.default.email"
HOLDOUT_UNIT = "spring.20300101T090000Z.holdout.email"
BUCKET = "pinrec-segments"
SEGMENT_KEY = "segments/spring.jsonl"
UNIT_PREFIX = "pinrec-campaigns/units/"
LEDGER = "pinrec-send-ledger"


def slot_campaign(folder: Path, **extra: str) -> Path:
    """campaign.toml: daily at 09:00 UTC from 1 January 2030, 20 % holdout, email with a shipped template."""
    write_config(folder)
    lines = [
        'id = "spring"',
        'name = "Spring"',
        f'segment = "s3://{BUCKET}/{SEGMENT_KEY}"',
        'recommendations = "segment"',
        f'config = "{folder / "pinrec.toml"}"',
        "holdout_percent = 20",
        *(f"{key} = {value}" for key, value in extra.items()),
        "[email]",
        'template = "recommended-for-you"',
        'from_address = "shop@example.com"',
        "[schedule]",
        "start = 2030-01-01T09:00:00Z",
        'frequency = "daily"',
        'max_lateness = "PT1H"',
        "[limits]",
        "messages_per_second = 40",
    ]
    file = folder / "spring.toml"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return file


def endpoints(count: int = 30) -> list[dict[str, Any]]:
    rows = [
        {"Id": f"ep-{n}", "ChannelType": "EMAIL", "Address": f"u{n}@example.com", "RecommendationItems": ["P1"]}
        for n in range(count)
    ]
    return [*rows, {"Id": "sms-1", "ChannelType": "SMS", "Address": "+14155550123"}]


@dataclass(frozen=True)
class Deployed:
    state_machine_arn: str

    def environment(self, campaign: Path) -> dict[str, str]:
        return {
            "PINREC_CAMPAIGN": str(campaign),
            "PINREC_LEDGER_TABLE": LEDGER,
            "PINREC_STATE_MACHINE_ARN": self.state_machine_arn,
            "PINREC_UNIT_PREFIX": f"s3://{BUCKET}/{UNIT_PREFIX}",
            "PINREC_MAX_CONCURRENCY": "4",
        }


def deploy_on_moto(rows: list[dict[str, Any]] | None = None) -> Deployed:
    """The send stack's pieces the slot function uses (region and endpoint from the environment: `moto_aws`)."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    body = "".join(json.dumps(row) + "\n" for row in (endpoints() if rows is None else rows))
    s3.put_object(Bucket=BUCKET, Key=SEGMENT_KEY, Body=body.encode())
    create_ledger_table(boto3.client("dynamodb"), LEDGER)
    machine = boto3.client("stepfunctions").create_state_machine(
        name="pinrec-send",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/pinrec-send-StateMachineRole",
    )
    return Deployed(machine["stateMachineArn"])


def slot_input(unit: str = UNIT) -> dict[str, str]:
    campaign, slot, treatment, channel = unit.split(".")
    at = datetime.strptime(slot, "%Y%m%dT%H%M%SZ")
    return {
        "campaign": campaign,
        "slot": f"{at:%Y-%m-%dT%H:%M:%SZ}",
        "treatment": treatment,
        "channel": channel,
        "unit": unit,
    }
