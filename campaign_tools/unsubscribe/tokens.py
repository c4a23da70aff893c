"""Signed unsubscribe tokens: what `https://<endpoint>/u/<token>` carries.

A token binds a campaign, an endpoint, the recipient's normalised address, an optional topic and the day it was
issued, under a key named by its id (so keys can be rotated). It is deterministic SIV-style authenticated
encryption built on HMAC-SHA256 only:

    header  = version (1 byte) | key id length (1) | key id | issued day (3, days since 1970-01-01 UTC)
    payload = campaign id | endpoint id | address | topic   (each: 2-byte length + UTF-8)
    tag     = HMAC-SHA256(mac key, header | payload)[:16]
    token   = base64url(header | tag | payload XOR keystream(tag)), no padding
    keystream block i = HMAC-SHA256(encryption key, tag | i)

Both keys are derived from the signing key with HMAC. The MAC covers every field, so a token altered anywhere, made
without the key, or edited to name another address is refused; the address and ids are encrypted, so the URL
shows nothing about the recipient. The same claims under the same key always give the same token (an outbox
message written twice is the same bytes). Verification compares tags in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from campaign_tools.channels.addresses import email as email_addresses
from transformer.errors import PinrecError

VERSION = 1
TAG_BYTES = 16
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
MIN_SECRET_CHARACTERS = 32
MAX_TOKEN_CHARACTERS = 4096
"""Longer tokens are refused before decoding: no field can make a real one this long."""
MAX_FIELD_BYTES = 0xFFFF
_TOKEN_TEXT = re.compile(r"[A-Za-z0-9_-]+")
_DAY_BYTES = 3


class InvalidToken(PinrecError):
    """A token that is not one this key ring signed, whatever the reason (never said: no oracle)."""

    def __init__(self) -> None:
        super().__init__("invalid unsubscribe token")


@dataclass(frozen=True, slots=True)
class Claims:
    """What a token says: who unsubscribes from what."""

    campaign_id: str
    endpoint_id: str
    address: str
    """The email address, normalised (trimmed, lower-cased): the suppression list's key."""
    topic: str | None
    """The list or topic unsubscribed from; None: everything sent on the channel."""
    issued_day: int
    """Days since 1970-01-01 (UTC) when the token was made."""


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not KEY_ID.fullmatch(self.key_id):
            raise PinrecError(f"unsubscribe key id {self.key_id!r}: use 1-32 letters, digits, '_' or '-'")
        if len(self.secret) < MIN_SECRET_CHARACTERS:
            raise PinrecError(
                f"unsubscribe key {self.key_id}: the secret must be at least {MIN_SECRET_CHARACTERS} characters"
            )

    @cached_property
    def _mac_key(self) -> bytes:
        return hmac.digest(self.secret, b"pinrec-unsubscribe/mac", "sha256")

    @cached_property
    def _encryption_key(self) -> bytes:
        return hmac.digest(self.secret, b"pinrec-unsubscribe/encrypt", "sha256")

    def tag(self, data: bytes) -> bytes:
        return hmac.digest(self._mac_key, data, "sha256")[:TAG_BYTES]

    def keystream(self, tag: bytes, length: int) -> bytes:
        blocks = (length + 31) // 32
        stream = b"".join(
            hmac.digest(self._encryption_key, tag + index.to_bytes(4, "big"), "sha256") for index in range(blocks)
        )
        return stream[:length]


def fingerprint(secret: bytes) -> str:
    """The key id of a key given without one: 8 URL-safe characters of a hash of the secret."""
    digest = hashlib.sha256(b"pinrec-unsubscribe/key-id\x00" + secret).digest()
    return base64.urlsafe_b64encode(digest[:6]).decode("ascii")


@dataclass(frozen=True)
class KeyRing:
    """The key new tokens are signed with, and every key a token may have been signed with (rotation)."""

    current: SigningKey
    keys: Mapping[str, SigningKey] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.current.key_id not in self.keys:
            object.__setattr__(self, "keys", {**self.keys, self.current.key_id: self.current})

    def __repr__(self) -> str:
        return f"KeyRing(current={self.current.key_id!r}, keys={sorted(self.keys)!r})"


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def _field(value: str) -> bytes:
    encoded = value.encode("utf-8")
    if len(encoded) > MAX_FIELD_BYTES:
        raise PinrecError("an unsubscribe token field is over 65,535 bytes")
    return len(encoded).to_bytes(2, "big") + encoded


def _header(key_id: str, issued_day: int) -> bytes:
    encoded = key_id.encode("ascii")
    return bytes([VERSION, len(encoded)]) + encoded + issued_day.to_bytes(_DAY_BYTES, "big")


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(token: str) -> bytes:
    """The token's bytes, only from its one canonical spelling (no padding, no unused bits set)."""
    if len(token) > MAX_TOKEN_CHARACTERS or not _TOKEN_TEXT.fullmatch(token):
        raise InvalidToken
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken from None
    if _encode(data) != token:
        raise InvalidToken
    return data


def issue(claims: Claims, key: SigningKey) -> str:
    """The token for `claims` (the address is normalised here), signed with `key`."""
    if not 0 <= claims.issued_day < 1 << (8 * _DAY_BYTES):
        raise PinrecError(f"issued day {claims.issued_day} is out of range")
    if claims.topic == "":
        raise PinrecError("an unsubscribe topic is a name or None, never empty")
    header = _header(key.key_id, claims.issued_day)
    payload = b"".join(
        _field(value)
        for value in (
            claims.campaign_id,
            claims.endpoint_id,
            email_addresses.normalise(claims.address),
            claims.topic or "",
        )
    )
    tag = key.tag(header + payload)
    return _encode(header + tag + _xor(payload, key.keystream(tag, len(payload))))


def _fields(payload: bytes, count: int) -> list[str]:
    values, at = [], 0
    for _ in range(count):
        if at + 2 > len(payload):
            raise InvalidToken
        length = int.from_bytes(payload[at : at + 2], "big")
        at += 2
        if at + length > len(payload):
            raise InvalidToken
        try:
            values.append(payload[at : at + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidToken from None
        at += length
    if at != len(payload):
        raise InvalidToken
    return values


def verify(token: str, keys: KeyRing) -> Claims:
    """The claims of a token signed by one of `keys`; InvalidToken for anything else, whatever is wrong."""
    data = _decode(token)
    if len(data) < 2 or data[0] != VERSION:
        raise InvalidToken
    id_end = 2 + data[1]
    tag_start = id_end + _DAY_BYTES
    if len(data) < tag_start + TAG_BYTES:
        raise InvalidToken
    key = keys.keys.get(data[2:id_end].decode("ascii", errors="replace"))
    if key is None:
        raise InvalidToken
    header, tag, ciphertext = data[:tag_start], data[tag_start : tag_start + TAG_BYTES], data[tag_start + TAG_BYTES :]
    payload = _xor(ciphertext, key.keystream(tag, len(ciphertext)))
    if not hmac.compare_digest(key.tag(header + payload), tag):
        raise InvalidToken
    campaign_id, endpoint_id, address, topic = _fields(payload, 4)
    issued_day = int.from_bytes(data[id_end:tag_start], "big")
    return Claims(campaign_id, endpoint_id, address, topic or None, issued_day)
