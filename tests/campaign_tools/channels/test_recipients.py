"""Issue 11, recipients: every channel checks the address before anything is delivered. An address its validator
refuses is skipped as `invalid_address` (recorded, never failed, never delivered), whatever composes the message.

Email: email-validator, syntax only. SMS: phonenumbers, sent in E.164. Push: a printable token without whitespace.
The invalid addresses are generated from their whole class: lists of addresses, display names, control characters
and NUL anywhere, no or several @, whitespace, letters and extensions in numbers.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterator
from email.headerregistry import Address
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.channels import email, push, sms
from campaign_tools.channels.base import INVALID_ADDRESS, ComposeError
from campaign_tools.cli import main
from tests.aws_fixtures import verify_ses_identity
from tests.campaign_tools.send.test_plugin import PLUGIN
from tests.fakes import ITEMS

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

local_parts = st.from_regex(r"[a-z0-9]([a-z0-9._+-]{0,10}[a-z0-9])?", fullmatch=True).filter(lambda p: ".." not in p)
domains = st.from_regex(r"[a-z0-9]{1,10}\.(com|org|net|example\.com)", fullmatch=True)
valid_emails = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)
controls = st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from(["\x7f", "\x85", "\u2028", " "])


def _insert(address: str, character: str, at: int) -> str:
    at %= len(address) + 1
    return address[:at] + character + address[at:]


invalid_emails = st.one_of(
    st.lists(valid_emails, min_size=2, max_size=3).flatmap(
        lambda many: st.sampled_from([", ", ",", "; ", " "]).map(lambda joiner: joiner.join(many))
    ),
    st.builds(lambda name, address: f"{name} <{address}>", st.sampled_from(["Ana", '"Ana B"', "x"]), valid_emails),
    st.builds(_insert, valid_emails, controls, st.integers(0, 60)),
    st.builds(lambda address, extra: address.replace("@", "@" + extra + "@", 1), valid_emails, domains),
    valid_emails.map(lambda address: address.replace("@", "")),
    st.sampled_from(["not-an-email", "a@b@c", "a@localhost", "@example.com", "a@", "a@example.invalid"]),
    st.builds(lambda local, domain: f"{local}ü@{domain}", local_parts, domains),
)
"""Addresses that are not one plain deliverable addr-spec SES takes (SES has no SMTPUTF8: ASCII local parts)."""

valid_numbers = st.integers(100, 199).map(lambda n: f"+1206555{n:04d}") | st.sampled_from(
    ["+447911123456", "+33612345678", "+4915112345678", "+1 (206) 555-0100", "+81 90-1234-5678"]
)
invalid_numbers = st.one_of(
    valid_numbers.map(lambda number: number.lstrip("+")),
    st.builds(
        _insert, valid_numbers, st.characters(max_codepoint=0x1F) | st.sampled_from("xa#,\x7f"), st.integers(0, 20)
    ),
    valid_numbers.map(lambda number: number + " ext 12"),
    st.from_regex(r"\+[0-9]{1,5}", fullmatch=True),
    st.from_regex(r"\+1555[0-9]{7}", fullmatch=True),
    st.just("tel:+12065550100"),
)


@settings(max_examples=400)
@given(text=st.text() | invalid_emails | valid_emails)
def test_an_email_address_is_one_plain_addr_spec_or_refused(text: str) -> None:
    try:
        address = email.CHANNEL.check_address(text)
    except ComposeError as error:
        assert error.reason == INVALID_ADDRESS and str(error) == INVALID_ADDRESS, "the message never quotes it"
        return
    assert getaddresses([address]) == [("", address)], "exactly one recipient"
    parsed = Address(addr_spec=address)
    assert parsed.addr_spec == address and address.isascii() and not CONTROL.search(address) and " " not in address


@settings(max_examples=200)
@given(text=invalid_emails)
def test_every_malformed_email_address_is_refused(text: str) -> None:
    with pytest.raises(ComposeError, match=INVALID_ADDRESS):
        email.CHANNEL.check_address(text)


@settings(max_examples=400)
@given(text=st.text() | valid_numbers | invalid_numbers)
def test_an_sms_address_is_a_valid_number_sent_in_e164_or_refused(text: str) -> None:
    try:
        number = sms.CHANNEL.check_address(text)
    except ComposeError as error:
        assert error.reason == INVALID_ADDRESS
        return
    assert E164.fullmatch(number) and number.lstrip("+") == re.sub(r"[^0-9]", "", text)


@settings(max_examples=200)
@given(text=invalid_numbers)
def test_every_malformed_number_is_refused(text: str) -> None:
    with pytest.raises(ComposeError, match=INVALID_ADDRESS):
        sms.CHANNEL.check_address(text)


@settings(max_examples=300)
@given(text=st.text())
def test_a_push_token_is_printable_without_whitespace_or_refused(text: str) -> None:
    try:
        token = push.CHANNEL.check_address(text)
    except ComposeError:
        assert not text or not text.isprintable() or any(character.isspace() for character in text)
        return
    assert token == text and not CONTROL.search(token)


@settings(max_examples=100)
@given(address=invalid_emails)
def test_a_composer_cannot_make_a_message_to_an_invalid_address(address: str) -> None:
    """The check is the message's own: a plugin composer meets it too."""
    with pytest.raises(ComposeError, match=INVALID_ADDRESS):
        email.EmailMessage(address, "S", "<p>H</p>", None, "https://u.example/1")


