"""Push: the End User Messaging push SendMessages request per endpoint channel type and its delivery status
(Stubber), and the outbox file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.channels.base import DeliveryError
from campaign_tools.channels.push import (
    OUTBOX_APPLICATION,
    PushDeliverer,
    PushMessage,
    PushSender,
    PushSettings,
    push_request,
)
from campaign_tools.send.outbox import OutboxDeliverer
from transformer.errors import PinrecError

PUSH = PushMessage(
    token="tok-1", channel_type="GCM", title="For Ana", body="Trail Runner 2", url="https://s.example/p", action="URL"
)


def aws_client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


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
                    "Context": {"pinrec-campaign": "c3ByaW5n", "pinrec-endpoint": "ZXAtMw"},
                },
            },
        )
        assert PushDeliverer(client, "app-1").deliver("spring", "ep-3", PUSH).message_id == "push-1"
    apns = PushMessage(token="t", channel_type="APNS_SANDBOX", title="T", body="B", sound="default")
    request = push_request(apns, "app-1", "c", "e")
    assert request["MessageRequest"]["MessageConfiguration"] == {
        "APNSMessage": {"Title": "T", "Body": "B", "Action": "OPEN_APP", "Sound": "default"}
    }
    with pytest.raises(DeliveryError, match="unsupported_push_channel"):
        push_request(PushMessage(token="t", channel_type="EMAIL", title="T", body="B"), "a", "c", "e")


@pytest.mark.parametrize(
    ("status", "throttled"), [("THROTTLED", True), ("PERMANENT_FAILURE", False), ("OPT_OUT", False)]
)
def test_push_delivery_status_other_than_successful_is_a_failure(status: str, throttled: bool) -> None:
    client = aws_client("pinpoint")
    with Stubber(client) as stubber:
        stubber.add_response("send_messages", push_response(status))
        with pytest.raises(DeliveryError) as caught:
            PushDeliverer(client, "app-1").deliver("c", "e", PUSH)
    assert (caught.value.reason, caught.value.throttled) == (f"push_{status}", throttled)


def test_outbox_push_is_the_exact_request(tmp_path: Path) -> None:
    outbox = OutboxDeliverer(tmp_path, PushSender(PushSettings(application_id="app-1")))
    push_file = tmp_path / outbox.deliver("c", "ep-3", PUSH).message_id
    assert push_file == tmp_path / "c" / "ep-3.json"
    assert json.loads(push_file.read_text()) == {"SendMessages": push_request(PUSH, "app-1", "c", "ep-3")}
    unnamed = tmp_path / OutboxDeliverer(tmp_path, PushSender(PushSettings())).deliver("d", "ep-3", PUSH).message_id
    assert json.loads(unnamed.read_text()) == {"SendMessages": push_request(PUSH, OUTBOX_APPLICATION, "d", "ep-3")}


def test_delivering_push_needs_an_application_id() -> None:
    clients: dict[str, object] = {}

    def factory(service: str) -> object:
        return clients.setdefault(service, object())

    deliverer = PushSender(PushSettings(application_id="app")).provider(factory)
    assert isinstance(deliverer, PushDeliverer) and deliverer.client is clients["pinpoint"]
    with pytest.raises(PinrecError, match="--application-id"):
        PushSender(PushSettings()).provider(factory)


def test_push_context_is_encoded_like_the_email_tags_and_left_out_when_it_cannot_be() -> None:
    from campaign_tools.events.tags import correlation

    assert correlation(push_request(PUSH, "app-1", "spring.2026", "ep/1")["MessageRequest"]["Context"]) == (
        "spring.2026",
        "ep/1",
    )
    assert "Context" not in push_request(PUSH, "app-1", "c", "e" * 1024)["MessageRequest"]
