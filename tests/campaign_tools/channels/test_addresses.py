"""Each channel's address spelling (channels/addresses/): any string in, never an error, the same spelling however
the address was written, and a checked address unchanged but for case."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaign_tools.channels import registry
from campaign_tools.channels.addresses import registry as address_registry


@given(text=st.text())
@pytest.mark.parametrize("channel", address_registry.names())
def test_any_text_normalises_without_error_and_stays_put(channel: str, text: str) -> None:
    once = address_registry.normalise(channel, text)
    assert address_registry.normalise(channel, once) == once


def test_the_spellings() -> None:
    assert address_registry.normalise("email", " Ana@Bücher.Example ") == "ana@xn--bcher-kva.example"
    assert address_registry.normalise("email", "ana@xn--bcher-kva.example") == "ana@xn--bcher-kva.example"
    assert address_registry.normalise("email", "ana@" + "ü" * 70 + ".example") == "ana@" + "ü" * 70 + ".example"
    assert address_registry.normalise("sms", " +1 (206) 555-0100 ") == "+12065550100"
    assert address_registry.normalise("push", " Token-AbC ") == "Token-AbC"


@pytest.mark.parametrize(("channel", "written"), [("email", "Ana@Bücher.Example"), ("sms", "+1 (206) 555-0100")])
def test_a_checked_address_and_its_written_form_spell_the_same(channel: str, written: str) -> None:
    sending = registry.channel(channel)
    checked = sending.check_address(written)
    assert sending.normalise_address(checked) == sending.normalise_address(written) == checked.lower()
