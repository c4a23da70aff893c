"""The messages a composer produces, one dataclass per channel, and the channels `pinrec send` can send on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol

from transformer.errors import PinrecError


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


PUSH_CHANNEL_TYPES = frozenset({"GCM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "BAIDU", "ADM"})
"""Pinpoint endpoint channel types that End User Messaging push delivers to."""

CHANNEL_TYPES: dict[Channel, frozenset[str]] = {
    Channel.EMAIL: frozenset({"EMAIL"}),
    Channel.SMS: frozenset({"SMS"}),
    Channel.PUSH: PUSH_CHANNEL_TYPES,
}

PushAction = Literal["OPEN_APP", "DEEP_LINK", "URL"]


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    html: str
    text: str | None
    unsubscribe_url: str
    """Sent as List-Unsubscribe with one-click List-Unsubscribe-Post (RFC 8058); bulk senders must offer it."""
    headers: tuple[tuple[str, str], ...] = ()
    """Further headers, in order; List-Unsubscribe and List-Unsubscribe-Post are added from `unsubscribe_url`."""

    def all_headers(self) -> tuple[tuple[str, str], ...]:
        return (
            *self.headers,
            ("List-Unsubscribe", f"<{self.unsubscribe_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        )


@dataclass(frozen=True, slots=True)
class SmsMessage:
    to: str
    body: str


@dataclass(frozen=True, slots=True)
class PushMessage:
    token: str
    channel_type: str
    """The endpoint's Pinpoint ChannelType: GCM, APNS, APNS_SANDBOX, APNS_VOIP, APNS_VOIP_SANDBOX, BAIDU or ADM."""
    title: str
    body: str
    url: str | None = None
    action: PushAction = "OPEN_APP"
    sound: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)


Message = EmailMessage | SmsMessage | PushMessage

MESSAGE_TYPES: dict[Channel, type[EmailMessage] | type[SmsMessage] | type[PushMessage]] = {
    Channel.EMAIL: EmailMessage,
    Channel.SMS: SmsMessage,
    Channel.PUSH: PushMessage,
}


class ComposeError(PinrecError):
    """One endpoint's message cannot be made; `reason` is a short code counted in the summary and the ledger."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class MessageComposer(Protocol):
    """Turns one enriched endpoint (the transformer's output, `Id` included) into the message for the channel.

    Implementations must be thread-safe; a message that cannot be made raises `ComposeError`.
    """

    def compose(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> Message: ...
