"""Every channel pinrec can send on. Adding one is a module beside email.py and one line here."""

from __future__ import annotations

from campaign_tools.channels import email, push, sms
from campaign_tools.channels.base import Channel, Part
from transformer.errors import PinrecError

CHANNELS: tuple[Channel, ...] = (
    email.CHANNEL,
    sms.CHANNEL,
    push.CHANNEL,
)


def names() -> tuple[str, ...]:
    return tuple(channel.name for channel in CHANNELS)


def channel(name: str) -> Channel:
    for candidate in CHANNELS:
        if candidate.name == name:
            return candidate
    raise PinrecError(f"unknown channel {name!r}: pinrec sends on {', '.join(names())}")


def for_endpoint_type(channel_type: object) -> Channel | None:
    """The channel that sends to endpoints of this Pinpoint ChannelType, if any."""
    return next((candidate for candidate in CHANNELS if channel_type in candidate.endpoint_types), None)


def all_parts() -> tuple[Part, ...]:
    return tuple(part for candidate in CHANNELS for part in candidate.parts)


def part(key: str) -> Part:
    for candidate in all_parts():
        if candidate.key == key:
            return candidate
    raise PinrecError(f"unknown template part {key!r}")
