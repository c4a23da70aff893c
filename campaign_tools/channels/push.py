"""Push: a title, a body and an optional URL, sent with AWS End User Messaging push (`pinpoint` `SendMessages`) to
the endpoint's device token, as the GCM, APNs, Baidu or ADM message its channel type needs."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from campaign_tools.channels.addresses import push as push_addresses
from campaign_tools.channels.base import (
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
    check_token,
    json_file,
)
from campaign_tools.events.tags import message_tags
from transformer.aws import error_code
from transformer.errors import PinrecError

NAME = push_addresses.NAME
PART_LIMIT = 4_000
TITLE = Part("push-title", NAME, ("push-title.jinja",), "push-title.txt", character_limit=PART_LIMIT)
BODY = Part("push-body", NAME, ("push-body.jinja",), "push-body.txt", character_limit=PART_LIMIT)
URL = Part("push-url", NAME, ("push-url.jinja",), "push-url.txt", optional=True, character_limit=PART_LIMIT)

MESSAGE_KEYS = {
    "GCM": "GCMMessage",
    "APNS": "APNSMessage",
    "APNS_SANDBOX": "APNSMessage",
    "APNS_VOIP": "APNSMessage",
    "APNS_VOIP_SANDBOX": "APNSMessage",
    "BAIDU": "BaiduMessage",
    "ADM": "ADMMessage",
}
"""Pinpoint endpoint channel types that End User Messaging push delivers to, and the message each one takes."""
THROTTLING_CODES = frozenset({"TooManyRequestsException"})
FATAL_CODES = frozenset({"ForbiddenException", "NotFoundException"})
THROTTLED_STATUS = "THROTTLED"
DEFAULT_PUSH_RATE = 100.0
"""Messages per second for push when --rate is not given (End User Messaging push has no account-wide figure)."""
NEEDS_APPLICATION = "--deliver for push needs --application-id (the End User Messaging push application)"
OUTBOX_APPLICATION = "OUTBOX"
"""The ApplicationId shown in outbox requests when no --application-id is given."""

PushAction = Literal["OPEN_APP", "DEEP_LINK", "URL"]


class PushTemplateSettings(Settings):
    """`[push]` in template.toml."""

    action: PushAction = "URL"
    sound: str | None = None


class PushSettings(Settings):
    application_id: str | None = None


@dataclass(frozen=True, slots=True)
class PushMessage:
    """One push notification; `token` is checked when made (non-empty, printable, no whitespace)."""

    token: str
    channel_type: str
    """The endpoint's Pinpoint ChannelType: GCM, APNS, APNS_SANDBOX, APNS_VOIP, APNS_VOIP_SANDBOX, BAIDU or ADM."""
    title: str
    body: str
    url: str | None = None
    action: PushAction = "OPEN_APP"
    sound: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_token(self.token)


def _push(message: Message) -> PushMessage:
    if not isinstance(message, PushMessage):
        raise DeliveryError("wrong_message_type", detail=type(message).__name__)
    return message


def push_request(message: PushMessage, application_id: str, campaign_id: str, endpoint_id: str) -> dict[str, Any]:
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
    request: dict[str, Any] = {
        "Addresses": {message.token: {"ChannelType": message.channel_type}},
        "MessageConfiguration": {key: content},
    }
    context = message_tags(campaign_id, endpoint_id)
    if context:
        request["Context"] = context
    return {"ApplicationId": application_id, "MessageRequest": request}


class PushDeliverer:
    idempotent = False

    def __init__(self, client: Any, application_id: str) -> None:
        self.client = client
        self.application_id = application_id

    def describe(self) -> str:
        return f"End User Messaging push (application {self.application_id})"

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        from botocore.exceptions import BotoCoreError, ClientError

        push = _push(message)
        request = push_request(push, self.application_id, campaign_id, endpoint_id)
        try:
            response = self.client.send_messages(**request)
        except ClientError as error:
            code = error_code(error)
            raise DeliveryError(f"push_{code}", throttled=code in THROTTLING_CODES, fatal=code in FATAL_CODES) from None
        except BotoCoreError as error:
            raise DeliveryError(f"push_{type(error).__name__}") from None
        result = response.get("MessageResponse", {}).get("Result", {}).get(push.token, {})
        status = result.get("DeliveryStatus", "UNKNOWN_FAILURE")
        if status != "SUCCESSFUL":
            raise DeliveryError(f"push_{status}", throttled=status == THROTTLED_STATUS)
        return Delivered(str(result.get("MessageId", "")))


