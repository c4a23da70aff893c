"""What a suppression list is: entries keyed by (channel, normalised address), each with why and since when."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Reason(StrEnum):
    """Why a recipient is suppressed; a send skips them as `suppressed:<reason>`."""

    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    OPT_OUT = "opt_out"
    MANUAL = "manual"
    PROVIDER = "provider"
    """Imported from a provider's list (SES account suppression list, End User Messaging opt-out list)."""


@dataclass(frozen=True, slots=True)
class Suppression:
    channel: str
    """email, sms or push."""
    address: str
    """Normalised: an email address lower-cased, a phone number in E.164."""
    reason: Reason
    since: float
    """Epoch seconds."""
    source: str = ""
    """What put it there: an event id, `pinrec suppression add`, `ses-account`, an opt-out list's name..."""
    topic: str | None = None
    """An unsubscribe from one list or topic only; None: from everything sent on the channel."""


class SuppressionList(Protocol):
    def add(self, entries: Iterable[Suppression]) -> int:
        """Record entries (an address already suppressed keeps its earliest entry per reason); returns how many
        were new."""
        ...

    def remove(self, channel: str, address: str, *, force: bool = False) -> bool:
        """Remove every entry of the address; a complaint is removed only with `force`."""
        ...

    def lookup(self, channel: str, addresses: Iterable[str]) -> Mapping[str, Suppression]:
        """The suppressed ones among `addresses` (normalised), each with its strongest entry."""
        ...

    def entries(self, channel: str | None = None) -> Iterator[Suppression]: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...
