"""Push through AWS End User Messaging push (`pinpoint` `SendMessages` to the endpoint's device token)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from campaign_tools.send.delivery import Delivered, DeliveryError, client_error_code
from campaign_tools.send.messages import Message, PushMessage

MESSAGE_KEYS = {
    "GCM": "GCMMessage",
    "APNS": "APNSMessage",
    "APNS_SANDBOX": "APNSMessage",
    "APNS_VOIP": "APNSMessage",
    "APNS_VOIP_SANDBOX": "APNSMessage",
    "BAIDU": "BaiduMessage",
    "ADM": "ADMMessage",
}
THROTTLING_CODES = frozenset({"TooManyRequestsException"})
FATAL_CODES = frozenset({"ForbiddenException", "NotFoundException"})
THROTTLED_STATUS = "THROTTLED"


@dataclass(frozen=True)
class PushSettings:
    application_id: str


def push_request(message: PushMessage, settings: PushSettings, campaign_id: str, endpoint_id: str) -> dict[str, Any]:
    """The exact SendMessages request: one address (the token) and the message for its channel."""
    key = MESSAGE_KEYS.get(message.channel_type)
    if key is None:
        raise DeliveryError("unsupported_push_channel", detail=message.channel_type)
    content: dict[str, Any] = {"Title": message.title, "Body": message.body, "Action": message.action}
    if message.url:
        content["Url"] = message.url
    if message.sound:
        content["Sound"] = message.sound
    if message.data:
        content["Data"] = dict(message.data)
    return {
        "ApplicationId": settings.application_id,
        "MessageRequest": {
            "Addresses": {message.token: {"ChannelType": message.channel_type}},
            "MessageConfiguration": {key: content},
            "Context": {"pinrec-campaign": campaign_id, "pinrec-endpoint": endpoint_id},
        },
    }


class PushDeliverer:
    idempotent = False

    def __init__(self, client: Any, settings: PushSettings) -> None:
        self.client = client
        self.settings = settings

    def describe(self) -> str:
        return f"End User Messaging push (application {self.settings.application_id})"

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(message, PushMessage):
            raise DeliveryError("wrong_message_type", detail=type(message).__name__)
        request = push_request(message, self.settings, campaign_id, endpoint_id)
        try:
            response = self.client.send_messages(**request)
        except ClientError as error:
            code = client_error_code(error)
            raise DeliveryError(f"push_{code}", throttled=code in THROTTLING_CODES, fatal=code in FATAL_CODES) from None
        except BotoCoreError as error:
            raise DeliveryError(f"push_{type(error).__name__}") from None
        result = response.get("MessageResponse", {}).get("Result", {}).get(message.token, {})
        status = result.get("DeliveryStatus", "UNKNOWN_FAILURE")
        if status != "SUCCESSFUL":
            raise DeliveryError(f"push_{status}", throttled=status == THROTTLED_STATUS)
        return Delivered(str(result.get("MessageId", "")))
