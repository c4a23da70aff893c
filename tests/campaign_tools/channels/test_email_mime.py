"""The `.eml` written directly is byte for byte what the `email` package writes, whatever the message; messages it
cannot write plainly are left to the package."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.channels import email as email_channel
from campaign_tools.channels.email import EmailMessage, EmailSettings, email_mime
from campaign_tools.channels.email_mime import plain_email_mime

PRINTABLE = string.printable + "é€😀\u2028\x00\x0b"
bodies = st.one_of(
    st.text(alphabet=PRINTABLE, max_size=400),
    st.builds(lambda line, count: (line + "\n") * count, st.text(alphabet=PRINTABLE, max_size=120), st.integers(1, 30)),
    st.text(alphabet="é€ab= \t\n.", min_size=900, max_size=3000),
    st.builds(lambda n, tail: "x" * n + tail, st.integers(0, 2000), st.sampled_from(["", "\n", " \n", "é", "\r"])),
)
words = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation, min_size=1, max_size=12)
subjects = st.one_of(
    st.lists(words, min_size=1, max_size=12).map(" ".join),
    st.text(alphabet=string.printable + "é", max_size=150),
    st.just("=?utf-8?q?x?="),
)
addresses = st.sampled_from(["a@b.com", "first.last+tag@mail.example.co.uk", "x_y-z@h-1.io", "o'neil@example.com"])
senders = st.sampled_from(
    [None, "news@shop.example.com", "News <news@shop.example.com>", "a.b@c.d", "weird..dots@example.com"]
)
urls = st.builds(
    lambda path: f"https://shop.example.com/u?e={path}", st.text(alphabet=string.ascii_letters + "%-_.~", max_size=1100)
)


def package_mime(message: EmailMessage, settings: EmailSettings, created: float) -> bytes:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(email_channel, "plain_email_mime", lambda *args: None)
        return email_mime(message, settings, ("spring", "ep-1"), created)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    to=addresses,
    subject=subjects,
    html=bodies,
    text=st.one_of(st.none(), bodies),
    url=urls,
    sender=senders,
    created=st.integers(0, 4_102_444_800),
    headers=st.sampled_from([(), (("X-Campaign", "spring"),), (("X-Long", "v " * 60),)]),
)
def test_the_plain_eml_is_what_the_package_writes(  # noqa: PLR0917
    to: str,
    subject: str,
    html: str,
    text: str | None,
    url: str,
    sender: str | None,
    created: int,
    headers: tuple[tuple[str, str], ...],
) -> None:
    message = EmailMessage(to=to, subject=subject, html=html, text=text, unsubscribe_url=url, headers=headers)
    mail = EmailSettings(from_address=sender or "pinrec-outbox@example.invalid")
    assert email_mime(message, mail, ("spring", "ep-1"), created) == package_mime(message, mail, created)


def test_plain_messages_take_the_direct_way() -> None:
    headers = [("From", "a@b.com"), ("To", "c@d.com"), ("Subject", "Hi there")]
    assert plain_email_mime(headers, "<p>x</p>", "x", "b", email_channel.EML_POLICY) is not None
    for odd in ([("From", "A <a@b.com>")], [("From", "a@b.com"), ("To", "c@d.com"), ("Subject", "Zoë")]):
        assert plain_email_mime(odd, "<p>x</p>", "x", "b", email_channel.EML_POLICY) is None


@given(st.text(alphabet=st.characters(max_codepoint=255), max_size=300) | st.text(alphabet="ab=<> \t\n", max_size=300))
def test_quoting_is_the_packages_table_whether_or_not_anything_but_equals_signs_needs_it(body: str) -> None:
    from email import quoprimime

    from campaign_tools.channels.email_mime import _Latin1

    assert _Latin1(body).translate(None) == body.translate(quoprimime._QUOPRI_BODY_ENCODE_MAP)  # type: ignore[attr-defined]


TEXTS = st.text() | st.text(alphabet=string.printable + "'\"\\\x00\x7f") | st.text(alphabet="'\"\\ab\t\n\r")


@given(TEXTS)
def test_the_fast_repr_of_text_is_reprs(text: str) -> None:
    assert email_channel.str_repr(text) == repr(text)


@given(subject=TEXTS, html=TEXTS, text=st.none() | TEXTS, sender=senders)
def test_the_message_id_digest_covers_the_same_text_as_before(
    subject: str, html: str, text: str | None, sender: str | None
) -> None:
    """The Message-ID and boundary are a hash of repr((identity, message, settings)): computed faster, the same."""
    message = EmailMessage(
        to="a@b.com", subject=subject, html=html, text=text, unsubscribe_url="https://x.example/u", headers=()
    )
    settings_ = EmailSettings(from_address=sender)
    values = (("spring", "ep-1"), message, settings_)
    assert email_channel.message_repr(message) == repr(message)
    assert email_channel._tuple_repr(values) == repr(values)
