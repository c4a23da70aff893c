"""Delivery adapters: SES v2 through moto's server, SMS and push through Stubber, and the outbox files."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.send.delivery import DeliveryError
from campaign_tools.send.delivery_outbox import OutboxDeliverer, file_name
from campaign_tools.send.delivery_push import PushDeliverer, PushSettings, push_request
from campaign_tools.send.delivery_ses import EmailSettings, SesDeliverer, ses_max_send_rate, ses_request
from campaign_tools.send.delivery_sms import SmsDeliverer, SmsSettings
from campaign_tools.send.messages import EmailMessage, PushMessage, SmsMessage

EMAIL = EmailMessage(
    to="ana@example.com",
    subject="Picked for you, Ana — 3 finds",
    html="<p>Hi Ana</p>",
    text="Hi Ana",
    unsubscribe_url="https://shop.example.com/u?e=ep-1",
)
SMS = SmsMessage(to="+15550100", body="Hi Ana: Trail Runner 2")
PUSH = PushMessage(
    token="tok-1", channel_type="GCM", title="For Ana", body="Trail Runner 2", url="https://s.example/p", action="URL"
)


def one_part(text: str) -> int:
    return -(-len(text) // 160)


def aws_client(service: str, endpoint_url: str | None = None) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_ses_send_email_through_moto_server_with_exact_request(moto_module_endpoint: str) -> None:
    ses = aws_client("sesv2", moto_module_endpoint)
    ses.create_email_identity(EmailIdentity="news@shop.example.com")
    sent_bodies: list[dict[str, Any]] = []
    ses.meta.events.register(
        "before-send.sesv2.SendEmail", lambda request, **_: sent_bodies.append(json.loads(request.body))
    )
    deliverer = SesDeliverer(ses, EmailSettings("news@shop.example.com", "marketing"))
    delivered = deliverer.deliver("spring-2026", "ep-1", EMAIL)
    assert delivered.message_id
    assert sent_bodies == [
        {
            "FromEmailAddress": "news@shop.example.com",
            "Destination": {"ToAddresses": ["ana@example.com"]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": "Picked for you, Ana — 3 finds", "Charset": "UTF-8"},
                    "Body": {
                        "Html": {"Data": "<p>Hi Ana</p>", "Charset": "UTF-8"},
                        "Text": {"Data": "Hi Ana", "Charset": "UTF-8"},
                    },
                    "Headers": [
                        {"Name": "List-Unsubscribe", "Value": "<https://shop.example.com/u?e=ep-1>"},
                        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
                    ],
                }
            },
            "EmailTags": [{"Name": "pinrec-campaign", "Value": "spring-2026"}],
            "ConfigurationSetName": "marketing",
        }
    ]
    from moto.ses.models import ses_backends

    backend = ses_backends["123456789012"]["us-east-1"]
    assert any(message.id == delivered.message_id for message in backend.sent_messages)


def test_ses_unverified_sender_is_a_per_message_failure(moto_module_endpoint: str) -> None:
    deliverer = SesDeliverer(aws_client("sesv2", moto_module_endpoint), EmailSettings("nobody@elsewhere.example"))
    with pytest.raises(DeliveryError) as caught:
        deliverer.deliver("c", "ep-1", EMAIL)
    assert caught.value.reason == "ses_MessageRejected"
    assert not caught.value.throttled and not caught.value.fatal


@pytest.mark.parametrize(
    ("code", "throttled", "fatal"),
    [
        ("TooManyRequestsException", True, False),
        ("LimitExceededException", True, False),
        ("SendingPausedException", False, True),
        ("AccountSuspendedException", False, True),
        ("BadRequestException", False, False),
    ],
)
def test_ses_error_classes(code: str, throttled: bool, fatal: bool) -> None:
    ses = aws_client("sesv2")
    with Stubber(ses) as stubber:
        stubber.add_client_error("send_email", code, http_status_code=400)
        with pytest.raises(DeliveryError) as caught:
            SesDeliverer(ses, EmailSettings("a@b.example")).deliver("c", "e", EMAIL)
    assert (caught.value.reason, caught.value.throttled, caught.value.fatal) == (f"ses_{code}", throttled, fatal)


def test_ses_request_without_text_part_or_configuration_set() -> None:
    request = ses_request(
        EmailMessage("b@x.org", "S", "<b>H</b>", None, "https://u.example/1"), EmailSettings("a@x.org"), "c"
    )
    assert request["Content"]["Simple"]["Body"] == {"Html": {"Data": "<b>H</b>", "Charset": "UTF-8"}}
    assert "ConfigurationSetName" not in request


def test_ses_send_rate_from_get_account() -> None:
    ses = aws_client("sesv2")
    with Stubber(ses) as stubber:
        stubber.add_response(
            "get_account", {"SendQuota": {"MaxSendRate": 14.0, "Max24HourSend": 50000.0, "SentLast24Hours": 0.0}}, {}
        )
        assert ses_max_send_rate(ses) == 14.0
        stubber.add_client_error("get_account", "AccessDeniedException", http_status_code=403)
        assert ses_max_send_rate(ses) is None


def sms_settings(**overrides: Any) -> SmsSettings:
    values: dict[str, Any] = {
        "segments": one_part,
        "max_parts": 1,
        "origination_identity": "+15550199",
        "message_type": "PROMOTIONAL",
        "configuration_set": "sms-events",
    }
    values.update(overrides)
    return SmsSettings(**values)


def test_sms_send_text_message_exact_request() -> None:
    client = aws_client("pinpoint-sms-voice-v2")
    with Stubber(client) as stubber:
        stubber.add_response(
            "send_text_message",
            {"MessageId": "sms-1"},
            {
                "DestinationPhoneNumber": "+15550100",
                "OriginationIdentity": "+15550199",
                "MessageBody": "Hi Ana: Trail Runner 2",
                "MessageType": "PROMOTIONAL",
                "ConfigurationSetName": "sms-events",
                "Context": {"pinrec-campaign": "spring", "pinrec-endpoint": "ep-2"},
            },
        )
        assert SmsDeliverer(client, sms_settings()).deliver("spring", "ep-2", SMS).message_id == "sms-1"
        stubber.assert_no_pending_responses()


def test_sms_over_the_part_budget_is_refused_before_any_call() -> None:
    client = aws_client("pinpoint-sms-voice-v2")
    counted: list[str] = []

    def three_parts(text: str) -> int:
        counted.append(text)
        return 3

    with Stubber(client), pytest.raises(DeliveryError) as caught:  # no responses queued: a call would fail
        SmsDeliverer(client, sms_settings(segments=three_parts, max_parts=2)).deliver("c", "e", SMS)
    assert caught.value.reason == "over_part_budget"
    assert counted == [SMS.body]


@pytest.mark.parametrize(
    ("code", "reason", "throttled"),
    [
        ("ThrottlingException", "sms_ThrottlingException", True),
        ("ValidationException", "sms_ValidationException", False),
    ],
)
def test_sms_errors(code: str, reason: str, throttled: bool) -> None:
    client = aws_client("pinpoint-sms-voice-v2")
    with Stubber(client) as stubber:
        stubber.add_client_error("send_text_message", code, http_status_code=400)
        with pytest.raises(DeliveryError) as caught:
            SmsDeliverer(client, sms_settings()).deliver("c", "e", SMS)
    assert (caught.value.reason, caught.value.throttled) == (reason, throttled)


def push_response(status: str, token: str = "tok-1") -> dict[str, Any]:
    return {
        "MessageResponse": {
            "ApplicationId": "app-1",
            "Result": {token: {"DeliveryStatus": status, "StatusCode": 200, "MessageId": "push-1"}},
        }
    }


def test_push_send_messages_exact_request_per_channel() -> None:
    client = aws_client("pinpoint")
    with Stubber(client) as stubber:
        stubber.add_response(
            "send_messages",
            push_response("SUCCESSFUL"),
            {
                "ApplicationId": "app-1",
                "MessageRequest": {
                    "Addresses": {"tok-1": {"ChannelType": "GCM"}},
                    "MessageConfiguration": {
                        "GCMMessage": {
                            "Title": "For Ana",
                            "Body": "Trail Runner 2",
                            "Action": "URL",
                            "Url": "https://s.example/p",
                        }
                    },
                    "Context": {"pinrec-campaign": "spring", "pinrec-endpoint": "ep-3"},
                },
            },
        )
        assert PushDeliverer(client, PushSettings("app-1")).deliver("spring", "ep-3", PUSH).message_id == "push-1"
    apns = PushMessage(token="t", channel_type="APNS_SANDBOX", title="T", body="B", sound="default")
    request = push_request(apns, PushSettings("app-1"), "c", "e")
    assert request["MessageRequest"]["MessageConfiguration"] == {
        "APNSMessage": {"Title": "T", "Body": "B", "Action": "OPEN_APP", "Sound": "default"}
    }
    with pytest.raises(DeliveryError, match="unsupported_push_channel"):
        push_request(PushMessage(token="t", channel_type="EMAIL", title="T", body="B"), PushSettings("a"), "c", "e")


@pytest.mark.parametrize(
    ("status", "throttled"), [("THROTTLED", True), ("PERMANENT_FAILURE", False), ("OPT_OUT", False)]
)
def test_push_delivery_status_other_than_successful_is_a_failure(status: str, throttled: bool) -> None:
    client = aws_client("pinpoint")
    with Stubber(client) as stubber:
        stubber.add_response("send_messages", push_response(status))
        with pytest.raises(DeliveryError) as caught:
            PushDeliverer(client, PushSettings("app-1")).deliver("c", "e", PUSH)
    assert (caught.value.reason, caught.value.throttled) == (f"push_{status}", throttled)


def test_outbox_email_is_an_rfc5322_message_with_both_parts(tmp_path: Path) -> None:
    outbox = OutboxDeliverer(tmp_path, email=EmailSettings("news@shop.example.com"))
    delivered = outbox.deliver("spring/2026", "ep:1", EMAIL)
    path = tmp_path / delivered.message_id
    assert path == tmp_path / "spring%2F2026" / "ep%3A1.eml"
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["From"] == "news@shop.example.com" and parsed["To"] == "ana@example.com"
    assert parsed["Subject"] == EMAIL.subject
    assert parsed["List-Unsubscribe"] == "<https://shop.example.com/u?e=ep-1>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().strip() == "Hi Ana"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Hi Ana</p>"
    first = path.read_bytes()
    outbox.deliver("spring/2026", "ep:1", EMAIL)
    assert path.read_bytes() == first, "re-delivery writes the same bytes to the same file"
    assert sorted(p.name for p in path.parent.iterdir()) == ["ep%3A1.eml"], "no temporary file is left behind"


def test_outbox_sms_and_push_are_the_exact_requests(tmp_path: Path) -> None:
    outbox = OutboxDeliverer(tmp_path, sms=sms_settings(), push=PushSettings("app-1"))
    sms_file = tmp_path / outbox.deliver("c", "ep-2", SMS).message_id
    push_file = tmp_path / outbox.deliver("c", "ep-3", PUSH).message_id
    assert json.loads(sms_file.read_text())["SendTextMessage"]["MessageBody"] == SMS.body
    assert json.loads(push_file.read_text()) == {"SendMessages": push_request(PUSH, PushSettings("app-1"), "c", "ep-3")}
    with pytest.raises(DeliveryError, match="over_part_budget"):
        OutboxDeliverer(tmp_path, sms=sms_settings(segments=lambda _: 2)).deliver("c", "ep-4", SMS)
    assert not (tmp_path / "c" / "ep-4.json").exists()


@pytest.mark.parametrize("identifier", ["..", ".", "a/b", "a%2Fb", "é", "x" * 300, "CON", "a b"])
def test_outbox_file_names_are_safe_and_distinct(identifier: str) -> None:
    name = file_name(identifier)
    assert "/" not in name and name not in (".", "..") and len(name) <= 200
    others = {
        file_name(other)
        for other in ["..", ".", "a/b", "a%2Fb", "é", "x" * 300, "x" * 299, "a b"]
        if other != identifier
    }
    assert name not in others


def test_outbox_keeps_a_long_unsubscribe_url_as_one_header_value(tmp_path: Path) -> None:
    url = "https://shop.example.com/preferences?endpoint=ep-1&utm_source=pinpoint&utm_medium=email&utm_campaign=x" * 2
    message = EmailMessage("b@x.org", "S", "<p>H</p>", None, url)
    path = tmp_path / OutboxDeliverer(tmp_path).deliver("c", "e", message).message_id
    assert f"List-Unsubscribe: <{url}>\r\n".encode() in path.read_bytes()
