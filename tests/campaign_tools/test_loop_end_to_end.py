"""The loop closed, end to end, through the real CLI: `pinrec send` delivers an email campaign through SES (moto's
server on loopback) and an SMS campaign through End User Messaging (a Stubber: moto has no SMS v2); event records
for the message ids those sends recorded, in every shape the README documents (SES bare, in EventBridge, in SNS, in
an SQS Lambda event; SMS v2 bare and in SNS; two-way opt-out replies in SNS), go through `pinrec events ingest`;
`pinrec send report --output json` then gives every figure exactly as computed by hand here, and so does a replay
of the same files, and a shuffled, duplicated copy of every record ingested into a fresh copy of the ledger. The
suppressions those events ask for make the next send skip exactly those recipients.

Issue 13's bar: "Event samples in each documented shape, replayed through `pinrec events ingest`, produce the
report's figures exactly; duplicates and reordering change nothing" and "A bounced or complained address, an
unsubscribed address and an SMS opt-out are each skipped by the next send"."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest

from campaign_tools.cli import main
from campaign_tools.report.figures import SERIES_KINDS
from tests.aws_fixtures import verify_ses_identity
from tests.campaign_tools.loop_fixtures import (
    HOUR,
    T0,
    SmsStub,
    bounce,
    complaint,
    ingest,
    iso,
    message_ids,
    report,
    run_json,
    send_email,
    send_sms,
    ses_record,
    ses_sent,
    sms_record,
    sms_reply,
    tags_of,
    unsubscribe_all,
    via_eventbridge,
    via_sns,
    via_sqs_lambda_event,
    write_jsonl,
    write_sms_segment,
)
from tests.fakes import ITEMS, write_recommendations, write_segment

LINK_A = "https://shop.example.com/p/1?utm_source=pinrec"
LINK_B = "https://shop.example.com/p/9?utm_source=pinrec"


@pytest.fixture
def workspace(
    tmp_path: Path, make_catalog: Callable[..., Path], moto_aws: str, monkeypatch: pytest.MonkeyPatch
) -> Path:
    catalog = make_catalog(ITEMS)
    (tmp_path / "pinrec.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    verify_ses_identity(boto3.client("sesv2"), "news@shop.example.com")
    return tmp_path


def series(**first_events: Mapping[int, int]) -> dict[str, list[int]]:
    """The report's `first_events`: every kind, 72 hourly counts, zero but where given (kind={hour: count})."""
    found = {kind: [0] * 72 for kind in SERIES_KINDS}
    for kind, hours in first_events.items():
        for hour, count in hours.items():
            found[kind][hour] = count
    return found


def email_campaign(
    workspace: Path, capsys: pytest.CaptureFixture[str], campaign: str, endpoints: int, suppression: str
) -> dict[str, str]:
    """Sends `campaign` to ep-0.. through SES; returns endpoint id -> the message id SES gave (checked against
    moto's record of what it sent)."""
    write_segment(workspace / "segment.jsonl", endpoints)
    write_recommendations(workspace / "recs.jsonl", endpoints)
    before = len(ses_sent())
    summary = run_json(send_email(campaign, "--suppression", suppression), capsys)
    ids = message_ids(workspace / "ledger.db", campaign)
    assert len(ids) == summary["sent"]
    by_address = {message.destinations["ToAddresses"][0]: message.id for message in ses_sent()[before:]}
    assert {f"user{endpoint.removeprefix('ep-')}@example.com": id_ for endpoint, id_ in ids.items()} == by_address
    return ids


def sms_campaign(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    sms: SmsStub,
    campaign: str,
    endpoints: int,
    *,
    suppression: str,
) -> dict[str, str]:
    """Sends `campaign` to s0.. through the stubbed End User Messaging; returns endpoint id -> message id."""
    segment, recommendations = write_sms_segment(workspace, campaign, endpoints)
    sms.expect(endpoints)
    summary = run_json(send_sms(campaign, segment, recommendations, "--suppression", suppression), capsys)
    sms.drained()
    assert summary["sent"] == endpoints
    ids = message_ids(workspace / "ledger.db", campaign)
    assert len(ids) == endpoints
    contexts = {request["Context"]["pinrec-endpoint"] for request in sms.requests[-endpoints:]}
    assert contexts == {tags_of(campaign, endpoint)["pinrec-endpoint"] for endpoint in ids}
    return ids


