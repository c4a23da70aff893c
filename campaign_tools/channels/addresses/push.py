"""Push device tokens: trimmed, otherwise as they are (a token's case is significant)."""

from __future__ import annotations

from campaign_tools.channels.addresses.base import ChannelAddresses

NAME = "push"


def normalise(address: str) -> str:
    return address.strip()


ADDRESSES = ChannelAddresses(NAME, normalise)
