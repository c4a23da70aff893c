"""What a channel's addresses are to a suppression list: the channel's name and how its addresses are normalised."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelAddresses:
    channel: str
    """The channel's name, as `campaign_tools.channels.registry` knows it."""
    normalise: Callable[[str], str]
    """One spelling per recipient, so that a suppression matches however the address was written. It takes any
    string and never raises: the channel's address check (`Channel.check_address`) decides what can be sent to."""
