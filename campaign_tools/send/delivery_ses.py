"""Email through Amazon SES v2 `SendEmail` (simple content: subject, HTML, text and headers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from campaign_tools.send.delivery import Delivered, DeliveryError, client_error_code
from campaign_tools.send.messages import EmailMessage, Message

THROTTLING_CODES = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
)
FATAL_CODES = frozenset(
    {"AccountSuspendedException", "SendingPausedException", "AccessDeniedException", "UnrecognizedClientException"}
)
CAMPAIGN_TAG = "pinrec-campaign"


@dataclass(frozen=True)
class EmailSettings:
    from_address: str
    configuration_set: str | None = None


def _content(data: str) -> dict[str, str]:
    return {"Data": data, "Charset": "UTF-8"}


def ses_request(message: EmailMessage, settings: EmailSettings, campaign_id: str) -> dict[str, Any]:
    """The exact SendEmail request for one message."""
    body: dict[str, Any] = {"Html": _content(message.html)}
    if message.text:
        body["Text"] = _content(message.text)
    request: dict[str, Any] = {
        "FromEmailAddress": settings.from_address,
        "Destination": {"ToAddresses": [message.to]},
        "Content": {
            "Simple": {
                "Subject": _content(message.subject),
                "Body": body,
                "Headers": [{"Name": name, "Value": value} for name, value in message.all_headers()],
            }
        },
        "EmailTags": [{"Name": CAMPAIGN_TAG, "Value": campaign_id}],
    }
    if settings.configuration_set:
        request["ConfigurationSetName"] = settings.configuration_set
    return request


class SesDeliverer:
    """SES v2 has no idempotency token: a crash after SendEmail and before the ledger records it leaves the
    message `pending` (in doubt), which a later run resends only with --retry-pending (at-most-once by default)."""

    idempotent = False

    def __init__(self, client: Any, settings: EmailSettings) -> None:
        self.client = client
        self.settings = settings

    def describe(self) -> str:
        return f"SES SendEmail from {self.settings.from_address}"

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(message, EmailMessage):
            raise DeliveryError("wrong_message_type", detail=type(message).__name__)
        try:
            response = self.client.send_email(**ses_request(message, self.settings, campaign_id))
        except ClientError as error:
            code = client_error_code(error)
            raise DeliveryError(f"ses_{code}", throttled=code in THROTTLING_CODES, fatal=code in FATAL_CODES) from None
        except BotoCoreError as error:
            raise DeliveryError(f"ses_{type(error).__name__}") from None
        return Delivered(str(response["MessageId"]))


def ses_max_send_rate(client: Any) -> float | None:
    """The account's SES send rate (messages per second) from GetAccount, or None when it cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        quota = client.get_account().get("SendQuota", {})
    except (ClientError, BotoCoreError):
        return None
    rate = quota.get("MaxSendRate")
    return float(rate) if isinstance(rate, int | float) and rate > 0 else None
