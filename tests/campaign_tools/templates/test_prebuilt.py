"""Pre-built templates: `template.json` written by `pinrec templates build`, read back by the renderer-only loader
(`pinrec send --built DIR` is in tests/campaign_tools/send/test_prebuilt.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from campaign_tools.channels import email
from campaign_tools.cli import main
from campaign_tools.templates.build import build_template
from campaign_tools.templates.errors import TemplateError
from campaign_tools.templates.manifest import load_template
from campaign_tools.templates.prebuilt import SEND_FILE, load_prebuilt, markup_parts

TEMPLATE = "recommended-for-you"


@pytest.fixture
def built_dir(tmp_path: Path) -> Path:
    assert main(["templates", "build", TEMPLATE, "--out", str(tmp_path / "built")]) == 0
    return tmp_path / "built"


def test_the_loaded_template_is_the_built_one(built_dir: Path) -> None:
    built = build_template(load_template(TEMPLATE))
    loaded = load_prebuilt(built_dir)
    sendable = built.sendable()
    assert replace(loaded, escaped_parts=None) == sendable
    assert loaded.escaped_parts == markup_parts(sendable.parts), "what escaped_parts=None stands for, written out"
    assert loaded.parts[email.HTML] == json.loads((built_dir / "EmailTemplateRequest.json").read_text())["HtmlPart"]
    assert loaded.unsubscribe_url and loaded.default_substitutions == built.default_substitutions


def test_it_renders_each_part_as_the_built_template_does(built_dir: Path) -> None:
    from campaign_tools.templates.build import make_renderer

    built = build_template(load_template(TEMPLATE))
    loaded = load_prebuilt(built_dir)
    renderer = make_renderer()
    endpoint = {"Id": "e1", "User": {"UserAttributes": {"FirstName": ["<Ana & Bo>"]}}}
    endpoint["Recommendations"] = {"Title": ["Tent <XL>"], "Url": ["https://shop.example.com/p?a=1&b=2"]}
    for part in built.parts:
        assert loaded.render(renderer, part, endpoint).text == built.render(renderer, part, endpoint).text, part
    html = loaded.render(renderer, email.HTML, endpoint).text
    assert "&lt;Ana &amp; Bo&gt;" in html, "item and user data are HTML-escaped in the HTML part"
    assert "<Ana & Bo>" in loaded.render(renderer, email.SUBJECT, endpoint).text, "plain text is not escaped"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda folder: (folder / SEND_FILE).unlink(), "is not a built template (template.json missing)"),
        (lambda folder: (folder / SEND_FILE).write_text("{"), "template.json: not a valid built template"),
        (lambda folder: (folder / "sms.txt").unlink(), "not a valid built template"),
        (lambda folder: _edit(folder, format=99), "format 99 is not 1; rebuild it"),
        (lambda folder: _edit(folder, parts={"sms-body": "../x"}), "part sms-body must be in sms.txt"),
        (lambda folder: _edit(folder, name=None, links=None), "not a valid built template"),
    ],
)
def test_broken_builds_are_one_clear_error(built_dir: Path, change: Callable[[Path], object], message: str) -> None:
    change(built_dir)
    with pytest.raises(TemplateError, match=message.replace("(", r"\(").replace(")", r"\)")) as raised:
        load_prebuilt(built_dir)
    assert "\n" not in str(raised.value)


def _edit(folder: Path, **changes: object) -> None:
    data = json.loads((folder / SEND_FILE).read_text())
    data.update(changes)
    (folder / SEND_FILE).write_text(json.dumps(data))
