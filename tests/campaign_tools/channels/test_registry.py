"""The channel registry: the channels pinrec sends on, which endpoints each serves, and that a new channel needs
nothing but its module and a registry entry (a toy fax channel, registered for the test only)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from campaign_tools.channels import email, push, registry, sms
from campaign_tools.channels.addresses import registry as address_registry
from campaign_tools.channels.addresses.base import ChannelAddresses
from campaign_tools.channels.base import (
    Channel,
    ClientFactory,
    ComposeError,
    ComposeInput,
    Deliverer,
    DeliveryError,
    Message,
    OutboxFile,
    Part,
    PinpointTemplateType,
    PreviewOutput,
    Sender,
    SendOption,
    Settings,
)
from campaign_tools.cli import build_parser, main
from campaign_tools.send.compose import ComposerOptions
from campaign_tools.send.segments import SkipReason, skip_reason
from tests.fakes import ITEMS, write_recommendations
from transformer.errors import PinrecError

PUSH_TYPES = ("GCM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "BAIDU", "ADM")
UNSERVED_TYPES = ("PUSH", "VOICE", "CUSTOM", "IN_APP")


def test_the_channels_pinrec_sends_on() -> None:
    assert registry.names() == ("email", "sms", "push")
    assert [registry.channel(name) for name in registry.names()] == [email.CHANNEL, sms.CHANNEL, push.CHANNEL]
    with pytest.raises(PinrecError, match="unknown channel 'fax': pinrec sends on email, sms, push"):
        registry.channel("fax")


def pinpoint_channel_types() -> list[str]:
    return list(botocore.session.get_session().get_service_model("pinpoint").shape_for("ChannelType").enum)


def test_every_pinpoint_channel_type_is_served_by_its_channel_or_none() -> None:
    expected = {"EMAIL": email.CHANNEL, "SMS": sms.CHANNEL, **dict.fromkeys(PUSH_TYPES, push.CHANNEL)}
    expected.update(dict.fromkeys(UNSERVED_TYPES))
    assert sorted(pinpoint_channel_types()) == sorted(expected), "botocore's ChannelType values"
    assert {kind: registry.for_endpoint_type(kind) for kind in pinpoint_channel_types()} == expected
    assert registry.for_endpoint_type(None) is None and registry.for_endpoint_type("FAX") is None


@pytest.mark.parametrize("kind", PUSH_TYPES)
def test_push_serves_every_pinpoint_push_type(kind: str) -> None:
    assert registry.for_endpoint_type(kind) is push.CHANNEL
    assert skip_reason({"ChannelType": kind, "Address": "token"}, push.CHANNEL) is None


def test_parts_are_found_by_key() -> None:
    assert registry.part("sms-body") is sms.BODY and registry.part("email-html") is email.HTML
    assert registry.all_parts() == (*email.CHANNEL.parts, *sms.CHANNEL.parts, *push.CHANNEL.parts)
    with pytest.raises(PinrecError, match="unknown template part 'fax-page'"):
        registry.part("fax-page")


PAGE = Part("fax-page", "fax", ("fax.jinja",), "fax.txt", single_line=False)


def normalise_fax_number(address: str) -> str:
    """What `channels/addresses/fax.py` would hold: a fax number by its digits alone."""
    return "".join(character for character in address if character.isdigit())


FAX_ADDRESSES = ChannelAddresses("fax", normalise_fax_number)


@dataclass(frozen=True, slots=True)
class FaxMessage:
    number: str
    page: str


class FaxSettings(Settings):
    header: str = "pinrec fax"


class FaxSender(Sender):
    def __init__(self, settings: FaxSettings) -> None:
        self.settings = settings

    def outbox_file(self, message: Message, campaign_id: str, endpoint_id: str, created: float) -> OutboxFile:
        if not isinstance(message, FaxMessage):
            raise DeliveryError("wrong_message_type", detail=type(message).__name__)
        return OutboxFile("fax", f"{self.settings.header}\nTo: {message.number}\n\n{message.page}\n".encode())

    def provider(self, clients: ClientFactory) -> Deliverer:
        raise PinrecError("fax has no provider: use the outbox")


class FaxChannel(Channel):
    name = "fax"
    addresses = FAX_ADDRESSES
    endpoint_types = frozenset({"FAX"})
    parts = (PAGE,)
    pinpoint = PinpointTemplateType("FAX", "FaxTemplateRequest", "FaxTemplateResponse", "fax_template")
    sender_settings = FaxSettings
    send_options = (SendOption("--fax-header", "header", "fax: the header line of every page"),)

    def template_request(self, parts: Mapping[Part, str], settings: Settings | None) -> dict[str, Any]:
        return {"Page": parts[PAGE]}

    def compose(self, given: ComposeInput) -> FaxMessage:
        number = given.endpoint.get("Address")
        if not isinstance(number, str) or not number:
            raise ComposeError("no_address")
        return FaxMessage(number, given.render(PAGE))

    def sender(self, settings: Settings, composer: object, template: Settings | None) -> FaxSender:
        assert isinstance(settings, FaxSettings)
        return FaxSender(settings)

    def default_rate(self, clients: ClientFactory) -> tuple[float, str]:
        return 0.1, "0.1/s (fax default)"

    def preview(self, rendered: Mapping[Part, str], folder: str, endpoint_id: str) -> PreviewOutput:
        return PreviewOutput({PAGE.built_file: rendered.get(PAGE, "")}, ())


FAX = FaxChannel()


class FaxComposer:
    """The user's own composer for the fax channel: one page listing the recommended titles."""

    def __init__(self, options: ComposerOptions) -> None:
        assert options.channel == FAX.name

    def compose(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> FaxMessage:
        titles = endpoint["Recommendations"]["Title"]
        return FaxMessage(endpoint["Address"], "Picked for you:\n" + "\n".join(titles))


def make_fax_composer(options: ComposerOptions) -> FaxComposer:
    return FaxComposer(options)


FAX_COMPOSER = f"{__name__}:make_fax_composer"


@pytest.fixture
def with_fax(monkeypatch: pytest.MonkeyPatch) -> Iterator[Channel]:
    monkeypatch.setattr(registry, "CHANNELS", (*registry.CHANNELS, FAX))
    monkeypatch.setattr(address_registry, "CHANNELS", (*address_registry.CHANNELS, FAX_ADDRESSES))
    yield FAX


def test_each_channel_names_its_registered_address_module() -> None:
    assert [channel.addresses for channel in registry.CHANNELS] == list(address_registry.CHANNELS)
    assert all(channel.addresses.channel == channel.name for channel in registry.CHANNELS)
    assert address_registry.names() == registry.names()
    with pytest.raises(PinrecError, match="unknown channel 'fax': pinrec sends on email, sms, push"):
        address_registry.normalise("fax", "+1 555 0100")


def test_a_registered_channel_selects_its_endpoints(with_fax: Channel) -> None:
    assert registry.names() == ("email", "sms", "push", "fax")
    assert registry.channel("fax") is with_fax and registry.for_endpoint_type("FAX") is with_fax
    assert skip_reason({"ChannelType": "FAX", "Address": "+15550100"}, with_fax) is None
    assert skip_reason({"ChannelType": "EMAIL", "Address": "a@example.com"}, with_fax) is SkipReason.OTHER_CHANNEL
    assert skip_reason({"ChannelType": "FAX", "Address": " "}, with_fax) is SkipReason.NO_ADDRESS
    assert skip_reason({"ChannelType": "FAX", "Address": "+15550100"}, email.CHANNEL) is SkipReason.OTHER_CHANNEL


def test_pinrec_send_offers_a_registered_channel_and_its_sender_flags(with_fax: Channel) -> None:
    arguments = build_parser().parse_args(
        ["send", "--channel", "fax", "--fax-header", "ACME", "--segment", "s", "--campaign-id", "c"]
    )
    assert (arguments.channel, arguments.sender_header) == ("fax", "ACME")


def test_pinrec_send_refuses_an_unregistered_channel(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["send", "--channel", "fax"])
    assert "invalid choice: 'fax'" in capsys.readouterr().err


@pytest.fixture
def fax_campaign(tmp_path: Path, make_catalog: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = make_catalog(ITEMS)
    (tmp_path / "pinrec.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
    )
    records = [
        {"Id": "ep-0", "ChannelType": "FAX", "Address": "+15550100"},
        {"Id": "ep-1", "ChannelType": "EMAIL", "Address": "user1@example.com"},
        {"Id": "ep-2", "ChannelType": "FAX", "Address": "+15550102"},
        {"Id": "ep-3", "ChannelType": "FAX", "Address": "+15550103", "OptOut": "ALL"},
    ]
    (tmp_path / "segment.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    write_recommendations(tmp_path / "recs.jsonl", len(records))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_registered_channel_sends_to_the_outbox_with_a_plugin_composer(
    with_fax: Channel, fax_campaign: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = [
        "send", "--channel", "fax", "--composer", FAX_COMPOSER, "--fax-header", "ACME", "--segment", "segment.jsonl",
        "--recommendations", "file:recs.jsonl", "--config", "pinrec.toml", "--campaign-id", "autumn",
    ]  # fmt: skip
    assert main(arguments) == 0
    assert "campaign autumn: sent 2, skipped 2, failed 0 of 4 rows" in capsys.readouterr().out
    written = {path.name: path.read_text() for path in (fax_campaign / "pinrec-outbox" / "autumn").iterdir()}
    assert written == {
        "ep-0.fax": "ACME\nTo: +15550100\n\nPicked for you:\nProduct 1\nProduct 9\n",
        "ep-2.fax": "ACME\nTo: +15550102\n\nPicked for you:\nProduct 3\nProduct 9\n",
    }
    assert main(["send", "status", "autumn"]) == 0
    assert "skipped   1  (opted_out 1)" in capsys.readouterr().out, "the other channel's endpoint is only counted"
