"""What a suppression list is: entries keyed by (channel, normalised address, reason, topic), each with since when
and what put it there; and the rules every list kind applies the same way (the scope of a reason, the strongest
entry, which entries apply to a send)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from transformer.errors import PinrecError


class SuppressionError(PinrecError):
    """The suppression list cannot be opened, read or written, or refuses a change (a complaint removed without
    force)."""


class Reason(StrEnum):
    """Why a recipient is suppressed; a send skips them as `suppressed:<reason>`."""

    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    OPT_OUT = "opt_out"
    MANUAL = "manual"
    PROVIDER = "provider"
    """Imported from a provider's list other than as a bounce, complaint or opt-out (e.g. a number an
    administrator put on an End User Messaging opt-out list)."""


STRENGTH = (Reason.COMPLAINT, Reason.BOUNCE, Reason.OPT_OUT, Reason.UNSUBSCRIBE, Reason.PROVIDER, Reason.MANUAL)
"""When an address has several entries, the first of these is the one a send reports."""
TOPIC_SCOPED = frozenset({Reason.UNSUBSCRIBE, Reason.MANUAL})
"""Reasons an entry may limit to one list or topic. A bounce, a complaint, an opt-out or a provider's entry is about
the address itself: it always suppresses everything sent on the channel (its topic is dropped when written)."""


@dataclass(frozen=True, slots=True)
class Suppression:
    channel: str
    """email, sms or push."""
    address: str
    """Normalised: an email address lower-cased, a phone number in E.164: each channel's
    `campaign_tools.channels.addresses` module, through its registry's `normalise`."""
    reason: Reason
    since: float
    """Epoch seconds (UTC)."""
    source: str = ""
    """What put it there: an event id, `pinrec suppression add`, `ses-account`, an opt-out list's name..."""
    topic: str | None = None
    """An unsubscribe from one list or topic only; None: from everything sent on the channel."""


def scoped(entry: Suppression) -> Suppression:
    """The entry as a list stores it: the topic kept only for the reasons that can have one."""
    return entry if entry.topic is None or entry.reason in TOPIC_SCOPED else replace(entry, topic=None)


def applies(entry: Suppression, topic: str | None) -> bool:
    """Whether the entry suppresses a send of `topic` (None: a send with no topic): a channel-wide entry suppresses
    every send on its channel, a topic's entry only sends of that topic."""
    return entry.topic is None or entry.topic == topic


def complaint_refusal(channel: str) -> str:
    return (
        f"the {channel} address complained: removing it needs --force (sending to a complainer again risks the account)"
    )


def stronger(entry: Suppression, current: Suppression | None) -> bool:
    return current is None or STRENGTH.index(entry.reason) < STRENGTH.index(current.reason)


class SuppressionList(Protocol):
    def add(self, entries: Iterable[Suppression]) -> int:
        """Record entries (addresses normalised here; a topic dropped where `TOPIC_SCOPED` says). An entry already
        held for the same (channel, address, reason, topic) keeps the earliest `since` (and its source and topic);
        returns how many entries were written (new, or earlier than the one held)."""
        ...

    def remove(self, channel: str, address: str, *, force: bool = False) -> bool:
        """Remove every entry of the address; a complaint is removed only with `force` (SuppressionError otherwise).
        True when something was removed."""
        ...

    def lookup(self, channel: str, addresses: Iterable[str], *, topic: str | None = None) -> Mapping[str, Suppression]:
        """The suppressed ones among `addresses` (each normalised before the lookup; the result is keyed by the
        address as given), each with its strongest entry among those that apply to a send of `topic`."""
        ...

    def entries(self, channel: str | None = None) -> Iterator[Suppression]: ...

    def sync_times(self) -> Mapping[str, float]:
        """When each provider list (by source name, e.g. `ses-account`) was last imported in full, epoch seconds."""
        ...

    def record_sync(self, source: str, at: float) -> None:
        """Record that `source` was imported in full at `at` (a later time replaces an earlier one)."""
        ...

    def describe(self) -> str: ...

    def close(self) -> None: ...
