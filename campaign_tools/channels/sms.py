"""SMS: one body, sent with AWS End User Messaging SMS (`pinpoint-sms-voice-v2` `SendTextMessage`) within a part
budget; a body over the budget is refused, never truncated.

Every SmsMessage checks its recipient when it is made, whoever composes it: a number in international form (`+`,
then digits, spaces, dots, dashes or parentheses) that the phonenumbers library finds valid for its country; it is
sent in E.164 form (`+12065550100`).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from campaign_tools.channels.addresses import sms as sms_addresses
from campaign_tools.channels.base import (
    ADDRESS_CACHE_SIZE,
    INVALID_ADDRESS,
    NO_ADDRESS,
    Channel,
    ClientFactory,
    ComposeError,
    ComposeInput,
    Delivered,
    Deliverer,
    DeliveryError,
    Message,
    OutboxFile,
    Part,
    PinpointTemplateType,
    PreviewOutput,
    Sender,
    SenderCheck,
    SendOption,
    Settings,
    json_file,
)
from campaign_tools.events.tags import message_tags
from transformer.aws import error_code

NAME = sms_addresses.NAME
BODY = Part("sms-body", NAME, ("sms.jinja",), "sms.txt")

SmsType = Literal["TRANSACTIONAL", "PROMOTIONAL"]
SegmentCounter = Callable[[str], int]
"""Counts the SMS parts a body takes (GSM-7 / UCS-2 rules); pinrec's renderer provides the real one."""

THROTTLING_CODES = frozenset({"ThrottlingException"})
FATAL_CODES = frozenset({"AccessDeniedException", "UnrecognizedClientException"})
DEFAULT_SMS_RATE = 1.0
"""End User Messaging's default per-number throughput: 1 part per second for long codes and 10DLC low volume;
toll-free numbers send 3/s, short codes 100/s. Pass --rate for the origination identity in use."""


_WRITTEN_NUMBER = re.compile(r"\+[0-9 ().-]+")
"""How an international number may be written: no letters, extensions or other text (phonenumbers would take
them and drop them)."""


@functools.lru_cache(maxsize=ADDRESS_CACHE_SIZE)
def check_address(address: str) -> str:
    """The number in E.164 form, or ComposeError(INVALID_ADDRESS) when it is not a valid international number."""
    import phonenumbers

    if not _WRITTEN_NUMBER.fullmatch(address):
        raise ComposeError(INVALID_ADDRESS)
    try:
        number = phonenumbers.parse(address, None)
    except phonenumbers.NumberParseException:
        raise ComposeError(INVALID_ADDRESS) from None
    if not phonenumbers.is_valid_number(number):
        raise ComposeError(INVALID_ADDRESS)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


class SmsTemplateSettings(Settings):
    """`[sms]` in template.toml."""

    max_segments: int = Field(1, ge=1, le=10, description="segment budget; lint warns when a message can exceed it")


def max_segments(settings: Settings | None) -> int:
    """The template's SMS segment budget (its `[sms] max_segments`, else the default)."""
    return (settings if isinstance(settings, SmsTemplateSettings) else SmsTemplateSettings()).max_segments


class SmsSettings(Settings):
    origination_identity: str | None = None
    message_type: SmsType = "PROMOTIONAL"
    configuration_set: str | None = None
    max_parts: int | None = Field(None, ge=1, description="part budget; default: the template's sms.max_segments")


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """One SMS; `to` is checked when made and kept in E.164 form."""

    to: str
    body: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", check_address(self.to))


def renderer_segment_counter() -> SegmentCounter:
    """The renderer's SMS part counter (GSM-7 / UCS-2, escape and surrogate pairs never split)."""
    from campaign_tools.rendering import sms_segments

    return sms_segments


def _sms(message: Message) -> SmsMessage:
    if not isinstance(message, SmsMessage):
        raise DeliveryError("wrong_message_type", detail=type(message).__name__)
    return message