# Through `pinrec send --deliver` on moto's SES: nothing invalid is delivered, and it is skipped, not failed.

FROM = "news@shop.example.com"


@pytest.fixture
def ses_campaign(
    tmp_path: Path, make_catalog: Callable[..., Path], moto_aws: str
) -> Iterator[Callable[[list[str]], Path]]:
    catalog = make_catalog(ITEMS)
    verify_ses_identity(boto3.client("sesv2"), FROM)

    def make(addresses: list[str]) -> Path:
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        (folder / "pinrec.toml").write_text(
            f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
        )
        records = [
            {"Id": f"ep-{n}", "ChannelType": "EMAIL", "Address": address, "User": {"UserAttributes": {}}}
            for n, address in enumerate(addresses)
        ]
        (folder / "segment.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        recommendations = [{"id": f"ep-{n}", "items": ["P1", "P2"]} for n in range(len(addresses))]
        (folder / "recs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recommendations), encoding="utf-8")
        return folder

    yield make


def ses_destinations() -> list[list[str]]:
    from moto.ses.models import ses_backends

    return [message.destinations["ToAddresses"] for message in ses_backends["123456789012"]["us-east-1"].sent_messages]


def deliver(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(
        [
            "send",
            "--composer",
            PLUGIN,
            "--segment",
            str(folder / "segment.jsonl"),
            "--recommendations",
            f"file:{folder / 'recs.jsonl'}",
            "--config",
            str(folder / "pinrec.toml"),
            "--campaign-id",
            "spring",
            "--ledger",
            f"sqlite:{folder / 'ledger.db'}",
            "--deliver",
            "--from",
            FROM,
            "--rate",
            "1000",
            "--output",
            "json",
        ]
    )
    return code, json.loads(capsys.readouterr().out)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(invalid=st.lists(invalid_emails, min_size=1, max_size=6), valid=st.lists(valid_emails, max_size=4))
def test_ses_is_never_given_an_invalid_address_and_a_rerun_skips_it_again(
    invalid: list[str],
    valid: list[str],
    ses_campaign: Callable[[list[str]], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = len(ses_destinations())
    folder = ses_campaign([*invalid, *valid])
    code, summary = deliver(folder, capsys)
    assert code == 0 and summary["failed"] == {}
    assert summary["sent"] == len(valid) and summary["skipped"] == {INVALID_ADDRESS: len(invalid)}
    assert sorted(ses_destinations()[before:]) == sorted([address] for address in valid), "in any order: 4 workers"
    assert summary["recorded"]["skipped"] == {INVALID_ADDRESS: len(invalid)}
    code, rerun = deliver(folder, capsys)
    assert code == 0 and rerun["failed"] == {} and rerun["skipped"][INVALID_ADDRESS] == len(invalid)
    assert len(ses_destinations()) == before + len(valid), "a re-run delivers nothing more"


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(numbers=st.lists(st.tuples(st.booleans(), valid_numbers | invalid_numbers), min_size=1, max_size=8))
def test_sms_outbox_requests_carry_e164_numbers_and_invalid_ones_are_skipped(
    numbers: list[tuple[bool, str]],
    tmp_path: Path,
    make_catalog: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    catalog = make_catalog(ITEMS)
    (folder / "pinrec.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
    )
    addresses = [number for _, number in numbers]
    records = [{"Id": f"s{n}", "ChannelType": "SMS", "Address": address} for n, address in enumerate(addresses)]
    (folder / "segment.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    recommendations = [{"id": f"s{n}", "items": ["P1"]} for n in range(len(addresses))]
    (folder / "recs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recommendations), encoding="utf-8")
    arguments = ["send", "--composer", PLUGIN, "--channel", "sms", "--segment", str(folder / "segment.jsonl")]
    arguments += ["--recommendations", f"file:{folder / 'recs.jsonl'}", "--config", str(folder / "pinrec.toml")]
    arguments += ["--campaign-id", "c", "--outbox", str(folder / "out"), "--ledger", f"sqlite:{folder / 'l.db'}"]
    assert main([*arguments, "--output", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    expected: dict[str, str] = {}
    for n, address in enumerate(addresses):
        try:
            expected[f"s{n}"] = sms.check_address(address)
        except ComposeError:
            continue
    written = (
        {
            path.stem: json.loads(path.read_text())["SendTextMessage"]["DestinationPhoneNumber"]
            for path in (folder / "out" / "c").glob("*.json")
        }
        if (folder / "out" / "c").exists()
        else {}
    )
    assert written == expected and all(E164.fullmatch(number) for number in written.values())
    assert summary["sent"] == len(expected)
    assert summary["skipped"].get(INVALID_ADDRESS, 0) == len(addresses) - len(expected)
