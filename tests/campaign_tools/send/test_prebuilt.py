"""Pre-built templates: `template.json` written by `pinrec templates build`, read back by the renderer-only loader,
and `pinrec send --built DIR` writing exactly the messages `--template NAME` writes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from campaign_tools.cli import main
from campaign_tools.templates.build import build_template
from campaign_tools.templates.errors import TemplateError
from campaign_tools.templates.manifest import Part, load_template
from campaign_tools.templates.prebuilt import SEND_FILE, load_prebuilt
from tests.test_send_pipeline import ITEMS, write_recommendations, write_segment

TEMPLATE = "recommended-for-you"


@pytest.fixture
def built_dir(tmp_path: Path) -> Path:
    assert main(["templates", "build", TEMPLATE, "--out", str(tmp_path / "built")]) == 0
    return tmp_path / "built"


def test_the_loaded_template_is_the_built_one(built_dir: Path) -> None:
    built = build_template(load_template(TEMPLATE))
    loaded = load_prebuilt(built_dir)
    assert loaded == built.sendable()
    assert (
        loaded.parts[Part.EMAIL_HTML] == json.loads((built_dir / "EmailTemplateRequest.json").read_text())["HtmlPart"]
    )
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
    html = loaded.render(renderer, Part.EMAIL_HTML, endpoint).text
    assert "&lt;Ana &amp; Bo&gt;" in html, "item and user data are HTML-escaped in the HTML part"
    assert "<Ana & Bo>" in loaded.render(renderer, Part.EMAIL_SUBJECT, endpoint).text, "plain text is not escaped"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda folder: (folder / SEND_FILE).unlink(), "is not a built template (template.json missing)"),
        (lambda folder: (folder / SEND_FILE).write_text("{"), "template.json: not a valid built template"),
        (lambda folder: (folder / "sms.txt").unlink(), "not a valid built template"),
        (lambda folder: _edit(folder, format=99), "format 99 is not 1; rebuild it"),
        (lambda folder: _edit(folder, parts={"sms-body": "../x"}), "part sms-body must be in sms.txt"),
        (lambda folder: _edit(folder, name=None, push=None), "not a valid built template"),
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
    if changes.get("push", 0) is None:
        del data["push"]
    (folder / SEND_FILE).write_text(json.dumps(data))


@pytest.fixture
def workspace(tmp_path: Path, make_catalog: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = make_catalog(ITEMS)
    fields = {"Title": "name", "ItemId": "id", "ImageUrl": "id", "Price": "id", "Url": "id"}
    attributes = "".join(f'[attributes.{name}]\nfield = "{field}"\n' for name, field in fields.items())
    (tmp_path / "pinrec.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n{attributes}', encoding="utf-8"
    )
    (tmp_path / "title-only.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
    )
    write_segment(tmp_path / "segment.jsonl", 12)
    write_recommendations(tmp_path / "recs.jsonl", 12)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def send(*extra: str) -> list[str]:
    return [
        "send",
        "--segment",
        "segment.jsonl",
        "--recommendations",
        "file:recs.jsonl",
        "--config",
        "pinrec.toml",
        "--campaign-id",
        "autumn",
        *extra,
    ]


@pytest.mark.parametrize(
    ("channel", "pool"), [("email", ()), ("sms", ()), ("email", ("--compose-processes", "2"))], ids=str
)
def test_send_built_writes_the_same_messages_as_send_template(
    workspace: Path, built_dir: Path, capsys: pytest.CaptureFixture[str], channel: str, pool: tuple[str, ...]
) -> None:
    if channel == "sms":
        phones = {f"ep-{n}": {"ChannelType": "SMS", "Address": f"+1555010{n:04d}"} for n in range(12)}
        write_segment(workspace / "segment.jsonl", 12, **phones)
    common = ("--channel", channel, "--sms-max-parts", "4")
    assert main(send("--template", TEMPLATE, "--outbox", "a", "--ledger", "sqlite:a.db", *common)) == 0
    assert main(send("--built", str(built_dir), "--outbox", "b", "--ledger", "sqlite:b.db", *common, *pool)) == 0
    from_source = {path.name: path.read_bytes() for path in (workspace / "a" / "autumn").iterdir()}
    from_built = {path.name: path.read_bytes() for path in (workspace / "b" / "autumn").iterdir()}
    assert len(from_source) == 12 and from_built == from_source
    assert capsys.readouterr().out.count("sent ") == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--template", TEMPLATE, "--built", "x"], "not allowed with argument"),
        (["--built", "nowhere"], "nowhere is not a built template"),
        (["--built", "BUILT", "--templates-dir", "t"], "--templates-dir goes with --template"),
        ([], "needs --template or --built"),
        (["--built", "BUILT", "--config", "title-only.toml"], "uses attributes the recommender configuration does not"),
    ],
)
def test_send_built_option_errors(
    workspace: Path, built_dir: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    arguments = [str(built_dir) if value == "BUILT" else value for value in extra]
    with pytest.raises(SystemExit) if "not allowed" in message else contextlib.nullcontext():
        assert main(send(*arguments)) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert message in error


def test_send_on_aws_with_built_names_the_template_the_child_must_bundle(built_dir: Path) -> None:
    from campaign_tools.commands.send import _built_template_name

    assert _built_template_name(str(built_dir)) == TEMPLATE
    assert _built_template_name(None) is None
    with pytest.raises(TemplateError, match="is not a built template"):
        _built_template_name(str(built_dir / "missing"))
