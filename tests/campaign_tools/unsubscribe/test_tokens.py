"""Unsubscribe tokens as properties: any claims round-trip; a token changed anywhere (any single bit of its bytes, any
character of its text, any truncation), made with another key, edited to name another address, or forged from
nothing is refused; keys rotate."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_tools.unsubscribe.tokens import (
    TAG_BYTES,
    Claims,
    InvalidToken,
    KeyRing,
    SigningKey,
    fingerprint,
    issue,
    verify,
)

SECRET = b"k" * 32
KEY = SigningKey("2026-11", SECRET)
RING = KeyRing(KEY)
OTHER = KeyRing(SigningKey("2026-11", b"o" * 32))

campaign_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,40}", fullmatch=True)
endpoint_ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=60)
addresses = st.builds(
    lambda local, domain: f"{local}@{domain}.example",
    st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}", fullmatch=True),
    st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True),
)
topics = st.none() | st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)
claims = st.builds(Claims, campaign_ids, endpoint_ids, addresses, topics, st.integers(0, (1 << 24) - 1))


def raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def text(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@settings(max_examples=300)
@given(claims)
def test_any_claims_round_trip(made: Claims) -> None:
    token = issue(made, KEY)
    assert verify(token, RING) == made
    assert token == issue(made, KEY), "the same claims give the same token"
    assert all(character.isalnum() or character in "-_" for character in token), "URL-safe, unpadded"


@settings(max_examples=300)
@given(claims, st.data())
def test_any_single_bit_change_of_the_bytes_is_refused(made: Claims, data: st.DataObject) -> None:
    token = raw(issue(made, KEY))
    bit = data.draw(st.integers(0, len(token) * 8 - 1))
    changed = bytearray(token)
    changed[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(InvalidToken):
        verify(text(bytes(changed)), RING)


@settings(max_examples=300)
@given(claims, st.data())
def test_any_single_bit_change_of_the_text_is_refused(made: Claims, data: st.DataObject) -> None:
    token = issue(made, KEY)
    position = data.draw(st.integers(0, len(token) - 1))
    bit = data.draw(st.integers(0, 6))
    changed = token[:position] + chr(ord(token[position]) ^ (1 << bit)) + token[position + 1 :]
    with pytest.raises(InvalidToken):
        verify(changed, RING)


@settings(max_examples=200)
@given(claims, st.data())
def test_any_truncation_or_extension_is_refused(made: Claims, data: st.DataObject) -> None:
    token = issue(made, KEY)
    cut = data.draw(st.integers(0, len(token) - 1))
    with pytest.raises(InvalidToken):
        verify(token[:cut], RING)
    with pytest.raises(InvalidToken):
        verify(token + data.draw(st.sampled_from("AQw-_")), RING)


@settings(max_examples=200)
@given(claims)
def test_a_token_of_another_key_is_refused_even_under_the_same_key_id(made: Claims) -> None:
    with pytest.raises(InvalidToken):
        verify(issue(made, OTHER.current), RING)
    with pytest.raises(InvalidToken):
        verify(issue(made, KEY), OTHER)


@settings(max_examples=300)
@given(claims, addresses)
def test_a_token_edited_to_name_another_address_is_refused(made: Claims, other: str) -> None:
    """The payload is encrypted with a stream, so without the MAC an attacker who knows the layout could flip the
    address's bits into another address of the same length. The MAC covers it: the edited token is refused."""
    original = made.address.lower()
    other = (other * (len(original) // len(other) + 1))[: len(original)]
    if other == original:
        return
    token = bytearray(raw(issue(made, KEY)))
    header = 2 + token[1] + 3
    campaign, endpoint = (len(value.encode()) for value in (made.campaign_id, made.endpoint_id))
    start = header + TAG_BYTES + 2 + campaign + 2 + endpoint + 2
    for offset, (was, wanted) in enumerate(zip(original.encode(), other.encode(), strict=True)):
        token[start + offset] ^= was ^ wanted
    with pytest.raises(InvalidToken):
        verify(text(bytes(token)), RING)


@settings(max_examples=200)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_anything_forged_from_nothing_is_refused(forged: bytes | str) -> None:
    with pytest.raises(InvalidToken):
        verify(text(forged) if isinstance(forged, bytes) else forged, RING)


def test_a_token_is_the_same_only_for_the_same_address_whatever_its_case() -> None:
    made = Claims("c1", "ep-1", "Ana@Example.COM ", None, 20_000)
    token = issue(made, KEY)
    assert verify(token, RING).address == "ana@example.com"
    assert token == issue(Claims("c1", "ep-1", "ana@example.com", None, 20_000), KEY)
    assert token != issue(Claims("c1", "ep-1", "bo@example.com", None, 20_000), KEY)


def test_the_address_and_ids_do_not_show_in_the_token() -> None:
    token = issue(Claims("spring-sale", "ep-ana", "ana@example.com", "news", 20_000), KEY)
    decoded = raw(token)
    for secret in (b"spring-sale", b"ep-ana", b"ana@example.com", b"news"):
        assert secret not in decoded


def test_keys_rotate_old_tokens_verify_while_their_key_is_listed() -> None:
    old, new = SigningKey("2026-05", b"a" * 32), SigningKey("2026-11", b"b" * 32)
    made = Claims("c1", "ep-1", "ana@example.com", None, 20_000)
    old_token = issue(made, old)
    assert verify(old_token, KeyRing(new, {"2026-05": old})) == made
    with pytest.raises(InvalidToken):
        verify(old_token, KeyRing(new))


def test_key_rules_and_no_secret_in_a_repr() -> None:
    with pytest.raises(Exception, match="at least 32"):
        SigningKey("k", b"short")
    with pytest.raises(Exception, match="key id"):
        SigningKey("bad id!", SECRET)
    assert "kkkk" not in repr(KEY) and "kkkk" not in repr(RING)
    assert fingerprint(SECRET) == fingerprint(SECRET) != fingerprint(b"x" * 32)
    assert len(fingerprint(SECRET)) == 8
