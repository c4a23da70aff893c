"""Email addresses: trimmed and lower-cased (mailbox providers treat addresses case-insensitively in practice), the
domain in IDNA (its ASCII form).

The email channel checks every recipient with email-validator, which gives the domain in IDNA 2008 ASCII form
already, and SES reports the address it was given: those pass through here only lower-cased. A domain still in
Unicode (an address from elsewhere) is encoded with the standard library's codec (IDNA 2003: the same ASCII form for
every domain but those holding ß, ς or a joiner); a domain that codec refuses stays as written, lower-cased.
"""

from __future__ import annotations

from campaign_tools.channels.addresses.base import ChannelAddresses

NAME = "email"


def normalise(address: str) -> str:
    text = address.strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or domain.isascii():
        return text
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return text
    return f"{local}@{ascii_domain.lower()}"


ADDRESSES = ChannelAddresses(NAME, normalise)
