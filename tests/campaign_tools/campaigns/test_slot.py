"""The slot function on moto: a deployed unit's recipients staged from the S3 segment and written to the unit's
object, the unit bound and reconciled in the DynamoDB ledger, the holdout recorded, the execution started with the
input `send --on-aws` gives; late slots, empty units and bad inputs start nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from campaign_tools.campaigns import slot_lambda
from campaign_tools.campaigns.slot import SlotError, read_request
from campaign_tools.send.ledgers.base import State
from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger
from campaign_tools.send.run import client_factory
from tests.campaign_tools.campaigns.slot_campaigns import (
    BUCKET,
    HOLDOUT_UNIT,
    LEDGER,
    SLOT,
    UNIT,
    UNIT_PREFIX,
    deploy_on_moto,
    slot_campaign,
    slot_input,
)
from transformer.aws import AwsOptions


def at(seconds_after_slot: float) -> Callable[[], float]:
    return lambda: SLOT.timestamp() + seconds_after_slot


def executions(machine: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    return [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in listed]


def run(event: object, environment: dict[str, str], tmp_path: Path, seconds: float = 5) -> dict[str, Any]:
    from campaign_tools.campaigns.definition import load_campaign
    from campaign_tools.campaigns.slot import start_slot

    definition = load_campaign(environment["PINREC_CAMPAIGN"])
    target = slot_lambda.target_of(environment)
    clients = client_factory(AwsOptions())
    return start_slot(definition, read_request(event), target, clients, tmp_path / "units", clock=at(seconds)).to_dict()


def test_a_due_unit_is_staged_bound_and_started(moto_aws: str, tmp_path: Path) -> None:
    deployed = deploy_on_moto()
    environment = deployed.environment(slot_campaign(tmp_path))
    result = run(slot_input(), environment, tmp_path)
    assert result["status"] == "started" and result["unit"] == UNIT
    body = boto3.client("s3").get_object(Bucket=BUCKET, Key=f"{UNIT_PREFIX}{UNIT}.jsonl")["Body"].read().decode()
    sent_to = [json.loads(line)["Id"] for line in body.splitlines()]
    ledger = DynamoDbLedger(LEDGER, boto3.client("dynamodb"))
    held = sorted(row.endpoint_id for row in ledger.rows(HOLDOUT_UNIT, State.SKIPPED))
    assert len(sent_to) == result["recipients"] and held and len(held) == result["holdout"]
    assert sorted(sent_to + held) == sorted(f"ep-{n}" for n in range(30)), "every email endpoint: unit or holdout"
    assert result["segment"] == {"rows": 31, "malformed": 0, "no_channel": 1}
    record = ledger.campaign_record(UNIT)
    assert record is not None and "recommended-for-you" in record.binding, "bound before the execution starts"
    assert f"s3://{BUCKET}/{UNIT_PREFIX}{UNIT}.jsonl" in record.binding
    (payload,) = executions(deployed.state_machine_arn)
    assert result["execution"].startswith(deployed.state_machine_arn.replace(":stateMachine:", ":execution:"))
    assert payload["segment"] == {"Bucket": BUCKET, "Key": f"{UNIT_PREFIX}{UNIT}.jsonl"}
    assert payload["max_concurrency"] == 4
    settings = payload["settings"]
    assert settings["campaign_id"] == UNIT and settings["template"] == "recommended-for-you"
    assert settings["rate"] == 10.0, "40 messages per second shared by 4 children"
    assert settings["suppression"] == "none" and settings["sender"]["from_address"] == "shop@example.com"
    assert not {"segment", "ledger", "deliver", "config", "built", "outbox"} & set(settings)
    assert payload["campaign_unit"] == slot_input()


def test_a_second_start_of_the_unit_binds_the_same_and_a_changed_send_is_refused(moto_aws: str, tmp_path: Path) -> None:
    from campaign_tools.send.binding import CampaignBindingError

    deployed = deploy_on_moto()
    file = slot_campaign(tmp_path)
    environment = deployed.environment(file)
    run(slot_input(), environment, tmp_path)
    assert run(slot_input(), environment, tmp_path, seconds=60)["status"] == "started", "a retried start"
    slot_campaign(tmp_path, per_message="3")
    with pytest.raises(CampaignBindingError, match="recommendations: bound to segment by endpoint id, 5 per message"):
        run(slot_input(), environment, tmp_path, seconds=90)
    assert len(executions(deployed.state_machine_arn)) == 2


def test_late_slots_and_units_without_recipients_start_nothing(moto_aws: str, tmp_path: Path) -> None:
    deployed = deploy_on_moto()
    environment = deployed.environment(slot_campaign(tmp_path))
    late = run(slot_input(), environment, tmp_path, seconds=3601)
    assert (late["status"], late["execution"], late["recipients"]) == ("late", None, 0)
    off_slot = run(slot_input("spring.20300101T093000Z.default.email"), environment, tmp_path)
    assert off_slot["status"] == "no_recipients"
    assert executions(deployed.state_machine_arn) == []
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=UNIT_PREFIX)
    assert listed.get("KeyCount") == 0, "no unit object written"


def test_a_schedule_firing_a_moment_early_still_judges_its_own_slot(moto_aws: str, tmp_path: Path) -> None:
    deployed = deploy_on_moto()
    environment = deployed.environment(slot_campaign(tmp_path))
    assert run(slot_input(), environment, tmp_path, seconds=-0.5)["status"] == "started"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("spring", "must be an object"),
        ({"campaign": "spring"}, "needs slot, treatment, channel, unit"),
        ({**slot_input(), "slot": "2030-01-01 09:00"}, "YYYY-MM-DDTHH:MM:SSZ"),
        ({**slot_input(), "unit": "spring.20300101T090000Z.other.email"}, "is not the unit"),
        ({**slot_input(), "campaign": 7}, "needs campaign"),
    ],
)
def test_bad_inputs_are_refused_with_their_reason(event: object, message: str) -> None:
    with pytest.raises(SlotError, match=message):
        read_request(event)


def test_units_the_campaign_does_not_have_and_missing_settings_are_refused(moto_aws: str, tmp_path: Path) -> None:
    deployed = deploy_on_moto()
    environment = deployed.environment(slot_campaign(tmp_path))
    for unit, message in [
        ("autumn.20300101T090000Z.default.email", "sends campaign spring, not autumn"),
        ("spring.20300101T090000Z.holdout.email", "no treatment holdout"),
        ("spring.20300101T090000Z.default.sms", "no sms message"),
    ]:
        with pytest.raises(SlotError, match=message):
            slot_lambda.handle(slot_input(unit), environment, client_factory(AwsOptions()), tmp_path)
    with pytest.raises(SlotError, match="PINREC_STATE_MACHINE_ARN, PINREC_UNIT_PREFIX not set"):
        slot_lambda.target_of({"PINREC_CAMPAIGN": "x", "PINREC_LEDGER_TABLE": "t"})
    with pytest.raises(SlotError, match="unit prefix must be"):
        slot_lambda.handle(slot_input(), {**environment, "PINREC_UNIT_PREFIX": "units/"}, None, tmp_path)
    assert executions(deployed.state_machine_arn) == []