def email_event_files(folder: Path, ids: Mapping[str, str], campaign: str) -> list[Path]:
    """The email campaign's events, one file per documented shape (see the figures in the test)."""

    def record(event_type: str, n: int, *, tagged: bool = True, **details: Any) -> dict[str, Any]:
        endpoint = f"ep-{n}"
        return ses_record(
            event_type,
            ids[endpoint],
            f"user{n}@example.com",
            T0 + n,
            tags=tags_of(campaign, endpoint) if tagged else None,
            details=details or None,
        )

    def at(offset: float) -> str:
        return iso(T0 + offset)

    def click(link: str, offset: float) -> dict[str, Any]:
        return {"ipAddress": "192.0.2.1", "link": link, "linkTags": {}, "timestamp": at(offset), "userAgent": "x"}

    def opened(offset: float) -> dict[str, Any]:
        return {"ipAddress": "192.0.2.1", "timestamp": at(offset), "userAgent": "x"}

    def delivery(n: int) -> dict[str, Any]:
        return record(
            "Delivery",
            n,
            timestamp=at(60 + n),
            processingTimeMillis=900,
            recipients=[f"user{n}@example.com"],
            smtpResponse="250 ok",
        )

    published = T0 + 100 * HOUR
    eventbridge = [
        *(record("Send", n) for n in range(10)),
        *(delivery(n) for n in range(6)),
        record("Open", 0, **opened(2 * HOUR)),
        record("Open", 0, **opened(30 * HOUR)),
        record("Open", 1, **opened(3 * HOUR)),
        record("Click", 0, **click(LINK_A, 2 * HOUR + 600)),
        record("Click", 0, **click(LINK_A, 30 * HOUR + 60)),
        record("Click", 1, **click(LINK_A, 3 * HOUR + 300)),
        record("Click", 1, **click(LINK_B, 3 * HOUR + 360)),
    ]
    sns = [
        # ep-6's bounce names its message by id only (no pinrec tags), its address written in capitals.
        record("Bounce", 6, tagged=False, **bounce("Permanent", "NoEmail", "USER6@Example.com", T0 + 30)),
        record("Bounce", 7, **bounce("Transient", "MailboxFull", "user7@example.com", T0 + 40)),
        record("Complaint", 2, **complaint("user2@example.com", T0 + 5 * HOUR)),
        record("Reject", 8, reason="Bad content"),
        record(
            "DeliveryDelay",
            9,
            timestamp=at(600),
            delayType="TransientCommunicationFailure",
            delayedRecipients=[{"emailAddress": "user9@example.com", "status": "4.4.1"}],
        ),
    ]
    unknown = ses_record("Delivery", "ses-msg-of-another-sender", "zed@example.com", T0, details={"timestamp": at(5)})
    bare = [
        record("Subscription", 3, **unsubscribe_all(T0 + 24 * HOUR)),
        record("Rendering Failure", 9, errorMessage="Attribute 'x' is not present", templateName="spring"),
        delivery(4),  # the very event EventBridge also delivered: a duplicate
        unknown,
    ]
    sqs = via_sqs_lambda_event([via_eventbridge(record("Open", 2, **opened(80 * HOUR)), published)], published)
    files = [
        write_jsonl(folder / "ses-eventbridge.jsonl", [via_eventbridge(r, published) for r in eventbridge]),
        write_jsonl(folder / "ses-sns.jsonl", [via_sns(r, published) for r in sns]),
        folder / "ses-bare.json",
        folder / "sqs-lambda-event.json",
    ]
    files[2].write_text(json.dumps(bare, indent=2), encoding="utf-8")  # a JSON array, pretty-printed
    files[3].write_text(json.dumps(sqs, indent=2), encoding="utf-8")
    return files


