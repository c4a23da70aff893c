"""What every delivery adapter (outbox, SES, SMS, push) promises, and how it reports a message it could not deliver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from campaign_tools.send.messages import Message
from transformer.errors import PinrecError


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


class DeliveryStopped(PinrecError):
    """The provider refused the account as a whole; the campaign stops and resumes after the cause is fixed."""


class Deliverer(Protocol):
    idempotent: bool
    """True when delivering the same (campaign, endpoint) twice still leaves exactly one message (the outbox)."""

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered: ...

    def describe(self) -> str: ...


def client_error_code(error: BaseException) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(error).__name__)
