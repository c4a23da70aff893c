"""One delivery event, whatever service reported it: the shape every source module produces and everything
downstream (the ledger's event records, suppression, reconciliation, the report) reads."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from campaign_tools.channels.addresses import registry as channels


class EventKind(StrEnum):
    """What happened to a message. Email kinds follow SES's event types; SMS and push kinds End User Messaging's."""

    SEND = "send"
    """The provider accepted the message (SES Send; End User Messaging's first event for a message)."""
    DELIVERY = "delivery"
    BOUNCE = "bounce"
    """`subtype`: Permanent, Transient or Undetermined (SES bounceType); `detail`: the bounce sub-type."""
    COMPLAINT = "complaint"
    REJECT = "reject"
    RENDERING_FAILURE = "rendering_failure"
    DELIVERY_DELAY = "delivery_delay"
    OPEN = "open"
    CLICK = "click"
    """`link`: the URL clicked."""
    SUBSCRIPTION = "subscription"
    """An SES subscription-management change; `subtype` says unsubscribed or subscribed, `topic` which topic."""
    FAILED = "failed"
    """SMS or push not delivered; `detail`: the provider's reason."""
    BLOCKED = "blocked"
    """SMS refused before sending (opted out, spam filter, ...); `detail`: the provider's reason."""
    OPT_OUT = "opt_out"
    """The recipient replied with an opt-out keyword (SMS)."""


SUPPRESSING = frozenset({EventKind.COMPLAINT, EventKind.OPT_OUT})
"""Kinds that suppress the recipient whatever their subtype (a permanent bounce and an unsubscribe do too)."""


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    """One event. `event_id` is stable for the same event however often it is delivered (idempotence); events of one
    message may arrive in any order. `recipient` is an address: it is stored for suppression, never logged."""

    event_id: str
    channel: str
    """The channel's name, one `campaign_tools.channels.addresses.registry` knows (ValueError otherwise)."""
    kind: EventKind
    occurred_at: float
    """When the event happened, epoch seconds (UTC)."""
    message_id: str | None
    """The provider's message id: what the ledger stored when the message was sent."""
    campaign_id: str | None = None
    """From the message tags / context pinrec set at send time, when present."""
    endpoint_id: str | None = None
    recipient: str | None = None
    subtype: str | None = None
    detail: str | None = None
    link: str | None = None
    topic: str | None = None

    def __post_init__(self) -> None:
        if self.channel not in channels.names():
            raise ValueError(f"unknown channel {self.channel!r}: pinrec sends on {', '.join(channels.names())}")

    @property
    def suppresses(self) -> bool:
        """Whether this event means the recipient must not be sent to again."""
        if self.kind in SUPPRESSING:
            return True
        if self.kind is EventKind.BOUNCE:
            return self.subtype == "Permanent"
        if self.kind is EventKind.SUBSCRIPTION:
            return self.subtype == "unsubscribed"
        return False