def sms_event_files(folder: Path, ids: Mapping[str, str], campaign: str) -> list[Path]:
    """The SMS campaign's events: v2 events bare and in SNS, opt-out replies in SNS."""

    def record(event_type: str, n: int, offset: float, *, tagged: bool = True) -> dict[str, Any]:
        endpoint = f"s{n}"
        tags = tags_of(campaign, endpoint) if tagged else None
        return sms_record(event_type, ids[endpoint], f"+1206555010{n}", T0 + offset, tags=tags)

    published = T0 + 120 * HOUR
    bare = [
        *(record("TEXT_PENDING", n, n) for n in range(5)),
        record("TEXT_DELIVERED", 0, 100),
        record("TEXT_DELIVERED", 1, 101),
    ]
    sns = [
        record("TEXT_SUCCESSFUL", 0, 102),  # a second delivery kind for s0: still one delivered recipient
        record("TEXT_BLOCKED", 2, 103),
        record("TEXT_TTL_EXPIRED", 3, 2 * HOUR, tagged=False),  # attributed by its message id only
    ]
    replies = [
        via_sns(sms_reply("+12065550101", "STOP", ids["s1"], "in-1", "STOP"), T0 + 3 * HOUR, "pinrec-sms-inbound"),
        via_sns(sms_reply("+12065550104", "Stop.", ids["s4"], "in-2"), T0 + 100 * HOUR, "pinrec-sms-inbound"),
        via_sns(sms_reply("+12065550100", "HELP", ids["s0"], "in-3", "HELP"), T0 + 4 * HOUR, "pinrec-sms-inbound"),
    ]
    return [
        write_jsonl(folder / "sms-v2.jsonl", bare),
        write_jsonl(folder / "sms-sns.jsonl", [via_sns(r, published, "pinrec-sms-events") for r in sns]),
        write_jsonl(folder / "sms-opt-out.jsonl", replies),
    ]


EMAIL_FIGURES = {
    "sent": 10,
    "delivered": 6,
    "bounced": 2,
    "hard_bounced": 1,
    "soft_bounced": 1,
    "complained": 1,
    "rejected": 1,
    "rendering_failed": 1,
    "delayed": 1,
    "opened": 3,
    "clicked": 2,
    "clicks": 4,
    "unsubscribed": 1,
    "suppressed": 1,
    "suppressed_by_reason": {"manual": 1},
    "failed": 0,
    "failed_by_reason": {},
    "links": [{"link": LINK_A, "clicks": 3, "unique": 2}, {"link": LINK_B, "clicks": 1, "unique": 1}],
    "rates": {
        "delivery": 0.6,
        "bounce": 0.2,
        "hard_bounce": 0.1,
        "soft_bounce": 0.1,
        "complaint": 0.166667,
        "reject": 0.1,
        "open": 0.5,
        "click": 0.333333,
        "click_to_open": 0.666667,
        "unsubscribe": 0.166667,
    },
}
SMS_FIGURES = {
    "sent": 5,
    "delivered": 2,
    "bounced": 0,
    "hard_bounced": 0,
    "soft_bounced": 0,
    "complained": 0,
    "rejected": 0,
    "rendering_failed": 0,
    "delayed": 0,
    "opened": 0,
    "clicked": 0,
    "clicks": 0,
    "unsubscribed": 2,
    "suppressed": 0,
    "suppressed_by_reason": {},
    "failed": 2,
    "failed_by_reason": {"blocked:TEXT_BLOCKED:BLOCKED": 1, "failed:TEXT_TTL_EXPIRED:TTL_EXPIRED": 1},
    "links": [],
    "rates": {
        "delivery": 0.4,
        "bounce": 0.0,
        "hard_bounce": 0.0,
        "soft_bounce": 0.0,
        "complaint": 0.0,
        "reject": 0.0,
        "open": 0.0,
        "click": 0.0,
        "click_to_open": None,
        "unsubscribe": 1.0,
    },
}


def assert_email_report(found: Mapping[str, Any]) -> None:
    assert (found["campaign_id"], found["channel"], found["ledger_rows"], found["pending"]) == (
        "spring",
        "email",
        11,
        0,
    )
    assert found["events"] == 10 + 6 + 4 + 4 + 2 + 1 + 1 + 1 + 1 + 1, "sends, deliveries, opens, clicks, bounces..."
    assert found["last_event"] == "2027-01-18T16:00:00+00:00", "ep-2's open, 80 hours after the first send"
    assert found["channels"] == {"email": EMAIL_FIGURES}
    assert found["total"] == EMAIL_FIGURES
    assert found["series"] == {
        "start": "2027-01-15T08:00:00+00:00",
        "hours": 72,
        "bucket_seconds": 3600,
        "first_events": series(
            send={0: 10},
            delivery={0: 6},
            bounce={0: 2},
            complaint={5: 1},
            reject={0: 1},
            rendering_failure={0: 1},
            delivery_delay={0: 1},
            open={2: 1, 3: 1},  # ep-0's first open (its second, at 30 h, is not a first), ep-1's
            click={2: 1, 3: 1},
            subscription={24: 1},
        ),
        "outside": 1,  # ep-2's first open, at 80 h
    }
    assert [(w["threshold"], w["level"], w["numerator"], w["denominator"]) for w in found["warnings"]] == [
        ("ses_bounce_review", "reached", 1, 10),
        ("ses_bounce_pause", "reached", 1, 10),
        ("ses_complaint_review", "reached", 1, 6),
        ("mailbox_spam_rate", "reached", 1, 6),
        ("ses_complaint_pause", "reached", 1, 6),
    ]


