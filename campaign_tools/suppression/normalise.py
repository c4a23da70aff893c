"""One spelling per recipient, so a suppression matches however the address was written."""

from __future__ import annotations


def normalise(channel: str, address: str) -> str:
    """Email: trimmed and lower-cased (mailbox providers treat addresses case-insensitively in practice); SMS: the
    number with only its leading `+` and digits (E.164 as the SMS channel sends it); push: the token as it is."""
    text = address.strip()
    if channel == "email":
        return text.lower()
    if channel == "sms":
        return ("+" if text.startswith("+") else "") + "".join(character for character in text if character.isdigit())
    return text
