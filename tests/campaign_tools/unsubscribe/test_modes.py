"""Choosing the unsubscribe mode: template.toml's [links] and the send's options are checked with every problem at
once; a send overrides the template's mode only when the template's link follows the mode; a built template keeps
its mode and composes what its source composes."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from campaign_tools.send.compose import ComposerOptions, TemplateComposer
from campaign_tools.send.settings import SendSettings, SettingsError
from campaign_tools.templates.build import build_template, write_build
from campaign_tools.templates.errors import TemplateError
from campaign_tools.templates.manifest import MANIFEST_FILE, builtin_templates_dir, load_template, parse_manifest
from campaign_tools.templates.paths import RESERVED_FIELDS
from campaign_tools.unsubscribe.keys import forget_keys
from campaign_tools.unsubscribe.links import LINK_VARIABLE, PREVIEW_UNSUBSCRIBE_URL, UnsubscribeRequest
from tests.unsubscribe_fixtures import KEY_ENV, SECRET, demo_deploy, template_with
from transformer.config import load_config
from transformer.errors import PinrecError

ENDPOINT = {"Id": "ep-ana", "ChannelType": "EMAIL", "Address": "ana@example.com"}
REQUEST = UnsubscribeRequest(campaign_id="spring", endpoint="https://u.example", key=f"env:{KEY_ENV}")


@pytest.fixture(autouse=True)
def signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    forget_keys()


def manifest_with(links: dict[str, object]) -> dict[str, object]:
    text = (builtin_templates_dir() / "offer" / MANIFEST_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data["links"] = {**data["links"], **links}
    return data


def test_template_links_are_checked_with_every_problem_at_once() -> None:
    with pytest.raises(TemplateError) as raised:
        parse_manifest(manifest_with({"topic": "no spaces", "contact_list": "no spaces", "unsubscribe": "x"}), "t")
    assert [line.split(":")[0] for line in str(raised.value).splitlines()[1:]] == [
        "  links.unsubscribe",
        "  links.contact_list",
        "  links.topic",
    ]
    with pytest.raises(TemplateError, match='unsubscribe = "ses" needs contact_list'):
        parse_manifest(manifest_with({"unsubscribe": "ses", "topic": "news"}), MANIFEST_FILE)
    with pytest.raises(TemplateError, match='contact_list goes with unsubscribe = "ses"'):
        parse_manifest(manifest_with({"unsubscribe": "pinrec", "contact_list": "newsletter"}), MANIFEST_FILE)
    with pytest.raises(TemplateError, match='topic goes with unsubscribe = "ses" or "pinrec"'):
        parse_manifest(manifest_with({"topic": "news"}), MANIFEST_FILE)
    with pytest.raises(TemplateError, match=r"links\.unsubscribe"):
        parse_manifest(manifest_with({"unsubscribe": "mailto"}), MANIFEST_FILE)
    assert parse_manifest(manifest_with({}), MANIFEST_FILE).links.sending() == {
        "unsubscribe_url": manifest_with({})["links"]["unsubscribe_url"]  # type: ignore[index]
    }, "a url template's template.json links are what they always were"


def send_settings(**values: object) -> SendSettings:
    return SendSettings.model_validate(
        {"campaign_id": "spring", "recommendations": "segment", "template": "t", **values}
    )


def test_send_options_are_checked_with_every_problem_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        send_settings(
            unsubscribe_endpoint="http://shop.example.com/x?y=1",
            unsubscribe_key="vault:x",
            contact_list="bad name",
        )
    message = str(raised.value)
    assert "--unsubscribe-endpoint 'http://shop.example.com/x?y=1'" in message
    assert "--unsubscribe-key must be" in message and "--contact-list 'bad name'" in message
    with pytest.raises(SettingsError) as raised:
        send_settings(unsubscribe_mode="ses", unsubscribe_endpoint="https://u.example", contact_list="newsletter")
    assert "go with --unsubscribe-mode pinrec, not ses" in str(raised.value)
    with pytest.raises(SettingsError, match="unsubscribing is chosen for email, not sms"):
        send_settings(channel="sms", unsubscribe_mode="pinrec")
    chosen = send_settings(unsubscribe_mode="pinrec", unsubscribe_endpoint="https://u.example/", topic="news")
    assert (
        chosen.unsubscribe_request().endpoint == "https://u.example/" and chosen.unsubscribe_request().topic == "news"
    )
    assert send_settings(unsubscribe_endpoint="http://127.0.0.1:8080").unsubscribe_endpoint, "loopback for tests"


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_deploy(tmp_path_factory.mktemp("deploy"))


def composer(
    template: str, config_path: Path, request: UnsubscribeRequest | None, **options: object
) -> TemplateComposer:
    config = load_config(config_path)
    return TemplateComposer(ComposerOptions(template, None, "email", config, unsubscribe=request, **options))  # type: ignore[arg-type]


def test_a_url_template_cannot_be_sent_in_another_mode(config_path: Path) -> None:
    with pytest.raises(PinrecError, match=r"writes links.unsubscribe_url into its unsubscribe link"):
        composer("recommended-for-you", config_path, dataclasses.replace(REQUEST, mode="pinrec"))
    assert composer(
        "recommended-for-you", config_path, dataclasses.replace(REQUEST, mode="url", endpoint=None, key=None)
    )


def test_each_mode_names_what_it_lacks(tmp_path: Path, config_path: Path) -> None:
    template = str(template_with(tmp_path, 'unsubscribe = "pinrec"'))
    with pytest.raises(PinrecError) as raised:
        composer(template, config_path, UnsubscribeRequest(campaign_id="spring"))
    assert "needs --unsubscribe-endpoint" in str(raised.value) and "needs --unsubscribe-key" in str(raised.value)
    with pytest.raises(PinrecError, match="needs --contact-list NAME"):
        composer(template, config_path, UnsubscribeRequest(campaign_id="spring", mode="ses"))
    with pytest.raises(PinrecError, match="PINREC_NO_KEY is not set"):
        composer(template, config_path, dataclasses.replace(REQUEST, key="env:PINREC_NO_KEY"))


def test_a_following_template_fills_its_link_in_every_mode(tmp_path: Path, config_path: Path) -> None:
    template = str(template_with(tmp_path, 'unsubscribe = "pinrec"\ntopic = "news"'))
    pinrec = composer(template, config_path, REQUEST).compose("ep-ana", ENDPOINT)
    assert pinrec.unsubscribe_url.startswith("https://u.example/u/")  # type: ignore[attr-defined]
    assert f'href="{pinrec.unsubscribe_url}"' in pinrec.html  # type: ignore[attr-defined]
    as_url = composer(template, config_path, UnsubscribeRequest(campaign_id="spring", mode="url"))
    message = as_url.compose("ep-ana", ENDPOINT)
    assert message.unsubscribe_url.startswith("https://shop.example.com/preferences?endpoint=ep-ana&")  # type: ignore[attr-defined]
    assert message.unsubscribe_url.replace("&", "&amp;").replace("=", "&#x3D;") in message.html  # type: ignore[attr-defined]
    ses = composer(
        template, config_path, UnsubscribeRequest(campaign_id="spring", mode="ses", contact_list="newsletter")
    )
    listed = ses.compose("ep-ana", ENDPOINT)
    assert listed.list_management.request() == {"ContactListName": "newsletter", "TopicName": "news"}  # type: ignore[attr-defined]
    assert ses.unsubscribe is not None and ses.unsubscribe.topic_of_send == "news"


def test_a_built_template_keeps_its_mode_and_composes_what_its_source_composes(
    tmp_path: Path, config_path: Path
) -> None:
    template = template_with(tmp_path, 'unsubscribe = "pinrec"\ntopic = "news"')
    built = build_template(load_template(str(template)), load_config(config_path))
    write_build(built, tmp_path / "built")
    from_source = composer(str(template), config_path, REQUEST).compose("ep-ana", ENDPOINT)
    from_built = composer(None, config_path, REQUEST, built=str(tmp_path / "built")).compose("ep-ana", ENDPOINT)  # type: ignore[arg-type]
    assert from_built == from_source
    assert "{{%s}}" % LINK_VARIABLE in built.parts[next(p for p in built.parts if p.key == "email-html")]  # noqa: UP031
    assert (
        PREVIEW_UNSUBSCRIBE_URL
        in built.render(built_renderer(), next(p for p in built.parts if p.key == "email-html"), {}).text
    )
    assert {LINK_VARIABLE} == RESERVED_FIELDS


def built_renderer() -> object:
    from campaign_tools.templates.build import make_renderer

    return make_renderer()


def test_on_aws_the_key_must_be_one_the_children_can_read() -> None:
    from campaign_tools.send.preflight import _on_aws

    problems: list[str] = []
    _on_aws(send_settings(recommendations="segment", unsubscribe_key=f"env:{KEY_ENV}"), problems)
    assert problems == [
        f"--unsubscribe-key env:{KEY_ENV}: the --on-aws children read the signing key themselves, so it must be in "
        "Secrets Manager or SSM (secretsmanager:SECRET_ID or ssm:NAME)"
    ]
    deployable: list[str] = []
    _on_aws(send_settings(unsubscribe_key="secretsmanager:pinrec/unsubscribe"), deployable)
    assert deployable == []