class SmsSender(Sender):
    def __init__(self, settings: SmsSettings, segments: SegmentCounter, max_parts: int) -> None:
        if max_parts < 1:
            raise ValueError("the SMS part budget must be at least 1")
        self.settings = settings
        self.segments = segments
        self.max_parts = max_parts

    def request(self, message: Message, campaign_id: str, endpoint_id: str) -> dict[str, Any]:
        """The exact SendTextMessage request; refuses a body over the part budget (never sent, never truncated)."""
        sms = _sms(message)
        if not sms.body.strip():
            raise DeliveryError("empty_sms_body")
        parts = self.segments(sms.body)
        if parts > self.max_parts:
            raise DeliveryError("over_part_budget", detail=f"{parts} parts, budget {self.max_parts}")
        request: dict[str, Any] = {
            "DestinationPhoneNumber": sms.to,
            "MessageBody": sms.body,
            "MessageType": self.settings.message_type,
        }
        context = message_tags(campaign_id, endpoint_id)
        if context:
            request["Context"] = context
        if self.settings.origination_identity:
            request["OriginationIdentity"] = self.settings.origination_identity
        if self.settings.configuration_set:
            request["ConfigurationSetName"] = self.settings.configuration_set
        return request

    def outbox_file(self, message: Message, campaign_id: str, endpoint_id: str, created: float) -> OutboxFile:
        return json_file({"SendTextMessage": self.request(message, campaign_id, endpoint_id)})

    def provider(self, clients: ClientFactory) -> Deliverer:
        return SmsDeliverer(clients("pinpoint-sms-voice-v2"), self)


class SmsDeliverer:
    idempotent = False

    def __init__(self, client: Any, sender: SmsSender) -> None:
        self.client = client
        self.sender = sender

    def describe(self) -> str:
        return f"End User Messaging SMS ({self.sender.settings.message_type})"

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        from botocore.exceptions import BotoCoreError, ClientError

        request = self.sender.request(message, campaign_id, endpoint_id)
        try:
            response = self.client.send_text_message(**request)
        except ClientError as error:
            code = error_code(error)
            reason = error.response.get("Reason")
            raise DeliveryError(
                f"sms_{code}" + (f"_{reason}" if isinstance(reason, str) and reason.isidentifier() else ""),
                throttled=code in THROTTLING_CODES,
                fatal=code in FATAL_CODES,
            ) from None
        except BotoCoreError as error:
            raise DeliveryError(f"sms_{type(error).__name__}") from None
        return Delivered(str(response["MessageId"]))


def _origination(client: Any, identity: str) -> tuple[str, list[dict[str, Any]]]:
    """What kind of origination identity `identity` is (as SendTextMessage reads it), and what describes it."""
    resource = identity.rpartition(":")[2] if identity.startswith("arn:") else identity
    if resource.startswith(("phone-number/", "phone-")):
        return "phone number", client.describe_phone_numbers(PhoneNumberIds=[identity])["PhoneNumbers"]
    if resource.startswith(("pool/", "pool-")):
        return "pool", client.describe_pools(PoolIds=[identity])["Pools"]
    if resource.startswith("sender-id/"):
        _, sender, country = [*resource.split("/"), "", ""][:3]
        found = client.describe_sender_ids(SenderIds=[{"SenderId": sender, "IsoCountryCode": country}])
        return "sender id", found["SenderIds"]
    if identity.startswith("+"):
        pages = client.get_paginator("describe_phone_numbers").paginate()
        return "phone number", [n for page in pages for n in page["PhoneNumbers"] if n.get("PhoneNumber") == identity]
    pages = client.get_paginator("describe_sender_ids").paginate(Filters=[{"Name": "sender-id", "Values": [identity]}])
    return "sender id", [sender for page in pages for sender in page["SenderIds"]]


