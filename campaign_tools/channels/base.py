"""What a channel is: everything pinrec knows about sending on it, in one place.

A channel names the endpoint channel types it serves, the template parts it has (their source files, built files,
escaping and limits), the Pinpoint template request and publishing calls, the message it sends, the settings its
sender takes (and the `pinrec send` flags that set them), how a message looks in the outbox, how it is delivered,
its default pace, and what a preview shows of it. Templates, lint, preview and send read all of that from here.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from campaign_tools.channels.addresses.base import ChannelAddresses
from campaign_tools.unsubscribe.links import UnsubscribeLink
from transformer.errors import PinrecError


@dataclass(frozen=True, order=True)
class Part:
    """One text of a template: authored in `sources`, built into `built_file`, rendered per endpoint."""

    key: str
    """Its name in template.json and lint findings, e.g. `email-html`."""
    channel: str
    sources: tuple[str, ...]
    """jinja2 source file names; the first that exists is used."""
    built_file: str
    optional: bool = False
    single_line: bool = True
    """The built text must be one line (subjects, SMS, push fields)."""
    markup: bool = False
    """HTML (or MJML) rather than plain text: rendered with HTML escaping, run through the email pipeline."""
    derived_from: str | None = None
    """The key of the markup part this text part is derived from when its source is absent (the email text)."""
    character_limit: int | None = None
    """Pinpoint's limit on this part alone, where it sets one."""


@dataclass(frozen=True)
class PinpointTemplateType:
    """How Pinpoint names a channel's templates in its API (botocore's pinpoint model)."""

    template_type: str
    """TemplateType: EMAIL, SMS, PUSH."""
    request_key: str
    """e.g. EmailTemplateRequest: the request body's parameter, and the built file's name."""
    response_key: str
    method_suffix: str
    """boto3 method suffix: get_/create_/update_ + e.g. email_template."""


class Settings(BaseModel):
    """Settings of one channel, validated with every problem reported: no unknown key, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class SendOption:
    """A `pinrec send` flag that sets one field of a channel's sender settings. Channels may share a flag."""

    flag: str
    field: str
    help: str
    choices: tuple[str, ...] | None = None
    type: Callable[[str], Any] = str


class Message(Protocol):
    """What a composer makes for one endpoint; each channel defines its own (a frozen dataclass)."""


@dataclass(frozen=True, slots=True)
class Delivered:
    message_id: str
    """The provider's message id (SES, SMS, push) or the outbox file written."""


