"""SMS: the End User Messaging SMS SendTextMessage request within the part budget (Stubber), its errors, the outbox
file, and where the sender's counter and budget come from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.channels.base import DeliveryError
from campaign_tools.channels.sms import (
    CHANNEL,
    SegmentCounter,
    SmsDeliverer,
    SmsMessage,
    SmsSender,
    SmsSettings,
    SmsTemplateSettings,
    renderer_segment_counter,
)
from campaign_tools.send.outbox import OutboxDeliverer

SMS = SmsMessage(to="+12065550100", body="Hi Ana: Trail Runner 2")


def one_part(text: str) -> int:
    return -(-len(text) // 160)


def aws_client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def sms_sender(segments: SegmentCounter = one_part, max_parts: int = 1, **overrides: Any) -> SmsSender:
    values: dict[str, Any] = {
        "origination_identity": "+15550199",
        "message_type": "PROMOTIONAL",
        "configuration_set": "sms-events",
    }
    values.update(overrides)
    return SmsSender(SmsSettings(**values), segments, max_parts)


def test_sms_send_text_message_exact_request() -> None:
    client = aws_client("pinpoint-sms-voice-v2")
    with Stubber(client) as stubber:
        stubber.add_response(
            "send_text_message",
            {"MessageId": "sms-1"},
            {
                "DestinationPhoneNumber": "+12065550100",
                "OriginationIdentity": "+15550199",
                "MessageBody": "Hi Ana: Trail Runner 2",
                "MessageType": "PROMOTIONAL",
                "ConfigurationSetName": "sms-events",
                "Context": {"pinrec-campaign": "c3ByaW5n", "pinrec-endpoint": "ZXAtMg"},
            },
        )
        assert SmsDeliverer(client, sms_sender()).deliver("spring", "ep-2", SMS).message_id == "sms-1"
        stubber.assert_no_pending_responses()


def test_sms_over_the_part_budget_is_refused_before_any_call() -> None:
    client = aws_client("pinpoint-sms-voice-v2")
    counted: list[str] = []

    def three_parts(text: str) -> int:
        counted.append(text)
        return 3

    with Stubber(client), pytest.raises(DeliveryError) as caught:  # no responses queued: a call would fail
        SmsDeliverer(client, sms_sender(segments=three_parts, max_parts=2)).deliver("c", "e", SMS)
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
            SmsDeliverer(client, sms_sender()).deliver("c", "e", SMS)
    assert (caught.value.reason, caught.value.throttled) == (reason, throttled)


def test_outbox_sms_is_the_exact_request(tmp_path: Path) -> None:
    sender = sms_sender()
    sms_file = tmp_path / OutboxDeliverer(tmp_path, sender).deliver("c", "ep-2", SMS).message_id
    assert sms_file == tmp_path / "c" / "ep-2.json"
    assert json.loads(sms_file.read_text()) == {"SendTextMessage": sender.request(SMS, "c", "ep-2")}
    assert json.loads(sms_file.read_text())["SendTextMessage"]["MessageBody"] == SMS.body
    with pytest.raises(DeliveryError, match="over_part_budget"):
        OutboxDeliverer(tmp_path, sms_sender(segments=lambda _: 2)).deliver("c", "ep-4", SMS)
    assert not (tmp_path / "c" / "ep-4.json").exists()


class BudgetComposer:
    sms_max_segments = 3

    @staticmethod
    def sms_segments(text: str) -> int:
        return 7


@pytest.mark.parametrize(
    ("flag", "template", "composer", "budget"),
    [
        (2, SmsTemplateSettings(max_segments=4), BudgetComposer(), 2),
        (None, SmsTemplateSettings(max_segments=4), BudgetComposer(), 4),
        (None, None, BudgetComposer(), 3),
        (None, None, object(), 1),
    ],
)
def test_the_part_budget_is_the_flag_else_the_template_else_the_composer_else_one(
    flag: int | None, template: SmsTemplateSettings | None, composer: object, budget: int
) -> None:
    sender = CHANNEL.sender(SmsSettings(max_parts=flag), composer, template)
    assert sender.max_parts == budget


def test_the_part_counter_is_the_composer_s_else_the_renderer_s() -> None:
    assert CHANNEL.sender(SmsSettings(), BudgetComposer(), None).segments("hi") == 7
    assert CHANNEL.sender(SmsSettings(), object(), None).segments("a" * 161) == 2


def test_the_real_sms_segment_counter() -> None:
    count = renderer_segment_counter()
    assert (count("a" * 160), count("a" * 161), count("’" * 70), count("’" * 71)) == (1, 2, 1, 2)


def test_sms_context_is_encoded_like_the_email_tags_and_left_out_when_it_cannot_be() -> None:
    from campaign_tools.events.tags import correlation

    sender = sms_sender()
    assert correlation(sender.request(SMS, "spring.2026", "ep/1")["Context"]) == ("spring.2026", "ep/1")
    assert "Context" not in sender.request(SMS, "c", "e" * 1024)
