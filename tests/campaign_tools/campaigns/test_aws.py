"""`pinrec campaign deploy | pause | resume | delete | list` against moto's EventBridge Scheduler on loopback: one
at() schedule per upcoming unit (local time: one per UTC offset with recipients) invoking the slot function with
its unit, idempotent re-deploys, State kept across deploys, dry runs that send nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from campaign_tools.campaigns import aws as campaign_aws
from campaign_tools.campaigns.aws import DeployTarget, deploy, schedule_name
from campaign_tools.campaigns.definition import load_campaign
from campaign_tools.campaigns.slot import read_request
from campaign_tools.cli import main
from campaign_tools.commands import campaign as campaign_command
from tests.campaign_tools.campaigns.helpers import endpoint
from transformer.errors import PinrecError

REGION = "eu-west-1"
ACCOUNT = "123456789012"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pinrec-campaigns-slot"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/pinrec-campaigns-SchedulerRole"
DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:pinrec-campaigns-schedules-dlq"
TARGET = DeployTarget(FUNCTION, ROLE, dead_letter_arn=DLQ)
NOW = datetime(2027, 3, 1, 0, 0, tzinfo=UTC)
CAMPAIGN = """
id = "spring"
name = "Spring"
recommendations = "segment"
treatment_name = "picks"
holdout_percent = 10
segment = "segment.jsonl"

[email]
template = "product-picks"
from_address = "shop@example.com"

[sms]
template = "product-picks"
origination_identity = "+15555550100"

[schedule]
start = 2027-03-01T09:00:00
end = 2027-03-03T00:00:00
frequency = "daily"
local_time = true
timezone = "UTC"
max_lateness = "PT2H"

