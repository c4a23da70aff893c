"""Shared by the end-to-end tests of the delivery-event loop (tests/campaign_tools/test_loop_end_to_end.py): real
`pinrec send` runs of an email campaign through SES on moto and of an SMS campaign through a stubbed End User
Messaging client (moto has no SMS v2), the message ids those runs recorded, and event records built for them in the
exact shapes SES and End User Messaging publish (bare, in EventBridge, in SNS, in an SQS Lambda event)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.cli import main
from campaign_tools.events.tags import message_tags
from campaign_tools.send import run
from tests.aws_fixtures import ACCOUNT
from tests.campaign_tools.send.test_plugin import PLUGIN
from tests.campaign_tools.send.test_preflight import phone_number

REGION = "us-east-1"
SENDER = "news@shop.example.com"
CONFIGURATION_SET = "pinrec-events"
ORIGINATION = "phone-1"
T0 = datetime(2027, 1, 15, 8, 0, tzinfo=UTC).timestamp()
"""When the providers' events say the campaigns went out (any fixed time: the report reads the events' own times)."""
HOUR = 3600.0


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_sms_segment(folder: Path, name: str, count: int) -> tuple[str, str]:
    """SMS endpoints s0.. (+1206555010N) and their recommendations; returns (segment, recommendations) file names."""
    records = [{"Id": f"s{n}", "ChannelType": "SMS", "Address": f"+1206555010{n}"} for n in range(count)]
    (folder / f"{name}.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    (folder / f"{name}-recs.jsonl").write_text(
        "".join(json.dumps({"id": record["Id"], "items": ["P1"]}) + "\n" for record in records)
    )
    return f"{name}.jsonl", f"file:{name}-recs.jsonl"


def send_email(campaign: str, *extra: str) -> list[str]:
    return [
        "send", "--composer", PLUGIN, "--segment", "segment.jsonl", "--recommendations", "file:recs.jsonl",
        "--config", "pinrec.toml", "--campaign-id", campaign, "--ledger", "sqlite:ledger.db",
        "--deliver", "--from", SENDER, "--configuration-set", CONFIGURATION_SET, "--rate", "500", *extra,
    ]  # fmt: skip


def send_sms(campaign: str, segment: str, recommendations: str, *extra: str) -> list[str]:
    return [
        "send", "--composer", PLUGIN, "--channel", "sms", "--segment", segment, "--recommendations",
        recommendations, "--config", "pinrec.toml", "--campaign-id", campaign, "--ledger", "sqlite:ledger.db",
        "--deliver", "--origination-identity", ORIGINATION, "--configuration-set", CONFIGURATION_SET,
        "--rate", "100", "--workers", "1", *extra,
    ]  # fmt: skip


def run_json(arguments: list[str], capsys: pytest.CaptureFixture[str], status: int = 0) -> dict[str, Any]:
    assert main([*arguments, "--output", "json"]) == status, capsys.readouterr().err
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


class SmsStub:
    """End User Messaging SMS v2 on a Stubber (moto has none): the preflight's look at the origination identity,
    then one SendTextMessage answer per message, each with a new message id; the requests are kept."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = boto3.client(
            "pinpoint-sms-voice-v2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.stubber = Stubber(self.client)
        self.stubber.activate()
        self.requests: list[dict[str, Any]] = []
        self.client.meta.events.register(
            "before-parameter-build.pinpoint-sms-voice-v2.SendTextMessage",
            lambda params, **_: self.requests.append(dict(params)),
        )
        real = run.client

        def make(service: str, *arguments: Any, **options: Any) -> Any:
            return self.client if service == "pinpoint-sms-voice-v2" else real(service, *arguments, **options)

        monkeypatch.setattr(run, "client", make)

    def expect(self, messages: int) -> None:
        self.stubber.add_response(
            "describe_phone_numbers",
            {"PhoneNumbers": [phone_number("+15550199")]},
            {"PhoneNumberIds": [ORIGINATION]},
        )
        for _ in range(messages):
            self.stubber.add_response("send_text_message", {"MessageId": str(uuid.uuid4())})

    def drained(self) -> None:
        self.stubber.assert_no_pending_responses()


def message_ids(ledger: Path, campaign: str) -> dict[str, str]:
    """Endpoint id -> the provider's message id, as the send recorded it."""
    with sqlite3.connect(ledger) as connection:
        rows = connection.execute(
            "SELECT endpoint_id, message_id FROM messages WHERE campaign_id = ? AND state = 'sent'", (campaign,)
        ).fetchall()
    connection.close()
    return dict(rows)


def ses_sent() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[ACCOUNT][REGION].sent_messages)


# ---- SES event publishing records ----------------------------------------------------------------------------------


