"""`pinrec send` and `pinrec send status` through the real CLI entry point (test composer via --composer)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from campaign_tools.cli import main
from tests.aws_fixtures import verify_ses_identity
from tests.campaign_tools.send.test_plugin import PLUGIN as COMPOSER
from tests.fakes import ITEMS, undated, write_recommendations, write_segment


@pytest.fixture
def workspace(tmp_path: Path, make_catalog: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = make_catalog(ITEMS)
    (tmp_path / "pinrec.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
    )
    write_segment(tmp_path / "segment.jsonl", 75)
    write_recommendations(tmp_path / "recs.jsonl", 75, missing=(4,))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def send(*extra: str, campaign: str = "spring") -> list[str]:
    return [
        "send",
        "--composer",
        COMPOSER,
        "--segment",
        "segment.jsonl",
        "--recommendations",
        "file:recs.jsonl",
        "--config",
        "pinrec.toml",
        "--campaign-id",
        campaign,
        *extra,
    ]


def test_outbox_send_then_status_then_rerun(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(send()) == 0
    out = capsys.readouterr().out
    assert "campaign spring: sent 74, skipped 1, failed 0 of 75 rows" in out
    assert "skipped: no_recommendations 1" in out
    assert len(list((workspace / "pinrec-outbox" / "spring").glob("*.eml"))) == 74
    assert (workspace / "pinrec-send.db").exists()

    assert main(["send", "status", "spring"]) == 0
    status = capsys.readouterr().out
    assert "75 endpoints in the ledger" in status
    assert "sent      74" in status and "skipped   1  (no_recommendations 1)" in status
    assert "pending   0 in progress, 0 in doubt" in status

    assert main(send()) == 0
    assert "sent 0, skipped 75" in capsys.readouterr().out


def test_json_output_of_send_and_status(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(send("--output", "json")) == 0
    run = json.loads(capsys.readouterr().out)
    assert (run["campaign_id"], run["rows"], run["sent"], run["skipped"], run["failed"]) == (
        "spring",
        75,
        74,
        {"no_recommendations": 1},
        {},
    )
    assert main(["send", "status", "spring", "--output", "json", "--list", "skipped"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["total"], status["sent"], status["skipped"]) == (75, 74, {"no_recommendations": 1})
    assert [(row["endpoint_id"], row["state"], row["reason"]) for row in status["rows"]] == [
        ("ep-4", "skipped", "no_recommendations")
    ]


def test_failures_exit_3_and_show_in_status(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_segment(workspace / "segment.jsonl", 5, **{"ep-1": {"User": {"UserAttributes": {"FirstName": ["FAIL"]}}}})
    assert main(send("--outbox", "out", "--ledger", "sqlite:l.db")) == 3
    assert "failed: test_compose_failure 1 (a re-run retries them)" in capsys.readouterr().out
    main(["send", "status", "spring", "--ledger", "sqlite:l.db", "--list", "failed"])
    out = capsys.readouterr().out
    assert "failed    1  (test_compose_failure 1)" in out
    assert out.splitlines()[-1].startswith("ep-1\ttest_compose_failure\t1\t")


def test_csv_segment_with_batch_inference_recommendations_by_user(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "segment.csv").write_text(
        "Id,ChannelType,Address,User.UserId,User.UserAttributes.FirstName,OptOut\n"
        "a,EMAIL,a@example.com,u-a,Ana,NONE\n"
        "b,EMAIL,b@example.com,u-b,Ben,ALL\n"
        "c,EMAIL,c@example.com,,Cy,NONE\n"
        "d,EMAIL,d@example.com,u-d,Di,NONE\n",
        encoding="utf-8",
    )
    (workspace / "batch.out").write_text(
        json.dumps({"input": {"userId": "u-a"}, "output": {"recommendedItems": ["P3", "P4"], "scores": [0.9, 0.8]}})
        + "\n"
        + json.dumps({"input": {"userId": "u-d"}, "error": "User not found"})
        + "\n",
        encoding="utf-8",
    )
    arguments = send("--outbox", "out", "--id-type", "user", "--per-message", "1")
    arguments[arguments.index("segment.jsonl")] = "segment.csv"
    arguments[arguments.index("file:recs.jsonl")] = "file:batch.out"
    assert main(arguments) == 0
    out = capsys.readouterr().out
    assert "sent 1, skipped 3" in out
    assert "no_recommendations 1" in out and "no_user_id 1" in out and "opted_out 1" in out
    assert "1 batch inference error lines" in out
    text = (workspace / "out" / "spring" / "a.eml").read_text()
    assert "Product 3" in text and "Product 4" not in text


def test_dry_run_writes_nothing(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(send("--dry-run")) == 0
    assert "would send 74" in capsys.readouterr().out
    assert not (workspace / "pinrec-outbox").exists() and not (workspace / "pinrec-send.db").exists()


def test_sms_outbox_applies_the_part_budget(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = [
        {
            "Id": "s1",
            "ChannelType": "SMS",
            "Address": "+12065550101",
            "User": {"UserAttributes": {"FirstName": ["Al"]}},
        },
        {
            "Id": "s2",
            "ChannelType": "SMS",
            "Address": "+12065550102",
            "User": {"UserAttributes": {"FirstName": ["Long"]}},
        },
    ]
    (workspace / "sms.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (workspace / "sms-recs.jsonl").write_text(
        "".join(json.dumps({"id": r["Id"], "items": ["P1"]}) + "\n" for r in records)
    )
    arguments = send("--channel", "sms", "--outbox", "out", "--origination-identity", "+15550199")
    arguments[arguments.index("segment.jsonl")] = "sms.jsonl"
    arguments[arguments.index("file:recs.jsonl")] = "file:sms-recs.jsonl"
    assert main(arguments) == 3
    assert "failed: over_part_budget 1" in capsys.readouterr().out
    request = json.loads((workspace / "out" / "spring" / "s1.json").read_text())["SendTextMessage"]
    assert request["OriginationIdentity"] == "+15550199" and request["MessageBody"] == "Hi Al: Product 1"
    assert not (workspace / "out" / "spring" / "s2.json").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--campaign-id", "has space"], "campaign id 'has space'"),
        (["--deliver"], "needs --from"),
        (["--ledger", "postgres:x"], "--ledger must be"),
        (["--recommendations", "s3:x"], "--recommendations must be"),
        (["--per-message", "9"], "--per-message: Input should be less than or equal to 5"),
        (["--rate", "0"], "--rate: Input should be greater than 0"),
        (["--filter-value", "novalue"], "NAME=VALUE"),
    ],
)
def test_bad_options_are_errors_naming_the_option(
    workspace: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(send(*extra)) == 1
    assert message in capsys.readouterr().err
    assert not (workspace / "pinrec-outbox").exists()


def test_every_bad_option_is_reported_at_once(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arguments = send("--per-message", "9", "--rate", "0", "--ledger", "postgres:x", "--compose-processes", "0")
    assert main(arguments) == 1
    assert capsys.readouterr().err.splitlines() == [
        "pinrec: error: invalid send settings:",
        "  - --per-message: Input should be less than or equal to 5",
        "  - --rate: Input should be greater than 0",
        "  - --compose-processes: Input should be greater than or equal to 1",
        "  - --ledger must be sqlite:PATH or dynamodb:TABLE, got 'postgres:x'",
    ]
    assert not (workspace / "pinrec-outbox").exists() and not (workspace / "pinrec-send.db").exists()


def test_missing_options_and_unknown_campaign(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "--composer", COMPOSER]) == 1
    assert "needs --segment, --campaign-id, --recommendations" in capsys.readouterr().err
    assert main(["send", "status", "nobody"]) == 1
    assert "no such ledger: pinrec-send.db" in capsys.readouterr().err  # read-only: the default ledger is not made


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def test_deliver_through_ses_with_a_dynamodb_ledger(
    workspace: Path, moto_aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from moto.ses.models import ses_backends

    from campaign_tools.send.ledgers.dynamodb import create_ledger_table

    verify_ses_identity(client("sesv2", moto_aws), "news@shop.example.com")
    create_ledger_table(client("dynamodb", moto_aws), "cli-send-ledger")
    backend = ses_backends["123456789012"]["us-east-1"]
    before = len(backend.sent_messages)
    arguments = send(
        "--deliver", "--from", "news@shop.example.com", "--rate", "500", "--ledger", "dynamodb:cli-send-ledger"
    )
    assert main(arguments) == 0
    assert "sent 74" in capsys.readouterr().out
    delivered = backend.sent_messages[before:]
    assert sorted(message.destinations["ToAddresses"][0] for message in delivered) == sorted(
        f"user{n}@example.com" for n in range(75) if n != 4
    )
    assert main(arguments) == 0
    assert "sent 0, skipped 75" in capsys.readouterr().out
    assert len(backend.sent_messages) == before + 74
    assert main(["send", "status", "spring", "--ledger", "dynamodb:cli-send-ledger"]) == 0
    assert "sent      74" in capsys.readouterr().out


def test_composing_in_worker_processes_writes_the_same_messages(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_segment(workspace / "segment.jsonl", 75, **{"ep-9": {"User": {"UserAttributes": {"FirstName": ["FAIL"]}}}})
    assert main(send("--outbox", "one", "--ledger", "sqlite:one.db")) == 3
    assert main(send("--outbox", "two", "--ledger", "sqlite:two.db", "--compose-processes", "2")) == 3
    out = capsys.readouterr().out
    assert out.count("sent 73, skipped 1, failed 1") == 2, "a compose failure in a worker is recorded the same"
    inline = {path.name: undated(path.read_bytes()) for path in (workspace / "one" / "spring").iterdir()}
    pooled = {path.name: undated(path.read_bytes()) for path in (workspace / "two" / "spring").iterdir()}
    assert len(inline) == 73 and inline == pooled
    assert main(send("--compose-processes", "0")) == 1
    assert "--compose-processes: Input should be greater than or equal to 1" in capsys.readouterr().err