def assert_sms_report(found: Mapping[str, Any]) -> None:
    assert (found["campaign_id"], found["channel"], found["ledger_rows"], found["pending"]) == (
        "spring-sms",
        "sms",
        5,
        0,
    )
    assert found["events"] == 5 + 2 + 3 + 2, "sends, deliveries (s0 twice), blocked + 2 failed, opt-outs"
    assert found["last_event"] == "2027-01-19T12:00:00+00:00", "s4's opt-out reply, 100 hours on"
    assert found["channels"] == {"sms": SMS_FIGURES}
    assert found["total"] == SMS_FIGURES
    assert found["series"]["first_events"] == series(
        send={0: 5}, delivery={0: 2}, blocked={0: 1}, failed={2: 1}, opt_out={3: 1}
    )
    assert (found["series"]["start"], found["series"]["outside"]) == ("2027-01-15T08:00:00+00:00", 1)
    assert found["warnings"] == [], "SMS has no published rate limits"


def all_records(files: list[Path]) -> list[Any]:
    """Every record of the files, one by one (a Lambda SQS event's messages apart, a JSON array's entries apart)."""
    found: list[Any] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            found += [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            value = json.loads(text)
            found += value if isinstance(value, list) else [{"Records": [r]} for r in value["Records"]]
    return found


def fresh_copy(ledger: Path, copy: Path) -> None:
    """The ledger as the sends left it (rows, no events): SQLite's backup, WAL included."""
    source, target = sqlite3.connect(ledger), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()


def test_events_in_every_documented_shape_give_the_reports_figures_exactly_whatever_the_order_and_duplicates(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["suppression", "add", "user10@example.com", "--reason", "manual",
                 "--suppression", "sqlite:suppression.db"]) == 0  # fmt: skip
    capsys.readouterr()
    email_ids = email_campaign(workspace, capsys, "spring", 11, "sqlite:suppression.db")
    assert sorted(email_ids) == sorted(f"ep-{n}" for n in range(10)), "ep-10 was suppressed before the send"
    sms = SmsStub(monkeypatch)
    sms_ids = sms_campaign(workspace, capsys, sms, "spring-sms", 5, suppression="none")
    fresh_copy(workspace / "ledger.db", workspace / "fresh.db")
    (workspace / "events").mkdir()
    files = email_event_files(workspace / "events", email_ids, "spring")
    files += sms_event_files(workspace / "events", sms_ids, "spring-sms")

    ingested = [ingest(path, capsys, "--ledger", "sqlite:ledger.db", "--no-suppression") for path in files]
    assert [(i["records"], i["recorded"], i["duplicates"], i["unknown"]) for i in ingested] == [
        (23, 23, 0, 0),  # EventBridge: 10 sends, 6 deliveries, 3 opens, 4 clicks
        (5, 5, 0, 0),
        (4, 2, 1, 1),  # bare: the unsubscribe and the rendering failure; ep-4's delivery again; another's message
        (1, 1, 0, 0),  # the SQS Lambda event
        (7, 7, 0, 0),
        (3, 3, 0, 0),
        (3, 2, 0, 0),  # two opt-outs; HELP is no event
    ]
    assert ingested[-1]["ignored"] == {"sms-inbound: a reply without an opt-out keyword": 1}
    assert all(not i["malformed"] for i in ingested)
    first = (report("spring", "sqlite:ledger.db", capsys), report("spring-sms", "sqlite:ledger.db", capsys))
    assert_email_report(first[0])
    assert_sms_report(first[1])

    again = [ingest(path, capsys, "--ledger", "sqlite:ledger.db", "--no-suppression") for path in files]
    assert sum(i["recorded"] for i in again) == 0
    assert sum(i["duplicates"] for i in again) == sum(i["recorded"] + i["duplicates"] for i in ingested)
    assert (report("spring", "sqlite:ledger.db", capsys), report("spring-sms", "sqlite:ledger.db", capsys)) == first

    records = all_records(files)
    mixed = records + random.Random(13).sample(records, len(records) // 2)  # half of them twice
    random.Random(7).shuffle(mixed)
    shuffled = ingest(write_jsonl(workspace / "mixed.jsonl", mixed), capsys, "--ledger", "sqlite:fresh.db",
                      "--no-suppression")  # fmt: skip
    assert shuffled["recorded"] == sum(i["recorded"] for i in ingested)
    assert (report("spring", "sqlite:fresh.db", capsys), report("spring-sms", "sqlite:fresh.db", capsys)) == first


def test_a_bounced_complained_unsubscribed_or_opted_out_recipient_is_skipped_by_the_next_send(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    email_ids = email_campaign(workspace, capsys, "spring", 8, "none")
    sms = SmsStub(monkeypatch)
    sms_ids = sms_campaign(workspace, capsys, sms, "spring-sms", 3, suppression="none")

    def record(event_type: str, n: int, *, tagged: bool = True, **details: Any) -> dict[str, Any]:
        tags = tags_of("spring", f"ep-{n}") if tagged else None
        address = f"user{n}@example.com"
        return ses_record(event_type, email_ids[f"ep-{n}"], address, T0, tags=tags, details=details)

    topic_only = {
        "contactList": "pinrec-news",
        "timestamp": iso(T0 + HOUR),
        "newTopicPreferences": {"topicSubscriptionStatus": [{"topicName": "offers", "subscriptionStatus": "OptOut"}]},
        "oldTopicPreferences": {"topicSubscriptionStatus": [{"topicName": "offers", "subscriptionStatus": "OptIn"}]},
    }
    email_events = [
        via_sns(record("Bounce", 1, tagged=False, **bounce("Permanent", "General", "User1@EXAMPLE.com", T0 + 9)), T0),
        via_sns(record("Bounce", 2, **bounce("Transient", "MailboxFull", "user2@example.com", T0 + 9)), T0),
        via_eventbridge(record("Complaint", 3, **complaint("user3@example.com", T0 + HOUR)), T0 + HOUR),
        record("Subscription", 4, **unsubscribe_all(T0 + HOUR)),
        record("Subscription", 5, **topic_only),  # offers only: a send without that topic still reaches ep-5
    ]
    sms_events = [
        via_sns(sms_reply("+12065550101", "stop", sms_ids["s1"], "in-1"), T0 + HOUR, "pinrec-sms-inbound"),
        sms_record("TEXT_BLOCKED", sms_ids["s2"], "+12065550102", T0 + 5, tags=tags_of("spring-sms", "s2")),
    ]
    for name, events in (("email.jsonl", email_events), ("sms.jsonl", sms_events)):
        done = ingest(write_jsonl(workspace / name, events), capsys, "--suppression", "sqlite:suppression.db",
                      "--ledger", "sqlite:ledger.db")  # fmt: skip
        assert (done["unknown"], done["malformed"]) == (0, {})
    listed = run_json(["suppression", "list", "--suppression", "sqlite:suppression.db"], capsys)["entries"]
    assert sorted((e["channel"], e["address"], e["reason"], e["topic"]) for e in listed) == [
        ("email", "user1@example.com", "bounce", None),
        ("email", "user3@example.com", "complaint", None),
        ("email", "user4@example.com", "unsubscribe", None),
        ("email", "user5@example.com", "unsubscribe", "offers"),
        ("sms", "+12065550101", "opt_out", None),
    ], "the transient bounce and the blocked SMS suppress nobody"

    before = len(ses_sent())
    summary = run_json(send_email("summer", "--suppression", "sqlite:suppression.db"), capsys)
    assert summary["sent"] == 5
    assert summary["skipped"] == {"suppressed:bounce": 1, "suppressed:complaint": 1, "suppressed:unsubscribe": 1}
    delivered = sorted(message.destinations["ToAddresses"][0] for message in ses_sent()[before:])
    assert delivered == [f"user{n}@example.com" for n in (0, 2, 5, 6, 7)]
    assert main(["send", "status", "summer", "--ledger", "sqlite:ledger.db", "--list", "skipped"]) == 0
    listing = [line.split("\t")[:2] for line in capsys.readouterr().out.splitlines() if line.startswith("ep-")]
    assert listing == [
        ["ep-1", "suppressed:bounce"],
        ["ep-3", "suppressed:complaint"],
        ["ep-4", "suppressed:unsubscribe"],
    ]

    segment, recommendations = "spring-sms.jsonl", "file:spring-sms-recs.jsonl"
    sms.expect(2)
    summary = run_json(
        send_sms("summer-sms", segment, recommendations, "--suppression", "sqlite:suppression.db"), capsys
    )
    sms.drained()
    assert (summary["sent"], summary["skipped"]) == (2, {"suppressed:opt_out": 1})
    assert [request["DestinationPhoneNumber"] for request in sms.requests[-2:]] == ["+12065550100", "+12065550102"]