def ses_record(
    event_type: str,
    message_id: str,
    address: str,
    sent_at: float,
    *,
    tags: Mapping[str, str] | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One SES event publishing record of a message to `address` sent at `sent_at`; `tags` the message tags the send
    set (None: the record carries none of pinrec's); `details` the object named after the event type."""
    detail_key = {
        "Send": "send",
        "Delivery": "delivery",
        "Bounce": "bounce",
        "Complaint": "complaint",
        "Reject": "reject",
        "Rendering Failure": "failure",
        "DeliveryDelay": "deliveryDelay",
        "Open": "open",
        "Click": "click",
        "Subscription": "subscription",
    }[event_type]
    all_tags = {
        "ses:configuration-set": [CONFIGURATION_SET],
        "ses:source-ip": ["192.0.2.0"],
        "ses:from-domain": ["shop.example.com"],
        "ses:caller-identity": ["pinrec"],
        **{name: [value] for name, value in (tags or {}).items()},
    }
    return {
        "eventType": event_type,
        "mail": {
            "timestamp": iso(sent_at),
            "source": SENDER,
            "sourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/shop.example.com",
            "sendingAccountId": ACCOUNT,
            "messageId": message_id,
            "destination": [address],
            "headersTruncated": False,
            "headers": [{"name": "To", "value": address}, {"name": "Subject", "value": "Spring picks"}],
            "commonHeaders": {"from": [SENDER], "to": [address], "messageId": message_id, "subject": "Spring picks"},
            "tags": all_tags,
        },
        detail_key: dict(details or {}),
    }


DETAIL_TYPES = {
    "Send": "Email Sent",
    "Delivery": "Email Delivered",
    "Bounce": "Email Bounced",
    "Complaint": "Email Complaint Received",
    "Reject": "Email Rejected",
    "Rendering Failure": "Email Rendering Failed",
    "DeliveryDelay": "Email Delivery Delayed",
    "Open": "Email Opened",
    "Click": "Email Clicked",
    "Subscription": "Email Subscribed",
}


def via_eventbridge(record: Mapping[str, Any], published_at: float) -> dict[str, Any]:
    """An SES record as EventBridge delivers it from a configuration set's event destination."""
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(record, sort_keys=True))),
        "detail-type": DETAIL_TYPES[record["eventType"]],
        "source": "aws.ses",
        "account": ACCOUNT,
        "time": iso(published_at),
        "region": REGION,
        "resources": [f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/{CONFIGURATION_SET}"],
        "detail": dict(record),
    }


def via_sns(record: Mapping[str, Any], published_at: float, topic: str = "pinrec-events") -> dict[str, Any]:
    """A record as an SNS notification carries it (the record as JSON text in `Message`)."""
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(record, sort_keys=True))),
        "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic}",
        "Message": json.dumps(record),
        "Timestamp": iso(published_at),
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-example.pem",
        "UnsubscribeURL": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe",
    }


def via_sqs_lambda_event(records: list[Mapping[str, Any]], published_at: float) -> dict[str, Any]:
    """A Lambda SQS event whose messages' bodies are the records as JSON text (what the events function receives)."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(record, sort_keys=True))),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:pinrec-events-events",
                "awsRegion": REGION,
                "attributes": {"SentTimestamp": str(int(published_at * 1000))},
                "body": json.dumps(record),
            }
            for record in records
        ]
    }


def unsubscribe_all(at: float) -> dict[str, Any]:
    """An SES subscription change: the contact unsubscribed from everything (one-click through SES)."""
    return {
        "contactList": "pinrec-news",
        "timestamp": iso(at),
        "source": "UnsubscribeHeader",
        "newTopicPreferences": {"unsubscribeAll": True, "topicSubscriptionStatus": []},
        "oldTopicPreferences": {"unsubscribeAll": False, "topicSubscriptionStatus": []},
    }


def bounce(bounce_type: str, sub_type: str, address: str, at: float) -> dict[str, Any]:
    return {
        "bounceType": bounce_type,
        "bounceSubType": sub_type,
        "bouncedRecipients": [{"emailAddress": address, "status": "5.1.1" if bounce_type == "Permanent" else "4.2.2"}],
        "timestamp": iso(at),
        "feedbackId": f"bounce-{address}",
    }


def complaint(address: str, at: float) -> dict[str, Any]:
    return {
        "complainedRecipients": [{"emailAddress": address}],
        "timestamp": iso(at),
        "feedbackId": f"complaint-{address}",
        "complaintFeedbackType": "abuse",
    }


# ---- End User Messaging SMS records --------------------------------------------------------------------------------


def sms_record(
    event_type: str, message_id: str, number: str, at: float, *, tags: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An End User Messaging SMS (v2) configuration-set event; `tags` the Context the send set (None: none)."""
    status = event_type.removeprefix("TEXT_")
    return {
        "eventType": event_type,
        "eventVersion": "1.0",
        "eventTimestamp": int(at * 1000),
        "isFinal": status not in ("PENDING", "QUEUED", "SENT"),
        "originationPhoneNumber": "+15550199",
        "destinationPhoneNumber": number,
        "isInternationalSend": False,
        "mcc": "310",
        "mnc": "410",
        "messageId": message_id,
        "messageRequestTimestamp": int(T0 * 1000),
        "messageEncoding": "GSM",
        "messageType": "PROMOTIONAL",
        "messageStatus": status,
        "messageStatusDescription": f"Message {status.lower()}",
        "context": dict(tags or {}),
        "totalMessageParts": 1,
        "totalMessagePrice": 0.00581,
        "totalCarrierFee": 0.003,
    }


def sms_reply(number: str, body: str, replied_to: str, inbound_id: str, keyword: str = "") -> dict[str, Any]:
    """A two-way SMS reply as End User Messaging publishes it to SNS."""
    return {
        "originationNumber": number,
        "destinationNumber": "+15550199",
        "messageKeyword": keyword or "KEYWORD_NOT_FOUND",
        "messageBody": body,
        "inboundMessageId": inbound_id,
        "previousPublishedMessageId": replied_to,
    }


def tags_of(campaign: str, endpoint: str) -> dict[str, str]:
    tags = message_tags(campaign, endpoint)
    assert tags, "short ids always fit a tag"
    return tags


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def ingest(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    return run_json(["events", "ingest", str(path), *extra], capsys)


def report(campaign: str, ledger: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """`pinrec send report CAMPAIGN --output json`, without the moment it was made."""
    found = run_json(["send", "report", campaign, "--ledger", ledger], capsys)
    found.pop("generated_at")
    return found
