"""The send-side suppression check through the real CLI: a bounced, complained, opted-out or unsubscribed recipient
is skipped by the next send as suppressed:<reason> and never delivered -- email through the outbox and through SES
on moto, SMS through the outbox; topic unsubscribes only for sends of that topic; the default list, `none`, a list
that cannot be read, and a lookup that fails mid-run (the batch fails, nobody is delivered unchecked)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from campaign_tools.cli import main
from campaign_tools.suppression.base import Reason, Suppression, SuppressionError
from campaign_tools.suppression.sqlite import SqliteSuppressionList
from tests.aws_fixtures import verify_ses_identity
from tests.campaign_tools.commands.test_send import client, send, workspace

__all__ = ["workspace"]


def suppress(path: Path, *entries: Suppression) -> str:
    listed = SqliteSuppressionList(path)
    listed.add(entries)
    listed.close()
    return f"sqlite:{path}"


def run_json(arguments: list[str], capsys: pytest.CaptureFixture[str], status: int = 0) -> dict[str, object]:
    assert main([*arguments, "--output", "json"]) == status
    captured = capsys.readouterr()
    data: dict[str, object] = json.loads(captured.out)
    return data


def outbox(folder: Path) -> set[str]:
    return {path.stem for path in folder.iterdir()} if folder.exists() else set()


def test_bounced_complained_and_unsubscribed_email_recipients_are_skipped_through_the_outbox(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = suppress(
        workspace / "s.db",
        Suppression("email", "USER1@example.com", Reason.BOUNCE, 1.0, "event-1"),
        Suppression("email", "user2@example.com", Reason.COMPLAINT, 1.0, "event-2"),
        Suppression("email", "user3@example.com", Reason.UNSUBSCRIBE, 1.0, "one-click"),
        Suppression("email", "user5@example.com", Reason.UNSUBSCRIBE, 1.0, "one-click", "news"),
        Suppression("sms", "user6@example.com", Reason.OPT_OUT, 1.0, "another channel"),
    )
    summary = run_json(send("--outbox", "out", "--suppression", spec), capsys)
    skipped = summary["skipped"]
    assert isinstance(skipped, dict)
    assert {k: v for k, v in skipped.items() if k.startswith("suppressed:")} == {
        "suppressed:bounce": 1,
        "suppressed:complaint": 1,
        "suppressed:unsubscribe": 1,
    }, "user5 unsubscribed from the news topic only; this send has no topic"
    assert summary["sent"] == 71
    assert not outbox(workspace / "out" / "spring") & {"ep-1", "ep-2", "ep-3"}
    assert {"ep-5", "ep-6"} <= outbox(workspace / "out" / "spring")
    assert main(["send", "status", "spring", "--list", "skipped"]) == 0
    listed = capsys.readouterr().out
    assert "ep-1\tsuppressed:bounce" in listed and "ep-2\tsuppressed:complaint" in listed
    assert "@" not in listed


def test_an_sms_opt_out_is_skipped_through_the_outbox(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = [{"Id": f"s{n}", "ChannelType": "SMS", "Address": f"+1 206-555-010{n}"} for n in range(3)]
    (workspace / "sms.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (workspace / "sms-recs.jsonl").write_text(
        "".join(json.dumps({"id": r["Id"], "items": ["P1"]}) + "\n" for r in records)
    )
    spec = suppress(workspace / "s.db", Suppression("sms", "+12065550101", Reason.OPT_OUT, 1.0, "opt-out-list:Default"))
    arguments = send(
        "--channel", "sms", "--outbox", "out", "--origination-identity", "+15550199", "--suppression", spec
    )
    arguments[arguments.index("segment.jsonl")] = "sms.jsonl"
    arguments[arguments.index("file:recs.jsonl")] = "file:sms-recs.jsonl"
    summary = run_json(arguments, capsys)
    assert summary["sent"] == 2 and summary["skipped"] == {"suppressed:opt_out": 1}
    assert outbox(workspace / "out" / "spring") == {"s0", "s2"}


def test_suppressed_recipients_are_never_delivered_through_ses(
    workspace: Path, moto_aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from moto.ses.models import ses_backends

    verify_ses_identity(client("sesv2", moto_aws), "news@shop.example.com")
    spec = suppress(
        workspace / "s.db",
        Suppression("email", "user0@example.com", Reason.BOUNCE, 1.0),
        Suppression("email", "user7@example.com", Reason.COMPLAINT, 1.0),
        Suppression("email", "user9@example.com", Reason.UNSUBSCRIBE, 1.0),
    )
    backend = ses_backends["123456789012"]["us-east-1"]
    before = len(backend.sent_messages)
    arguments = send("--deliver", "--from", "news@shop.example.com", "--rate", "500", "--suppression", spec)
    summary = run_json(arguments, capsys)
    assert summary["sent"] == 71
    delivered = {message.destinations["ToAddresses"][0] for message in backend.sent_messages[before:]}
    assert len(delivered) == 71
    assert not delivered & {"user0@example.com", "user7@example.com", "user9@example.com"}


def test_a_topic_unsubscribe_suppresses_sends_of_that_topic_only(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = suppress(workspace / "s.db", Suppression("email", "user1@example.com", Reason.UNSUBSCRIBE, 1, "x", "news"))
    base = ["--outbox", "out", "--suppression", spec, "--unsubscribe-mode", "url"]
    assert main([*send(*base), "--output", "json"]) == 0
    assert "suppressed" not in capsys.readouterr().out
    news = send("--outbox", "out", "--suppression", spec, "--unsubscribe-mode", "pinrec", "--topic", "news",
                "--unsubscribe-endpoint", "https://u.example.com", "--unsubscribe-key", "env:PINREC_TEST_KEY",
                campaign="news")  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PINREC_TEST_KEY", "k" * 40)
        summary = run_json(news, capsys)
    assert summary["skipped"] == {"no_recommendations": 1, "suppressed:unsubscribe": 1}


def test_the_default_list_none_and_a_list_that_cannot_be_read(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(send("--outbox", "out", "--dry-run")) == 0
    assert "suppression none (no --suppression and no ./pinrec-suppression.db)" in capsys.readouterr().err
    suppress(workspace / "pinrec-suppression.db", Suppression("email", "user1@example.com", Reason.BOUNCE, 1.0))
    summary = run_json(send("--outbox", "out", "--dry-run"), capsys)
    assert summary["skipped"] == {"no_recommendations": 1, "suppressed:bounce": 1}, "./pinrec-suppression.db exists"
    summary = run_json(send("--outbox", "out", "--dry-run", "--suppression", "none"), capsys)
    assert summary["skipped"] == {"no_recommendations": 1}
    assert main(send("--outbox", "out", "--suppression", "sqlite:typo.db")) == 1
    error = capsys.readouterr().err
    assert "cannot start (nothing was sent)" in error and "no such suppression list: typo.db" in error
    assert not (workspace / "out").exists() and not (workspace / "typo.db").exists()
    assert main(send("--suppression", "redis:x")) == 1
    assert "--suppression must be sqlite:PATH or dynamodb:TABLE or none" in capsys.readouterr().err


def test_a_lookup_that_fails_fails_the_batch_and_delivers_nobody(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = suppress(workspace / "s.db", Suppression("email", "user1@example.com", Reason.BOUNCE, 1.0))

    def unavailable(*args: object, **kwargs: object) -> None:
        raise SuppressionError("suppression list dynamodb:t: BatchGetItem failed: ProvisionedThroughputExceeded")

    monkeypatch.setattr(SqliteSuppressionList, "lookup", unavailable)
    summary = run_json(send("--outbox", "out", "--suppression", spec), capsys, status=3)
    assert summary["sent"] == 0 and summary["failed"] == {"suppression_unavailable": 75}
    assert not (workspace / "out").exists()


def test_the_preflight_says_how_fresh_the_provider_copy_is(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = suppress(workspace / "s.db")
    assert main(send("--outbox", "out", "--dry-run", "--suppression", spec)) == 0
    assert "warning: the SES account-level suppression list was never imported" in capsys.readouterr().err
    listed = SqliteSuppressionList(workspace / "s.db")
    listed.record_sync("ses-account", 1_000.0)
    listed.close()
    assert main(send("--outbox", "out", "--dry-run", "--suppression", spec)) == 0
    assert "imported" in (err := capsys.readouterr().err) and "1970-01-01T00:16:40Z), more than 24.0 h" in err
    listed = SqliteSuppressionList(workspace / "s.db")
    listed.record_sync("ses-account", time.time() - 7200)
    listed.close()
    assert main(send("--outbox", "out", "--dry-run", "--suppression", spec, "--suppression-max-age", "3")) == 0
    err = capsys.readouterr().err
    assert (
        "suppression: the SES account-level suppression list imported 2.0 h ago" in err
        and "warning: the SES" not in err
    )
