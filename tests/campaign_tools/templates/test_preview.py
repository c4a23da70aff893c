"""Preview: the real transformer on an event, every endpoint rendered, files and a gallery written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from campaign_tools.channels import email as email_channel
from campaign_tools.cli import main
from campaign_tools.demo import copy_demo_files
from campaign_tools.templates.errors import TemplateError
from campaign_tools.templates.manifest import load_template
from campaign_tools.templates.preview import NO_CONFIG_REASON, preview_from_files
from tests.conftest import write_catalog


@pytest.fixture
def demo_dir(tmp_path: Path, sample_items: list[dict]) -> Path:
    workdir = tmp_path / "demo"
    copy_demo_files(workdir)
    write_catalog(workdir / "catalog.db", sample_items)
    return workdir


def test_preview_renders_every_enriched_endpoint_and_lists_the_left_out(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "preview"
    report = preview_from_files(
        load_template("recommended-for-you"), demo_dir / "event.json", demo_dir / "pinrec.toml", out
    )
    assert [endpoint.endpoint_id for endpoint in report.endpoints] == [
        "ep-email-ana",
        "ep-email-ben",
        "ep-sms-chloe",
        "ep-push-dev",
    ]
    assert report.left_out == {"ep-email-eli": "too_few_items", "ep-email-fay": "no_items"}
    assert report.failed == []
    ana, ben, chloe, dev = report.endpoints
    assert (ana.channel, chloe.channel, dev.channel) == ("EMAIL", "SMS", "PUSH")
    for endpoint in report.endpoints:
        names = {path.name for path in endpoint.folder.iterdir()}
        assert names == {"email-subject.txt", "email.html", "email.txt", "sms.txt", "push.json"}
    assert (ana.folder / "email-subject.txt").read_text(encoding="utf-8") == (
        "Ana, picked for you: Trail Runner 2 Shoes"
    )
    ben_html = (ben.folder / "email.html").read_text(encoding="utf-8")
    assert "Map Case &lt;b&gt;waterproof&lt;/b&gt; &amp; &quot;clear&quot;" in ben_html
    assert "<b>waterproof</b>" not in ben_html
    assert ben.summary("email size") == f"{len(ben_html.encode('utf-8')) / 1024:.1f} KB"
    # The SMS is plain text: the catalog's characters as they are, and û makes it UCS-2.
    assert chloe.summary("SMS segments") == "UCS-2, 3"
    assert "Crème Brûlée Energy Bar (12) ($18.00)" in (chloe.folder / "sms.txt").read_text(encoding="utf-8")
    push = json.loads((dev.folder / "push.json").read_text(encoding="utf-8"))
    assert set(push) == {"title", "body", "url"} and push["url"].startswith("https://shop.example.com/p/P1015?")
    # Ana has three items: the grid's fourth card is not shown, and the preview says which branch did that.
    details = "\n".join(ana.branch_details(report.parts))
    assert "if Recommendations.ItemId.[2]" in details and "if Recommendations.ItemId.[3]" in details
    assert details.count("Recommendations.ItemId.[3]") >= 1 and "ItemId.[3] (L" in details
    assert ana.branches[email_channel.HTML][-1].branch == "else"


def test_gallery_escapes_event_data_and_sandboxes_the_emails(demo_dir: Path, tmp_path: Path) -> None:
    event = json.loads((demo_dir / "event.json").read_text(encoding="utf-8"))
    event["Endpoints"]['<img src=x onerror="alert(1)">/../x'] = event["Endpoints"]["ep-email-ana"]
    (demo_dir / "evil.json").write_text(json.dumps(event), encoding="utf-8")
    out = tmp_path / "preview"
    report = preview_from_files(
        load_template("recommended-for-you"), demo_dir / "evil.json", demo_dir / "pinrec.toml", out
    )
    index = report.index.read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in index
    assert '<img src=x onerror="alert(1)">' not in index
    assert index.count('<iframe sandbox=""') == len(report.endpoints)
    evil = report.endpoints[-1]
    assert evil.folder.parent == out and evil.folder.name.startswith("_img_src_x")


def test_preview_without_a_config_uses_the_recommendations_in_the_event(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PINREC_CONFIG", raising=False)
    source = load_template("offer")
    event = json.loads(source.sample_event_path.read_text(encoding="utf-8"))
    event["Endpoints"]["ep-bare"] = {"ChannelType": "EMAIL", "Address": "x@example.com"}
    (tmp_path / "event.json").write_text(json.dumps(event), encoding="utf-8")
    report = preview_from_files(source, tmp_path / "event.json", None, tmp_path / "out")
    assert report.enriched_by == "the Recommendations already in the event"
    assert [endpoint.endpoint_id for endpoint in report.endpoints] == ["ep-email-ana", "ep-sms-chloe", "ep-push-dev"]
    assert report.left_out == {"ep-bare": NO_CONFIG_REASON}
    html = (report.endpoints[0].folder / "email.html").read_text(encoding="utf-8")
    assert "RAIN20" in html and "20% off rain jackets" in html and "Valid until 30 November 2026" in html
    text = (report.endpoints[0].folder / "email.txt").read_text(encoding="utf-8")
    assert "code=RAIN20&utm_source=pinpoint" in text


def test_preview_command_prints_the_table_and_the_gallery(demo_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "gallery"
    code = main(
        [
            "templates",
            "preview",
            "recommended-for-you",
            "--event",
            str(demo_dir / "event.json"),
            "--config",
            str(demo_dir / "pinrec.toml"),
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "endpoint      channel  email size  SMS segments  branches" in printed
    assert re.search(r"ep-sms-chloe  SMS      [0-9.]+ KB     UCS-2, 3", printed)
    assert "  ep-email-eli: too_few_items" in printed and "  ep-email-fay: no_items" in printed
    assert f"Gallery: {(out / 'index.html').resolve().as_uri()}" in printed
    assert "ana@example.com" not in printed  # no addresses on the terminal


def test_a_template_attribute_the_config_lacks_is_a_clear_error(demo_dir: Path, tmp_path: Path) -> None:
    source = load_template("offer")
    with pytest.raises(TemplateError, match="does not declare: OfferTitle, OfferDescription, OfferCode, OfferExpiry"):
        preview_from_files(source, demo_dir / "event.json", demo_dir / "pinrec.toml", tmp_path / "out")