class PushSender(Sender):
    def __init__(self, settings: PushSettings) -> None:
        self.settings = settings

    def outbox_file(self, message: Message, campaign_id: str, endpoint_id: str, created: float) -> OutboxFile:
        application = self.settings.application_id or OUTBOX_APPLICATION
        return json_file({"SendMessages": push_request(_push(message), application, campaign_id, endpoint_id)})

    def provider(self, clients: ClientFactory) -> Deliverer:
        if not self.settings.application_id:
            raise PinrecError(NEEDS_APPLICATION)
        return PushDeliverer(clients("pinpoint"), self.settings.application_id)


def application_problem(client: Any, application_id: str) -> str | None:
    """Why --application-id cannot send: no such End User Messaging push application (GetApp)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client.get_app(ApplicationId=application_id)
    except ClientError as error:
        code = error_code(error)
        if code == "NotFoundException":
            return f"--application-id {application_id}: no such push application in this account and region"
        return f"cannot check --application-id {application_id} (GetApp: {code}; grant mobiletargeting:GetApp)"
    except BotoCoreError as error:
        return f"cannot check --application-id {application_id}: {error}"
    return None


class PushChannel(Channel):
    name = NAME
    addresses = push_addresses.ADDRESSES
    title = "push"
    endpoint_types = frozenset(MESSAGE_KEYS)
    parts = (TITLE, BODY, URL)
    pinpoint = PinpointTemplateType(
        "PUSH", "PushNotificationTemplateRequest", "PushNotificationTemplateResponse", "push_template"
    )
    template_settings = PushTemplateSettings
    sender_settings = PushSettings
    send_options = (SendOption("--application-id", "application_id", "push: the End User Messaging application id"),)

    def check_built(self, parts: Mapping[Part, str], settings: Settings | None) -> list[str]:
        action = settings.action if isinstance(settings, PushTemplateSettings) else PushTemplateSettings().action
        return ["push action URL needs push-url.jinja"] if action == "URL" and not parts.get(URL) else []

    def template_request(self, parts: Mapping[Part, str], settings: Settings | None) -> dict[str, Any]:
        push = settings if isinstance(settings, PushTemplateSettings) else PushTemplateSettings()
        message: dict[str, Any] = {"Action": push.action, "Body": parts[BODY], "Title": parts[TITLE]}
        if URL in parts:
            message["Url"] = parts[URL]
        if push.sound:
            message["Sound"] = push.sound
        return {"Default": message}

    def compose(self, given: ComposeInput) -> PushMessage:
        token = given.endpoint.get("Address")
        if not isinstance(token, str) or not token.strip():
            raise ComposeError(NO_ADDRESS)
        push = given.settings if isinstance(given.settings, PushTemplateSettings) else PushTemplateSettings()
        return PushMessage(
            token=token,
            channel_type=str(given.endpoint.get("ChannelType")),
            title=given.render(TITLE).strip(),
            body=given.render(BODY).strip(),
            url=given.render(URL).strip() or None,
            action=push.action,
            sound=push.sound,
        )

    def sender(self, settings: Settings, composer: object, template: Settings | None) -> PushSender:
        assert isinstance(settings, PushSettings)
        return PushSender(settings)

    def default_rate(self, clients: ClientFactory) -> tuple[float, str]:
        return DEFAULT_PUSH_RATE, f"{DEFAULT_PUSH_RATE:g}/s (push default)"

    def preflight(
        self, settings: Settings, clients: ClientFactory, *, rate: float | None, composer: object = None
    ) -> SenderCheck:
        """The push application exists (GetApp)."""
        assert isinstance(settings, PushSettings)
        if not settings.application_id:
            return SenderCheck((NEEDS_APPLICATION,))
        problem = application_problem(clients("pinpoint"), settings.application_id)
        return SenderCheck((problem,) if problem else ())

    def preview(self, rendered: Mapping[Part, str], folder: str, endpoint_id: str) -> PreviewOutput:
        esc = html.escape
        shown = {
            key: rendered[part] for key, part in (("title", TITLE), ("body", BODY), ("url", URL)) if part in rendered
        }
        files = {"push.json": json.dumps(shown, indent=2, ensure_ascii=False) + "\n"} if shown else {}
        blocks: tuple[str, ...] = ()
        if BODY in rendered:
            blocks = (
                f'<div><h3>Push</h3><div class="push"><strong>{esc(rendered.get(TITLE, ""))}</strong>'
                f'<br>{esc(rendered[BODY])}<br><small class="muted">{esc(rendered.get(URL, ""))}</small></div></div>',
            )
        return PreviewOutput(files, blocks)


CHANNEL = PushChannel()
