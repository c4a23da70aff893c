"""Phone numbers: the leading `+` and the digits only, which is E.164 for a number written in international form.

The SMS channel checks every recipient with phonenumbers and sends it in E.164, so a checked number is unchanged
here; phonenumbers is not needed here (nor shipped in the events and unsubscribe functions' zips).
"""

from __future__ import annotations

from campaign_tools.channels.addresses.base import ChannelAddresses

NAME = "sms"


def normalise(address: str) -> str:
    text = address.strip()
    return ("+" if text.startswith("+") else "") + "".join(character for character in text if character.isdigit())


ADDRESSES = ChannelAddresses(NAME, normalise)