class DeliveryError(Exception):
    """One message was not delivered. `reason` is a short code for the summary and the ledger (no message data).

    `throttled`: the provider asked to slow down; the message is retried after a backoff in the same run.
    `fatal`: the account cannot send at all (paused, suspended, no access); the run stops after recording it.
    """

    def __init__(self, reason: str, *, throttled: bool = False, fatal: bool = False, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.throttled = throttled
        self.fatal = fatal


class ComposeError(PinrecError):
    """One endpoint's message cannot be made; `reason` is a short code counted in the summary and the ledger."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


NO_ADDRESS = "no_address"
INVALID_ADDRESS = "invalid_address"
ADDRESS_REASONS = frozenset({NO_ADDRESS, INVALID_ADDRESS})
ADDRESS_CACHE_SIZE = 4096
"""Recent addresses each channel's check remembers: a send checks one recipient's address when it reads the segment,
when it composes and when it builds the message, and a full check (email_validator, phonenumbers) costs tens of µs."""
"""Compose errors that are facts about the endpoint, not failures: recorded as skipped, never retried as failed."""


def check_token(address: str) -> str:
    """`address` when it can be a device token or any opaque address: non-empty, printable, no whitespace.
    ComposeError(INVALID_ADDRESS) otherwise."""
    if not address or not address.isprintable() or any(character.isspace() for character in address):
        raise ComposeError(INVALID_ADDRESS)
    return address


class Deliverer(Protocol):
    idempotent: bool
    """True when delivering the same (campaign, endpoint) twice still leaves exactly one message (the outbox)."""

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered: ...

    def describe(self) -> str: ...


ClientFactory = Callable[[str], Any]
"""service name -> boto3 client."""


@dataclass(frozen=True)
class OutboxFile:
    extension: str
    data: bytes


def json_file(request: Mapping[str, Any]) -> OutboxFile:
    """A provider request as the outbox keeps it: readable, stable JSON (keys sorted)."""
    return OutboxFile(
        "json", (json.dumps(request, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
    )


class Sender(ABC):
    """A channel's messages for one campaign: their outbox form and their delivery, with the sender settings."""

    @abstractmethod
    def outbox_file(self, message: Message, campaign_id: str, endpoint_id: str, created: float) -> OutboxFile:
        """The message as a file, exactly as it would be delivered; raises DeliveryError for one that cannot be.

        `created` (epoch seconds) is when the file was first written: a file that carries a date (an email's
        `Date`) takes it from there, so writing the same message again gives the same bytes."""

    @abstractmethod
    def provider(self, clients: ClientFactory) -> Deliverer:
        """The deliverer that sends through the AWS service of the channel."""


class RenderPart(Protocol):
    def __call__(self, part: Part, variables: Mapping[str, str] | None = None, /) -> str:
        """The part rendered for the endpoint ("" for a part the template does not have); `variables` are reserved
        variables the message fills (the unsubscribe link), added to the endpoint's."""
        ...


@dataclass(frozen=True)
class ComposeInput:
    """What a channel needs to make one endpoint's message from a template."""

    endpoint: Mapping[str, Any]
    render: RenderPart
    """The part rendered for the endpoint ("" for a part the template does not have)."""
    render_url: Callable[[str, str], str]
    """A URL of the template (a link) rendered for the endpoint, every substituted value percent-encoded:
    (text, its name)."""
    links: Mapping[str, Any]
    """The template's [links] settings (unsubscribe_url, ...)."""
    settings: Settings | None
    """The template's settings for this channel ([sms], [push] in template.toml), or None."""
    unsubscribe: Callable[[str], UnsubscribeLink] | None = None
    """The message's unsubscribe link for the recipient's checked address, in the mode the send uses (channels
    that unsubscribe: email); None: the template's `links.unsubscribe_url`, as before modes existed."""


@dataclass(frozen=True)
class PreviewOutput:
    """What a preview shows of one endpoint's rendered parts for this channel."""

    files: Mapping[str, str]
    """File name -> content, written to the endpoint's preview folder."""
    blocks: tuple[str, ...]
    """HTML blocks for the gallery (already escaped)."""
    summary: str | None = None
    """A figure for the summary table, under `summary_label` (e.g. SMS segments)."""


@dataclass(frozen=True)
class SenderCheck:
    """What a channel's preflight found: each problem stops the send before its first message; notes are shown."""

    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class Channel(ABC):
    """One channel. Subclasses set the class attributes and implement the methods; one instance is registered."""

    name: ClassVar[str]
    title: ClassVar[str]
    """How messages name the channel: email, SMS, push."""
    addresses: ClassVar[ChannelAddresses]
    """How suppression lists spell its addresses: the channel's lean module in `channels/addresses/` (standard
    library only, so the events and unsubscribe functions read it without the rest of the channel)."""
    endpoint_types: ClassVar[frozenset[str]]
    """The Pinpoint ChannelType values of endpoints this channel sends to."""
    parts: ClassVar[tuple[Part, ...]]
    pinpoint: ClassVar[PinpointTemplateType]
    template_character_limit: ClassVar[int | None] = None
    """Pinpoint's limit on all of a template's parts of this channel together."""
    template_settings: ClassVar[type[Settings] | None] = None
    """The `[<name>]` table of template.toml, kept in template.json for sending."""
    sender_settings: ClassVar[type[Settings]]
    send_options: ClassVar[tuple[SendOption, ...]] = ()
    summary_label: ClassVar[str | None] = None
    """The preview summary table's column for this channel's figure, if it has one."""
    unsubscribes: ClassVar[bool] = False
    """Messages carry an unsubscribe link in a mode the send chooses (`campaign_tools.unsubscribe.links`)."""

    def part(self, key: str) -> Part:
        return next(part for part in self.parts if part.key == key)

    def default_template_settings(self) -> Settings | None:
        return self.template_settings() if self.template_settings is not None else None

    def check_built(self, parts: Mapping[Part, str], settings: Settings | None) -> list[str]:
        """Problems of a built template's parts for this channel (each a sentence); none by default."""
        return []

    def check_sendable(self, template: str, links: Mapping[str, Any]) -> None:
        """Raise PinrecError when a template cannot send on this channel (checked before the first message)."""
        return None

    def check_address(self, address: str) -> str:
        """The address to deliver to, or ComposeError(INVALID_ADDRESS). Every message of the channel checks its
        recipient this way when it is made, whoever composes it; this default takes any opaque token."""
        return check_token(address)

    def normalise_address(self, address: str) -> str:
        """`address` in the one spelling suppression lists key it by (after `check_address` when it is to be sent
        to); never raises."""
        return self.addresses.normalise(address)

    @abstractmethod
    def template_request(self, parts: Mapping[Part, str], settings: Settings | None) -> dict[str, Any]:
        """The channel's fields of the Pinpoint template request (the caller adds DefaultSubstitutions etc.)."""

    @abstractmethod
    def compose(self, given: ComposeInput) -> Message: ...

    @abstractmethod
    def sender(self, settings: Settings, composer: object, template: Settings | None) -> Sender:
        """The sender of a campaign; `composer` may provide what the channel needs to check messages."""

    @abstractmethod
    def default_rate(self, clients: ClientFactory) -> tuple[float, str]:
        """Messages per second when delivering without --rate, and where the figure comes from."""

    def preflight(
        self, settings: Settings, clients: ClientFactory, *, rate: float | None, composer: object = None
    ) -> SenderCheck:
        """Before a `--deliver` send's first message: can the provider take it (the sender identity, application or
        account)? `rate` is the --rate given (None: the default pace applies); `composer` the send's, which may say
        more the provider must have (the SES contact list). Nothing to check by default."""
        return SenderCheck()

    @abstractmethod
    def preview(self, rendered: Mapping[Part, str], folder: str, endpoint_id: str) -> PreviewOutput: ...
