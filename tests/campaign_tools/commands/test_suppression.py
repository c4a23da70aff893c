"""`pinrec suppression` through the real CLI on a real SQLite list: add, list (filters, text and JSON, ISO 8601
UTC), remove (a complaint only with --force), import (CSV and JSON Lines, bad rows counted by line and reason, the
import going on), export (read back by import), and sync of the SES account suppression list and the End User
Messaging SMS opt-out lists (botocore Stubber: moto implements neither), every page, a failing source reported and
its sync time not recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.cli import main
from campaign_tools.suppression import workflows
from campaign_tools.suppression.base import Reason
from campaign_tools.suppression.sqlite import SqliteSuppressionList


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def out_json(arguments: list[str], capsys: pytest.CaptureFixture[str], status: int = 0) -> Any:
    assert main([*arguments, "--output", "json"]) == status
    return json.loads(capsys.readouterr().out)


def test_add_list_remove(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert out_json(["suppression", "add", "Ana@Example.com", "bo@example.com", "--reason", "complaint"], capsys) == {
        "added": 2,
        "already_held": 0,
    }
    assert main(["suppression", "add", "cy@example.com", "--reason", "unsubscribe", "--topic", "news"]) == 0
    assert main(["suppression", "add", "+1 (206) 555-0100", "--channel", "sms", "--reason", "opt_out"]) == 0
    capsys.readouterr()
    listed = out_json(["suppression", "list", "--channel", "email", "--reason", "unsubscribe"], capsys)
    assert [(e["address"], e["topic"], e["source"]) for e in listed["entries"]] == [
        ("cy@example.com", "news", "pinrec suppression add")
    ]
    assert datetime.fromisoformat(listed["entries"][0]["since"]).tzinfo == UTC
    assert listed["entries"][0]["since"].endswith("Z")
    assert main(["suppression", "list", "--channel", "sms"]) == 0
    text = capsys.readouterr()
    assert (
        text.out.startswith("sms\t+12065550100\topt_out\t") and "1 entries in sqlite:pinrec-suppression.db" in text.err
    )
    assert main(["suppression", "remove", "ana@example.com"]) == 1
    assert "complained: removing it needs --force" in capsys.readouterr().err
    assert out_json(["suppression", "remove", "ANA@example.com", "nobody@example.com", "--force"], capsys) == {
        "removed": 1,
        "not_found": 1,
    }
    assert [e["address"] for e in out_json(["suppression", "list"], capsys)["entries"]] == [
        "bo@example.com",
        "cy@example.com",
        "+12065550100",
    ]


def test_bad_adds_are_refused_whole_naming_no_address(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suppression", "add", "ok@example.com", "not-an-address"]) == 1
    err = capsys.readouterr().err
    assert "address 2 of 2 is not a valid email address" in err and "not-an-address" not in err
    assert main(["suppression", "add", "ok@example.com", "--reason", "bounce", "--topic", "news"]) == 1
    assert "--topic goes with --reason unsubscribe or manual" in capsys.readouterr().err
    assert not (here / "pinrec-suppression.db").exists()


def test_import_counts_bad_rows_and_goes_on_then_export_reads_back(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "in.csv").write_text(
        "address,reason,since,topic,channel\n"
        "Bo@Example.com,bounce,2026-01-02T03:04:05Z,,\n"
        "not-an-address,bounce,,,\n"
        "cy@example.com,unsubscribe,1700000000,news,\n"
        "dy@example.com,weird,,,\n"
        "ed@example.com,bounce,yesterday,,\n"
        "+44 20 7946 0000,,,,sms\n"
        "too,many,cells,,,,\n"
        "fy@example.com,,2026-03-01T00:00:00,,\n"
    )
    result = out_json(["suppression", "import", "in.csv"], capsys)
    assert result["rows"] == 8 and result["imported"] == 4 and result["bad"] == 4
    assert [(row["line"], row["reason"]) for row in result["bad_examples"]] == [
        (3, "not a valid email address"),
        (5, "reason must be one of bounce, complaint, unsubscribe, opt_out, manual, provider"),
        (6, "since must be ISO 8601 or epoch seconds"),
        (8, "7 cells where the header has 5"),
    ]
    (here / "more.jsonl").write_text(
        '{"address": "gy@example.com", "reason": "complaint"}\n[1]\n{"address": 5}\nnot json\n'
        '{"address": "hy@example.com", "extra": 1}\n'
    )
    result = out_json(["suppression", "import", "more.jsonl", "--reason", "bounce"], capsys)
    assert (result["imported"], result["bad"]) == (1, 4)
    assert [row["line"] for row in result["bad_examples"]] == [2, 3, 4, 5]
    assert main(["suppression", "export", "--out", "all.csv"]) == 0
    assert main(["suppression", "export", "--out", "all.jsonl", "--channel", "email", "--reason", "bounce"]) == 0
    capsys.readouterr()
    lines = (here / "all.csv").read_text().splitlines()
    assert lines[0] == "channel,address,reason,since,topic,source" and len(lines) == 6
    assert "email,bo@example.com,bounce,2026-01-02T03:04:05Z,,pinrec suppression import in.csv" in lines
    assert "email,fy@example.com,manual,2026-03-01T00:00:00Z,,pinrec suppression import in.csv" in lines
    assert [json.loads(line)["address"] for line in (here / "all.jsonl").read_text().splitlines()] == ["bo@example.com"]
    copy = ["--suppression", "sqlite:copy.db"]
    assert out_json(["suppression", "import", "all.csv", *copy], capsys)["imported"] == 5
    assert (
        out_json(["suppression", "list", *copy], capsys)["entries"]
        == out_json(["suppression", "list"], capsys)["entries"]
    )


def stubbed(service: str) -> tuple[Any, Stubber]:
    made = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(made)
    stubber.activate()
    return made, stubber


def test_sync_imports_every_page_of_both_provider_lists(
    here: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ses, ses_stub = stubbed("sesv2")
    sms, sms_stub = stubbed("pinpoint-sms-voice-v2")
    when = datetime(2026, 5, 1, 12, tzinfo=UTC)
    ses_stub.add_response(
        "list_suppressed_destinations",
        {"SuppressedDestinationSummaries": [
            {"EmailAddress": "Bounced@Example.com", "Reason": "BOUNCE", "LastUpdateTime": when},
        ], "NextToken": "page-2"},
        {"PageSize": 1000},
    )  # fmt: skip
    ses_stub.add_response(
        "list_suppressed_destinations",
        {"SuppressedDestinationSummaries": [
            {"EmailAddress": "complained@example.com", "Reason": "COMPLAINT", "LastUpdateTime": when},
        ]},
        {"PageSize": 1000, "NextToken": "page-2"},
    )  # fmt: skip
    sms_stub.add_response(
        "describe_opt_out_lists",
        {"OptOutLists": [{"OptOutListArn": "arn:aws:sms-voice:eu-west-1:1:opt-out-list/Default",
                          "OptOutListName": "Default", "CreatedTimestamp": when}]},
        {},
    )  # fmt: skip
    sms_stub.add_response(
        "describe_opted_out_numbers",
        {"OptOutListArn": "a", "OptOutListName": "Default", "NextToken": "n2", "OptedOutNumbers": [
            {"OptedOutNumber": "+12065550100", "OptedOutTimestamp": when, "EndUserOptedOut": True},
        ]},
        {"OptOutListName": "Default"},
    )  # fmt: skip
    sms_stub.add_response(
        "describe_opted_out_numbers",
        {"OptOutListArn": "a", "OptOutListName": "Default", "OptedOutNumbers": [
            {"OptedOutNumber": "+12065550101", "OptedOutTimestamp": when, "EndUserOptedOut": False},
        ]},
        {"OptOutListName": "Default", "NextToken": "n2"},
    )  # fmt: skip
    clients = {"sesv2": ses, "pinpoint-sms-voice-v2": sms}
    monkeypatch.setattr(workflows, "client_factory", lambda settings: clients.__getitem__)
    result = out_json(["suppression", "sync"], capsys)
    assert result["sources"] == [
        {"source": "ses-account", "read": 2, "added": 2, "bad": 0, "error": None},
        {"source": "sms-opt-out-lists", "read": 2, "added": 2, "bad": 0, "error": None},
    ]
    ses_stub.assert_no_pending_responses()
    sms_stub.assert_no_pending_responses()
    listed = SqliteSuppressionList(here / "pinrec-suppression.db", read_only=True)
    assert [(e.channel, e.address, e.reason, e.since, e.source) for e in listed.entries()] == [
        ("email", "bounced@example.com", Reason.BOUNCE, when.timestamp(), "ses-account"),
        ("email", "complained@example.com", Reason.COMPLAINT, when.timestamp(), "ses-account"),
        ("sms", "+12065550100", Reason.OPT_OUT, when.timestamp(), "opt-out-list:Default"),
        ("sms", "+12065550101", Reason.PROVIDER, when.timestamp(), "opt-out-list:Default"),
    ]
    assert set(listed.sync_times()) == {"ses-account", "sms-opt-out-lists"}
    listed.close()
    synced = out_json(["suppression", "list"], capsys)["synced"]
    assert set(synced) == {"ses-account", "sms-opt-out-lists"} and synced["ses-account"].endswith("Z")


def test_a_failing_source_is_reported_and_its_time_not_recorded(
    here: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ses, ses_stub = stubbed("sesv2")
    sms, sms_stub = stubbed("pinpoint-sms-voice-v2")
    ses_stub.add_client_error("list_suppressed_destinations", "AccessDeniedException")
    sms_stub.add_response("describe_opt_out_lists", {"OptOutLists": []}, {})
    clients = {"sesv2": ses, "pinpoint-sms-voice-v2": sms}
    monkeypatch.setattr(workflows, "client_factory", lambda settings: clients.__getitem__)
    assert main(["suppression", "sync"]) == 1
    out = capsys.readouterr().out
    assert "ses-account: read 0, 0 entries written -- stopped: ListSuppressedDestinations failed: " in out
    assert "AccessDeniedException (sync time not recorded)" in out
    assert "sms-opt-out-lists: read 0, 0 entries written\n" in out
    listed = SqliteSuppressionList(here / "pinrec-suppression.db", read_only=True)
    assert set(listed.sync_times()) == {"sms-opt-out-lists"}
    listed.close()
    sms_stub.add_response("describe_opt_out_lists", {"OptOutLists": []}, {})
    assert main(["suppression", "sync", "--source", "sms", "--opt-out-list", "marketing"]) == 1
    assert "no such opt-out list in this account and region: marketing" in capsys.readouterr().out
    assert main(["suppression", "sync", "--source", "ses", "--opt-out-list", "marketing"]) == 1
    assert "--opt-out-list goes with --source sms" in capsys.readouterr().err
