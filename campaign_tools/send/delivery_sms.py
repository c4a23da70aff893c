"""SMS through AWS End User Messaging SMS (`pinpoint-sms-voice-v2` `SendTextMessage`), within a part budget."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from campaign_tools.send.delivery import Delivered, DeliveryError, client_error_code
from campaign_tools.send.messages import Message, SmsMessage

SmsType = Literal["TRANSACTIONAL", "PROMOTIONAL"]
SegmentCounter = Callable[[str], int]
"""Counts the SMS parts a body takes (GSM-7 / UCS-2 rules); pinrec's renderer provides the real one."""

THROTTLING_CODES = frozenset({"ThrottlingException"})
FATAL_CODES = frozenset({"AccessDeniedException", "UnrecognizedClientException"})
DEFAULT_SMS_RATE = 1.0
"""End User Messaging's default per-number throughput: 1 part per second for long codes and 10DLC low volume;
toll-free numbers send 3/s, short codes 100/s. Pass --rate for the origination identity in use."""


@dataclass(frozen=True)
class SmsSettings:
    segments: SegmentCounter
    max_parts: int
    origination_identity: str | None = None
    message_type: SmsType = "PROMOTIONAL"
    configuration_set: str | None = None

    def __post_init__(self) -> None:
        if self.max_parts < 1:
            raise ValueError("the SMS part budget must be at least 1")


def sms_request(message: SmsMessage, settings: SmsSettings, campaign_id: str, endpoint_id: str) -> dict[str, Any]:
    """The exact SendTextMessage request; refuses a body over the part budget (never sent, never truncated)."""
    if not message.body.strip():
        raise DeliveryError("empty_sms_body")
    parts = settings.segments(message.body)
    if parts > settings.max_parts:
        raise DeliveryError("over_part_budget", detail=f"{parts} parts, budget {settings.max_parts}")
    request: dict[str, Any] = {
        "DestinationPhoneNumber": message.to,
        "MessageBody": message.body,
        "MessageType": settings.message_type,
        "Context": {"pinrec-campaign": campaign_id, "pinrec-endpoint": endpoint_id},
    }
    if settings.origination_identity:
        request["OriginationIdentity"] = settings.origination_identity
    if settings.configuration_set:
        request["ConfigurationSetName"] = settings.configuration_set
    return request


class SmsDeliverer:
    idempotent = False

    def __init__(self, client: Any, settings: SmsSettings) -> None:
        self.client = client
        self.settings = settings

    def describe(self) -> str:
        return f"End User Messaging SMS ({self.settings.message_type})"

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(message, SmsMessage):
            raise DeliveryError("wrong_message_type", detail=type(message).__name__)
        request = sms_request(message, self.settings, campaign_id, endpoint_id)
        try:
            response = self.client.send_text_message(**request)
        except ClientError as error:
            code = client_error_code(error)
            reason = error.response.get("Reason")
            raise DeliveryError(
                f"sms_{code}" + (f"_{reason}" if isinstance(reason, str) and reason.isidentifier() else ""),
                throttled=code in THROTTLING_CODES,
                fatal=code in FATAL_CODES,
            ) from None
        except BotoCoreError as error:
            raise DeliveryError(f"sms_{type(error).__name__}") from None
        return Delivered(str(response["MessageId"]))
