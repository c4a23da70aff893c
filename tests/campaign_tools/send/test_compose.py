"""The template composer: pinrec's templates rendered with Pinpoint semantics into channel messages.

The renderer and templates arrive with issue 5; until they are in the build, the tests that need them are skipped
and the command fails with a clear error instead.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.channels.email import EmailMessage
from campaign_tools.channels.push import PushMessage
from campaign_tools.channels.sms import SmsMessage, SmsTemplateSettings
from campaign_tools.cli import main
from campaign_tools.send.compose import ComposerOptions, TemplateComposer, make_composer
from tests.conftest import DEMO_DATA, config_for
from transformer.config import load_config
from transformer.errors import PinrecError
from transformer.service import Transformer

HAVE_RENDERING = all(
    importlib.util.find_spec(name) is not None for name in ("campaign_tools.rendering", "campaign_tools.templates")
)
needs_rendering = pytest.mark.skipif(not HAVE_RENDERING, reason="needs campaign_tools.rendering (issue 5)")


def test_without_the_renderer_the_composer_step_fails_clearly(
    monkeypatch: pytest.MonkeyPatch, make_catalog: Callable[..., Path]
) -> None:
    monkeypatch.setitem(sys.modules, "campaign_tools.rendering", None)
    config = config_for(make_catalog([{"id": "P1", "name": "x"}]), {"Title": {"field": "name"}})
    options = ComposerOptions("recommended-for-you", None, "email", config)
    with pytest.raises(PinrecError, match="templates are not available in this build"):
        make_composer(None, options)


def test_the_command_reports_missing_templates_as_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    make_catalog: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "campaign_tools.rendering", None)
    catalog = make_catalog([{"id": "P1", "name": "x"}])
    (tmp_path / "pinrec.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n'
    )
    (tmp_path / "segment.jsonl").write_text("")
    code = main(
        [
            "send",
            "--template",
            "recommended-for-you",
            "--segment",
            str(tmp_path / "segment.jsonl"),
            "--recommendations",
            "segment",
            "--campaign-id",
            "c",
            "--config",
            str(tmp_path / "pinrec.toml"),
        ]
    )
    assert code == 1
    assert "templates are not available in this build" in capsys.readouterr().err


@pytest.fixture
def demo_endpoints(tmp_path: Path) -> dict[str, Any]:
    """The demo event enriched by the real transformer over the demo catalog."""
    from campaign_tools.catalog.records import read_jsonl
    from transformer.stores.sqlite import write_snapshot

    config_text = (DEMO_DATA / "pinrec.toml").read_text(encoding="utf-8")
    (tmp_path / "pinrec.toml").write_text(config_text, encoding="utf-8")
    lines = (DEMO_DATA / "catalog.jsonl").read_text(encoding="utf-8").splitlines()
    write_snapshot(read_jsonl(lines, "id"), tmp_path / "catalog.db", key="id", source="test")
    config = load_config(tmp_path / "pinrec.toml")
    event = json.loads((DEMO_DATA / "event.json").read_text(encoding="utf-8"))
    response = Transformer(config).enrich_event(event).response
    return {"config": config, "endpoints": {key: {"Id": key, **value} for key, value in response.items()}}


def composer_for(demo: dict[str, Any], channel: str) -> TemplateComposer:
    return TemplateComposer(ComposerOptions("recommended-for-you", None, channel, demo["config"]))


@needs_rendering
def test_email_message_from_the_built_in_template(demo_endpoints: dict[str, Any]) -> None:
    endpoint = demo_endpoints["endpoints"]["ep-email-ana"]
    message = composer_for(demo_endpoints, "email").compose("ep-email-ana", endpoint)
    assert isinstance(message, EmailMessage)
    title = endpoint["Recommendations"]["Title"][0]
    assert message.to == "ana@example.com"
    assert "Ana" in message.subject and title in message.subject
    assert "<html" in message.html.lower() and message.text and title in message.text
    assert "ep-email-ana" in message.unsubscribe_url and "{{" not in message.unsubscribe_url


@needs_rendering
def test_sms_and_push_messages_from_the_built_in_template(demo_endpoints: dict[str, Any]) -> None:
    endpoints = demo_endpoints["endpoints"]
    sms_id = next(key for key, value in endpoints.items() if value["ChannelType"] == "SMS")
    push_id = next(key for key, value in endpoints.items() if value["ChannelType"] == "GCM")
    sms = composer_for(demo_endpoints, "sms")
    message = sms.compose(sms_id, endpoints[sms_id])
    assert isinstance(message, SmsMessage) and message.body.endswith("Reply STOP to opt out")
    assert isinstance(sms.channel_settings, SmsTemplateSettings) and sms.channel_settings.max_segments >= 1
    push = composer_for(demo_endpoints, "push").compose(push_id, endpoints[push_id])
    assert isinstance(push, PushMessage) and push.channel_type == "GCM" and push.url and push.url.startswith("https://")