def origination_problem(client: Any, identity: str) -> str | None:
    """Why --origination-identity cannot send: it is not in End User Messaging SMS, or not active."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        kind, found = _origination(client, identity)
    except ClientError as error:
        code = error_code(error)
        if code != "ResourceNotFoundException":
            return (
                f"cannot check --origination-identity {identity} ({code}; grant sms-voice:DescribePhoneNumbers, "
                "sms-voice:DescribeSenderIds and sms-voice:DescribePools)"
            )
        kind, found = "origination identity", []
    except BotoCoreError as error:
        return f"cannot check --origination-identity {identity}: {error}"
    if not found:
        return f"--origination-identity {identity}: no such {kind} in End User Messaging SMS in this account and region"
    status = found[0].get("Status", "ACTIVE")
    return None if status == "ACTIVE" else f"--origination-identity {identity}: the {kind} is {status}, not ACTIVE"


class SmsChannel(Channel):
    name = NAME
    addresses = sms_addresses.ADDRESSES
    title = "SMS"
    endpoint_types = frozenset({"SMS"})
    parts = (BODY,)
    pinpoint = PinpointTemplateType("SMS", "SMSTemplateRequest", "SMSTemplateResponse", "sms_template")
    template_character_limit = 1_600
    template_settings = SmsTemplateSettings
    sender_settings = SmsSettings
    send_options = (
        SendOption("--configuration-set", "configuration_set", "SES or SMS configuration set"),
        SendOption("--origination-identity", "origination_identity", "SMS: phone number, sender id, pool or ARN"),
        SendOption("--sms-type", "message_type", "SMS message type", choices=("PROMOTIONAL", "TRANSACTIONAL")),
        SendOption(
            "--sms-max-parts", "max_parts", "SMS part budget (default: the template's sms.max_segments)", type=int
        ),
    )
    summary_label = "SMS segments"

    def check_address(self, address: str) -> str:
        return check_address(address)

    def template_request(self, parts: Mapping[Part, str], settings: Settings | None) -> dict[str, Any]:
        return {"Body": parts[BODY]}

    def compose(self, given: ComposeInput) -> SmsMessage:
        address = given.endpoint.get("Address")
        if not isinstance(address, str) or not address.strip():
            raise ComposeError(NO_ADDRESS)
        return SmsMessage(to=address, body=given.render(BODY).strip())

    def sender(self, settings: Settings, composer: object, template: Settings | None) -> SmsSender:
        """The part counter and budget come from the composer when it has them, else from the template and the
        renderer."""
        assert isinstance(settings, SmsSettings)
        counter = getattr(composer, "sms_segments", None)
        template_budget = max_segments(template) if template is not None else None
        budget = settings.max_parts or template_budget or getattr(composer, "sms_max_segments", None) or 1
        return SmsSender(settings, counter if callable(counter) else renderer_segment_counter(), budget)

    def default_rate(self, clients: ClientFactory) -> tuple[float, str]:
        return DEFAULT_SMS_RATE, f"{DEFAULT_SMS_RATE:g}/s (SMS default for one long code: pass --rate for yours)"

    def preflight(
        self, settings: Settings, clients: ClientFactory, *, rate: float | None, composer: object = None
    ) -> SenderCheck:
        """The origination identity, when one is given: a phone number, sender id or pool that exists and is
        active (without one, End User Messaging chooses)."""
        assert isinstance(settings, SmsSettings)
        if not settings.origination_identity:
            return SenderCheck()
        problem = origination_problem(clients("pinpoint-sms-voice-v2"), settings.origination_identity)
        return SenderCheck((problem,) if problem else ())

    def preview(self, rendered: Mapping[Part, str], folder: str, endpoint_id: str) -> PreviewOutput:
        from campaign_tools.rendering import sms_encoding

        if BODY not in rendered:
            return PreviewOutput({}, ())
        info = sms_encoding(rendered[BODY])
        block = (
            f"<div><h3>SMS ({html.escape(info.encoding)}, {info.characters} characters, {info.segments} "
            f'segment(s))</h3><div class="sms">{html.escape(rendered[BODY])}</div></div>'
        )
        return PreviewOutput({BODY.built_file: rendered[BODY]}, (block,), f"{info.encoding}, {info.segments}")


CHANNEL = SmsChannel()
