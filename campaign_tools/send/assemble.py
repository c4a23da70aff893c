"""Building a run's parts from command-line values: ledger, recommendation source, deliverer, pace, AWS clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from campaign_tools.send.delivery import Deliverer
from campaign_tools.send.delivery_outbox import DEFAULT_FROM, OutboxDeliverer
from campaign_tools.send.delivery_push import PushDeliverer, PushSettings
from campaign_tools.send.delivery_ses import EmailSettings, SesDeliverer, ses_max_send_rate
from campaign_tools.send.delivery_sms import DEFAULT_SMS_RATE, SmsDeliverer, SmsSettings, SmsType
from campaign_tools.send.ledger import Ledger
from campaign_tools.send.ledger_dynamodb import DynamoDbLedger
from campaign_tools.send.ledger_sqlite import SqliteLedger
from campaign_tools.send.messages import Channel, MessageComposer
from campaign_tools.send.recommendations import (
    FileRecommendations,
    IdType,
    PersonalizeRecommendations,
    RecommendationSource,
    SegmentRecommendations,
)
from transformer.aws import ClientTuning, client
from transformer.errors import PinrecError

CAMPAIGN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
DEFAULT_LEDGER = "sqlite:pinrec-send.db"
DEFAULT_OUTBOX = "pinrec-outbox"
DEFAULT_PUSH_RATE = 100.0
"""Messages per second for push when --rate is not given (End User Messaging push has no account-wide figure)."""
ClientFactory = Callable[[str], Any]


def boto_client(service: str) -> Any:
    """A boto3 client; region and endpoint come from the usual AWS settings (AWS_REGION, AWS_ENDPOINT_URL...)."""
    return client(service, tuning=ClientTuning(attempts=4))


def check_campaign_id(campaign_id: str) -> str:
    if not CAMPAIGN_ID_PATTERN.fullmatch(campaign_id):
        raise PinrecError(
            f"campaign id {campaign_id!r}: use 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return campaign_id


def open_ledger(spec: str, clients: ClientFactory = boto_client, *, durable: bool = True) -> Ledger:
    """`durable`: every SQLite commit reaches the disk before delivery goes on (needed when delivery is final)."""
    kind, _, target = spec.partition(":")
    if kind == "sqlite" and target:
        return SqliteLedger(target, durable=durable)
    if kind == "dynamodb" and target:
        return DynamoDbLedger(target, clients("dynamodb"))
    raise PinrecError(f"--ledger must be sqlite:PATH or dynamodb:TABLE, got {spec!r}")


def parse_filter_values(values: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for value in values:
        name, separator, text = value.partition("=")
        if not separator or not name:
            raise PinrecError(f"--filter-value must be NAME=VALUE, got {value!r}")
        parsed[name] = text
    return parsed


def recommendation_source(
    spec: str,
    *,
    id_type: IdType,
    per_message: int,
    filter_arn: str | None = None,
    filter_values: Mapping[str, str] | None = None,
    concurrency: int = 8,
    clients: ClientFactory = boto_client,
) -> RecommendationSource:
    kind, _, target = spec.partition(":")
    if kind == "file" and target:
        return FileRecommendations(target, id_type, per_message)
    if kind == "personalize" and target:
        return PersonalizeRecommendations(
            target,
            id_type,
            per_message,
            client=clients("personalize-runtime"),
            filter_arn=filter_arn,
            filter_values=filter_values,
            concurrency=concurrency,
        )
    if spec == "segment":
        return SegmentRecommendations(per_message)
    raise PinrecError(f"--recommendations must be personalize:CAMPAIGN_ARN, file:PATH or segment, got {spec!r}")


def deliverer_for(
    channel: Channel,
    *,
    outbox: str | None,
    email: EmailSettings | None,
    sms: SmsSettings | None,
    push: PushSettings | None,
    clients: ClientFactory = boto_client,
) -> Deliverer:
    """The outbox when `outbox` is set, else the channel's AWS deliverer."""
    if outbox is not None:
        return OutboxDeliverer(outbox, email=email or EmailSettings(DEFAULT_FROM), sms=sms, push=push)
    if channel is Channel.EMAIL:
        if email is None or email.from_address == DEFAULT_FROM:
            raise PinrecError("--deliver for email needs --from ADDRESS (a verified SES identity)")
        return SesDeliverer(clients("sesv2"), email)
    if channel is Channel.SMS:
        if sms is None:
            raise PinrecError("--deliver for sms needs SMS settings")
        return SmsDeliverer(clients("pinpoint-sms-voice-v2"), sms)
    if push is None:
        raise PinrecError("--deliver for push needs --application-id (the End User Messaging push application)")
    return PushDeliverer(clients("pinpoint"), push)


def default_rate(channel: Channel, deliver: bool, clients: ClientFactory = boto_client) -> tuple[float | None, str]:
    """The pace when --rate is not given, and where it came from. The outbox is not paced."""
    if not deliver:
        return None, "unpaced (outbox)"
    if channel is Channel.EMAIL:
        rate = ses_max_send_rate(clients("sesv2"))
        if rate is None:
            return 1.0, "1/s (SES GetAccount unavailable: pass --rate)"
        return rate, f"{rate:g}/s (SES MaxSendRate)"
    if channel is Channel.SMS:
        return DEFAULT_SMS_RATE, f"{DEFAULT_SMS_RATE:g}/s (SMS default for one long code: pass --rate for yours)"
    return DEFAULT_PUSH_RATE, f"{DEFAULT_PUSH_RATE:g}/s (push default)"


def sms_settings_for(
    composer: MessageComposer,
    *,
    max_parts: int | None,
    origination_identity: str | None,
    message_type: SmsType,
    configuration_set: str | None,
) -> SmsSettings:
    """SMS settings; the part counter and budget come from the composer when it has them (else the renderer's)."""
    from campaign_tools.send.compose import sms_segment_counter

    counter = getattr(composer, "sms_segments", None)
    return SmsSettings(
        segments=counter if callable(counter) else sms_segment_counter(),
        max_parts=max_parts or getattr(composer, "sms_max_segments", None) or 1,
        origination_identity=origination_identity,
        message_type=message_type,
        configuration_set=configuration_set,
    )
