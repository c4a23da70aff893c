"""`pinrec doctor` end to end on moto: the campaign.toml read (every channel table), every check run, text and JSON,
the exit status, and not one call that could change anything (the recorder watches the whole command)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from campaign_tools.cli import main
from campaign_tools.doctor import run as doctor_run
from campaign_tools.doctor.base import Check, Status
from campaign_tools.doctor.registry import CHECKS
from campaign_tools.settings import InvalidSettings
from tests.campaign_tools.doctor.conftest import CAMPAIGN_ARN, FakeResolver, answer

SPRING_SALE = Path(__file__).parents[2] / "data" / "campaigns" / "spring-sale.toml"
CAMPAIGN_TOML = f"""
id = "spring"
name = "Spring"
recommendations = "personalize:{CAMPAIGN_ARN}"
ledger = "dynamodb:pinrec-send-ledger"
suppression = "dynamodb:pinrec-suppression"

[email]
template = "offer"
from_address = "news@shop.example.com"
configuration_set = "pinrec-events"

[schedule]
start = 2027-03-01T09:00:00Z
frequency = "once"
"""


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> FakeResolver:
    resolver = FakeResolver({"_dmarc.shop.example.com": ["v=DMARC1; p=none"]})
    monkeypatch.setattr(doctor_run, "DnsPythonResolver", lambda timeout: resolver)
    return resolver


def test_the_command_reads_only_and_reports_every_check(aws_endpoint, recorder, no_dns, tmp_path, capsys):
    campaign = tmp_path / "spring.toml"
    campaign.write_text(CAMPAIGN_TOML, encoding="utf-8")
    recorder.watching = True
    status = main(["doctor", "--campaign", str(campaign), "--stack", "pinrec-events", "--endpoint-url", aws_endpoint,
                   "--output", "json"])  # fmt: skip
    recorder.watching = False
    report = json.loads(capsys.readouterr().out)
    assert status == 1 and report["ok"] is False and report["schema"] == "pinrec.doctor/1"
    checks = {finding["check"] for finding in report["findings"]}
    assert checks == {check.name for check in CHECKS}
    by_title = {finding["title"]: finding for finding in report["findings"]}
    assert by_title["credentials and region"]["status"] == "ok"
    assert by_title["stack pinrec-events"]["fix"].startswith("deploy it: see README")
    assert by_title["DMARC for shop.example.com"]["status"] == "ok"
    assert all(finding["fix"] for finding in report["findings"] if finding["status"] == "failure")
    assert "sts:GetCallerIdentity" in recorder.operations()  # and the recorder fixture asserts nothing mutated


def test_text_output_marks_each_finding_and_counts(aws_endpoint, recorder, no_dns, tmp_path, capsys):
    campaign = tmp_path / "spring.toml"
    campaign.write_text(CAMPAIGN_TOML, encoding="utf-8")
    assert main(["doctor", "--campaign", str(campaign), "--stack", "pinrec", "--endpoint-url", aws_endpoint]) == 1
    out = capsys.readouterr().out.splitlines()
    lines = out[next(n for n, line in enumerate(out) if line.startswith("[ok  ] credentials")) :]
    assert lines[0].startswith("[ok  ] credentials and region: account 123456789012")
    assert "[FAIL] stack pinrec: no such stack in this account and region" in lines
    assert lines[-1].endswith("skipped") and "failure" in lines[-1]


def test_a_check_that_breaks_becomes_one_failure_and_the_others_run(make_context):
    from botocore.exceptions import ClientError

    def broken(context):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "DescribeThing")

    checks = (Check("broken", "a broken check", broken), Check("fine", "fine", lambda context: []))
    report = doctor_run.run_checks(make_context(), checks)
    assert [(f.check, f.status, f.detail) for f in report.findings] == [
        ("broken", Status.FAILURE, "the check could not finish: ThrottlingException")
    ]
    assert report.failed


def test_every_channel_table_of_the_campaign_is_checked(clients, recorder, no_dns, monkeypatch, capsys):
    """spring-sale.toml: [email], [sms] and [push] tables, each one's sender settings checked."""
    number = {
        "PhoneNumber": "+15555550100",
        "PhoneNumberId": "phone-1",
        "Status": "ACTIVE",
        "OptOutListName": "Default",
    }
    answer(clients("pinpoint-sms-voice-v2"), "DescribePhoneNumbers", {"PhoneNumbers": [number]})
    answer(clients("pinpoint-sms-voice-v2"), "DescribeOptOutLists", {"OptOutLists": [{"OptOutListName": "Default"}]})
    answer(clients("pinpoint"), "GetApp", {"ApplicationResponse": {"Id": "0123456789abcdef0123456789abcdef",
                                                                   "Name": "shop", "Arn": "arn"}})  # fmt: skip
    monkeypatch.setattr(doctor_run, "client_factory", lambda aws: clients)
    assert main(["doctor", "--campaign", str(SPRING_SALE), "--stack", "pinrec-events", "--output", "json"]) == 1
    by_title = {finding["title"]: finding for finding in json.loads(capsys.readouterr().out)["findings"]}
    assert by_title["SES identity shop@example.com / example.com"]["status"] == "failure"
    assert by_title["SES configuration set pinrec-events"]["status"] == "failure"  # not on this moto account
    assert by_title["SMS number +15555550100"]["status"] == "ok"
    assert by_title["push application 0123456789abcdef0123456789abcdef"]["status"] == "ok"
    assert by_title["SES account"]["check"] == "ses-account"


def test_an_invalid_campaign_is_reported_by_its_toml_paths(tmp_path, capsys):
    campaign = tmp_path / "bad.toml"
    campaign.write_text(CAMPAIGN_TOML.replace('ledger = "dynamodb:pinrec-send-ledger"', 'ledger = "nowhere"'))
    assert main(["doctor", "--campaign", str(campaign)]) != 0
    error = capsys.readouterr().err
    assert f"invalid {campaign}" in error
    assert "ledger: must be sqlite:PATH or dynamodb:TABLE, got 'nowhere'" in error


def test_a_send_settings_file_is_not_a_campaign(tmp_path, capsys):
    """The doctor's former format (one `pinrec send`'s settings) is refused: campaign.toml is the one format."""
    campaign = tmp_path / "send.toml"
    campaign.write_text('template = "offer"\nrecommendations = "segment"\n[sender]\nfrom_address = "a@b.example"\n')
    assert main(["doctor", "--campaign", str(campaign)]) != 0
    error = capsys.readouterr().err
    assert "id: required" in error and "sender: unknown key" in error


def test_settings_errors_name_the_flags(tmp_path: Path):
    from campaign_tools.doctor.settings import DoctorSettings

    with pytest.raises(InvalidSettings) as raised:
        DoctorSettings(campaign=tmp_path / "missing.toml", stacks=("bad name",), max_event_age_hours=0)
    message = str(raised.value)
    assert "--campaign" in message and "--stack 'bad name'" in message and "--max-event-age" in message