[limits]
messages_per_second = 20
"""


@pytest.fixture
def scheduler(moto_endpoint: str) -> Any:
    from tests.aws_fixtures import reset_moto

    reset_moto(moto_endpoint)
    made = boto3.client(
        "scheduler",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    made.create_schedule_group(Name="pinrec-campaigns")
    return made


@pytest.fixture
def campaign_file(tmp_path: Path) -> Path:
    rows = [endpoint(f"t{i}", "Asia/Tokyo") for i in range(20)] + [
        endpoint(f"l{i}", "Europe/Lisbon") for i in range(20)
    ]
    rows.append(endpoint("s1", "Asia/Kathmandu", channel="SMS"))
    (tmp_path / "segment.jsonl").write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    (tmp_path / "spring.toml").write_text(CAMPAIGN, encoding="utf-8")
    return tmp_path / "spring.toml"


def rows_of(path: Path) -> list[tuple[int, object]]:
    return [(n, json.loads(line)) for n, line in enumerate(path.read_text().splitlines(), 1)]


def schedules(client: Any) -> dict[str, dict[str, Any]]:
    names = [s["Name"] for s in client.list_schedules(GroupName="pinrec-campaigns")["Schedules"]]
    return {name: client.get_schedule(Name=name, GroupName="pinrec-campaigns") for name in names}


def test_one_schedule_per_unit_and_offset_with_the_on_aws_input(scheduler, campaign_file):
    definition = load_campaign(campaign_file)
    result = deploy(definition, rows_of(campaign_file.parent / "segment.jsonl"), scheduler, TARGET, NOW)
    found = schedules(scheduler)
    units = sorted(s["Description"] for s in found.values())
    # 09:00 in Tokyo (00:00Z), Kathmandu (03:15Z) and Lisbon (09:00Z), on 1 and 2 March; 1 March 00:00Z is not after
    # --now. Holdout recipients get no schedule; each unit holds the groups that have recipients there.
    slots = sorted({unit.split(".")[1] for unit in units})
    assert slots == ["20270301T031500Z", "20270301T090000Z", "20270302T000000Z", "20270302T031500Z", "20270302T090000Z"]
    assert {unit.split(".")[2] for unit in units} == {"picks"}
    assert {unit.split(".")[3] for unit in units} == {"email", "sms"}
    assert result.counts() == {"CreateSchedule": len(units)}
    kathmandu = next(s for s in found.values() if s["Description"] == "spring.20270301T031500Z.picks.sms")
    assert kathmandu["Name"] == schedule_name("spring", "spring.20270301T031500Z.picks.sms")
    assert len(kathmandu["Name"]) <= 64 and kathmandu["Name"].startswith("spring.")
    assert kathmandu["ScheduleExpression"] == "at(2027-03-01T03:15:00)"
    assert kathmandu["ScheduleExpressionTimezone"] == "UTC"
    assert kathmandu["State"] == "ENABLED" and kathmandu["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = kathmandu["Target"]
    assert (target["Arn"], target["RoleArn"]) == (FUNCTION, ROLE)
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 3}
    assert target["DeadLetterConfig"] == {"Arn": DLQ}
    assert json.loads(target["Input"]) == {
        "campaign": "spring",
        "slot": "2027-03-01T03:15:00Z",
        "treatment": "picks",
        "channel": "sms",
        "unit": "spring.20270301T031500Z.picks.sms",
    }
    assert read_request(json.loads(target["Input"])).unit.send_id == kathmandu["Description"], "what the function reads"


def test_redeploy_updates_keeps_state_and_deletes_what_is_no_longer_wanted(scheduler, campaign_file):
    definition = load_campaign(campaign_file)
    segment = campaign_file.parent / "segment.jsonl"
    first = deploy(definition, rows_of(segment), scheduler, TARGET, NOW)
    paused = campaign_aws.set_state("spring", scheduler, enabled=False)
    assert paused.counts() == {"UpdateSchedule": first.counts()["CreateSchedule"]}
    assert {s["State"] for s in schedules(scheduler).values()} == {"DISABLED"}
    # Kathmandu's endpoint left the segment: its two units go; the others are updated and stay paused.
    rows = [row for row in rows_of(segment) if row[1]["Id"] != "s1"]  # type: ignore[index]
    again = deploy(definition, rows, scheduler, TARGET, NOW)
    assert again.counts() == {"UpdateSchedule": first.counts()["CreateSchedule"] - 2, "DeleteSchedule": 2}
    after = schedules(scheduler)
    assert {s["State"] for s in after.values()} == {"DISABLED"}
    assert not any(".sms" in s["Description"] for s in after.values())
    assert campaign_aws.set_state("spring", scheduler, enabled=True).counts() == {"UpdateSchedule": len(after)}
    assert campaign_aws.set_state("spring", scheduler, enabled=True).counts() == {}, "already enabled"
    resumed = schedules(scheduler)
    assert {s["State"] for s in resumed.values()} == {"ENABLED"}
    assert {n: s["Target"]["Input"] for n, s in resumed.items()} == {n: s["Target"]["Input"] for n, s in after.items()}
    assert campaign_aws.delete("spring", scheduler).counts() == {"DeleteSchedule": len(after)}
    assert schedules(scheduler) == {}


def test_other_campaigns_schedules_are_left_alone(scheduler, campaign_file):
    scheduler.create_schedule(
        Name="spring-two.abc",
        GroupName="pinrec-campaigns",
        ScheduleExpression="at(2027-03-01T09:00:00)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": FUNCTION, "RoleArn": ROLE},
    )
    definition = load_campaign(campaign_file)
    deploy(definition, rows_of(campaign_file.parent / "segment.jsonl"), scheduler, TARGET, NOW)
    campaign_aws.delete("spring", scheduler)
    assert list(schedules(scheduler)) == ["spring-two.abc"]


def test_dry_run_prints_every_request_and_sends_none(scheduler, campaign_file, monkeypatch, capsys):
    monkeypatch.setattr(campaign_command, "scheduler_client", lambda arguments: scheduler)
    arguments = ["campaign", "deploy", str(campaign_file), "--slot-function-arn", FUNCTION]
    arguments += ["--scheduler-role-arn", ROLE]
    arguments += ["--now", "2027-03-01T00:00:00Z", "--dry-run", "--output", "json"]
    assert main(arguments) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["dry_run"] is True and printed["counts"] == {"CreateSchedule": 5}
    assert printed["requests"][0]["parameters"]["GroupName"] == "pinrec-campaigns"
    assert schedules(scheduler) == {}
    assert main(arguments[:-3]) == 0
    assert "sent CreateSchedule 5" in capsys.readouterr().out
    assert main(["campaign", "pause", str(campaign_file), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "would send UpdateSchedule 5" in text and '"State": "DISABLED"' in text
    assert {s["State"] for s in schedules(scheduler).values()} == {"ENABLED"}


def test_list_shows_files_and_their_deployed_state(scheduler, campaign_file, monkeypatch, capsys):
    (campaign_file.parent / "broken.toml").write_text('id = "x"\n', encoding="utf-8")
    monkeypatch.setattr(campaign_command, "scheduler_client", lambda arguments: scheduler)
    deploy(load_campaign(campaign_file), rows_of(campaign_file.parent / "segment.jsonl"), scheduler, TARGET, NOW)
    campaign_aws.set_state("spring", scheduler, enabled=False)
    assert main(["campaign", "list", str(campaign_file.parent), "--aws"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("broken.toml: invalid: invalid " + str(campaign_file.parent / "broken.toml") + ":")
    assert lines[1].endswith("spring.toml: spring (Spring), daily; schedules: disabled 5")
    assert main(["campaign", "list", str(campaign_file.parent), "--output", "json"]) == 0
    assert "schedules" not in json.loads(capsys.readouterr().out)[1]


def test_event_campaigns_get_no_schedules_and_bad_targets_are_refused(scheduler, tmp_path):
    data = CAMPAIGN.replace('frequency = "daily"\nlocal_time = true', 'frequency = "event"')
    data += '\n[schedule.event_filter]\nevent_type = { values = ["cart.abandoned"] }\n'
    (tmp_path / "event.toml").write_text(data, encoding="utf-8")
    definition = load_campaign(tmp_path / "event.toml")
    result = deploy(definition, [], scheduler, TARGET, NOW)
    assert result.requests == [] and "event-triggered" in result.notes[0]
    with pytest.raises(Exception, match="--slot-function-arn must be a Lambda function ARN"):
        deploy(definition, [], scheduler, DeployTarget("arn:aws:states:x:1:stateMachine:s", ROLE), NOW)


def test_a_campaign_without_a_pace_is_not_deployed(scheduler, campaign_file):
    campaign_file.write_text(CAMPAIGN.replace("messages_per_second = 20", ""), encoding="utf-8")
    with pytest.raises(PinrecError, match=r"paces at \[limits\] messages_per_second"):
        deploy(load_campaign(campaign_file), rows_of(campaign_file.parent / "segment.jsonl"), scheduler, TARGET, NOW)
    assert schedules(scheduler) == {}
