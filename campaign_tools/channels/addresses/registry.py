"""Every channel's addresses, in `campaign_tools.channels.registry` order. A new channel's `addresses/<name>.py` is
one line here (tests/campaign_tools/channels/test_registry.py checks both registries agree)."""

from __future__ import annotations

from campaign_tools.channels.addresses import email, push, sms
from campaign_tools.channels.addresses.base import ChannelAddresses
from transformer.errors import PinrecError

CHANNELS: tuple[ChannelAddresses, ...] = (
    email.ADDRESSES,
    sms.ADDRESSES,
    push.ADDRESSES,
)


def names() -> tuple[str, ...]:
    return tuple(addresses.channel for addresses in CHANNELS)


def addresses(channel: str) -> ChannelAddresses:
    for candidate in CHANNELS:
        if candidate.channel == channel:
            return candidate
    raise PinrecError(f"unknown channel {channel!r}: pinrec sends on {', '.join(names())}")


def normalise(channel: str, address: str) -> str:
    """`address` as the lists of `channel` store it; PinrecError for a channel no module registers."""
    return addresses(channel).normalise(address)
