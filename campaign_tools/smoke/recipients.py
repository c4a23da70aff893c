"""The only recipients a smoke campaign may have: the SES mailbox simulator's addresses and End User Messaging's
destination simulator numbers, each with what its events must show.

SES mailbox simulator (SES Developer Guide, "Using the mailbox simulator"): success@ is delivered; bounce@ bounces
(Permanent, General); complaint@ is delivered, then complained about; suppressionlist@ bounces as if on the account
suppression list (Permanent, OnAccountSuppressionList). End User Messaging SMS destination simulator numbers (User
Guide, "Simulator phone numbers"): the United States' success and failure numbers -- the country of the only
origination simulator numbers AWS offers, and a simulator origination number can text only its own country's
simulator destinations."""

from __future__ import annotations

from dataclasses import dataclass

from transformer.errors import PinrecError


class NotASimulator(PinrecError):
    """A smoke recipient that is not a simulator: refused before anything is sent."""


@dataclass(frozen=True, slots=True)
class Promise:
    """What the simulator promises for a message to it."""

    endpoint_id: str
    kinds: frozenset[str]
    """Event kinds that must arrive (and mark the message done)."""
    absent: frozenset[str] = frozenset()
    """Event kinds that must not."""
    one_of: frozenset[str] = frozenset()
    """At least one of these kinds must arrive (the SMS failure number's event type is not documented)."""
    bounce_detail: str | None = None
    """The bounce sub-type the bounce must carry."""
    suppressed: str | None = None
    """The suppression reason the address must end with (None: not suppressed)."""

    def arrived(self, kinds: set[str]) -> bool:
        """Whether the events of `kinds` are all the simulator promised to send."""
        return self.kinds <= kinds and (not self.one_of or bool(self.one_of & kinds))


EMAIL_SIMULATOR: dict[str, Promise] = {
    "success@simulator.amazonses.com": Promise(
        "smoke-success", frozenset({"delivery"}), frozenset({"bounce", "complaint"})
    ),
    "bounce@simulator.amazonses.com": Promise(
        "smoke-bounce", frozenset({"bounce"}), frozenset({"delivery"}), bounce_detail="General", suppressed="bounce"
    ),
    "complaint@simulator.amazonses.com": Promise(
        "smoke-complaint", frozenset({"delivery", "complaint"}), frozenset({"bounce"}), suppressed="complaint"
    ),
    "suppressionlist@simulator.amazonses.com": Promise(
        "smoke-suppressionlist",
        frozenset({"bounce"}),
        frozenset({"delivery"}),
        bounce_detail="OnAccountSuppressionList",
        suppressed="bounce",
    ),
}
SMS_SIMULATOR: dict[str, Promise] = {
    "+14254147755": Promise("smoke-sms-success", frozenset({"delivery"}), frozenset({"failed", "blocked"})),
    "+14254147167": Promise(
        "smoke-sms-failure", frozenset(), frozenset({"delivery"}), frozenset({"failed", "blocked"})
    ),
}
SIMULATORS: dict[str, dict[str, Promise]] = {"email": EMAIL_SIMULATOR, "sms": SMS_SIMULATOR}


def check_recipient(channel: str, address: object) -> str:
    """`address` when it is one of the channel's simulator recipients, exactly as written here; NotASimulator
    otherwise (the message never names the address)."""
    simulators = SIMULATORS.get(channel)
    if simulators is None:
        raise NotASimulator(f"pinrec smoke sends email and sms only: {channel} has no simulator")
    if not isinstance(address, str) or address not in simulators:
        raise NotASimulator(f"pinrec smoke refuses this {channel} recipient: it is not a simulator")
    return address


def recipients(channel: str) -> dict[str, Promise]:
    """The channel's simulator recipients, each checked (a guard against an edit of the tables above)."""
    return {check_recipient(channel, address): promise for address, promise in SIMULATORS.get(channel, {}).items()}
