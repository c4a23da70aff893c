"""When most rows of a run end for one reason, `pinrec send`'s summary says so right after its first line; endpoints
left out with too few items are explained by the attribute responsible and the ids the catalog lacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from campaign_tools.cli import main
from tests.campaign_tools.send.test_plugin import PLUGIN
from tests.conftest import write_catalog
from tests.fakes import ITEMS, write_recommendations, write_segment


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Only P1 has an image: an endpoint recommended P(n % 9 + 1), P9 and an unknown id resolves only with P1."""
    items = [{**item, **({"image": "p1.jpg"} if item["id"] == "P1" else {})} for item in ITEMS]
    write_catalog(tmp_path / "catalog.db", items)
    (tmp_path / "pinrec.toml").write_text(
        '[store]\nkind = "sqlite"\npath = "catalog.db"\n'
        '[attributes.Title]\nfield = "name"\n[attributes.Image]\nfield = "image"\n',
        encoding="utf-8",
    )
    write_segment(tmp_path / "segment.jsonl", 75)
    write_recommendations(tmp_path / "recs.jsonl", 75)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def send(*extra: str) -> list[str]:
    return [
        "send", "--composer", PLUGIN, "--segment", "segment.jsonl", "--recommendations", "file:recs.jsonl",
        "--config", "pinrec.toml", "--campaign-id", "spring", *extra,
    ]  # fmt: skip


def test_endpoints_mostly_left_out_name_the_attribute_responsible(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(send("--dry-run")) == 0
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert out[0].startswith("campaign spring: would send 9, skipped 66, failed 0 of 75 rows")
    assert out[1] == (
        "  ! most rows skipped for one reason: transformer_too_few_items 66 of 75 (88%): attribute Image has no "
        "value for 8 of 8 of their recommended items (field 'image' is absent (8)); 1 of 9 of their recommended "
        "ids are not in the catalog"
    )
    assert (
        "  warning: attribute Image has no value for 8 of 9 items (field 'image' is absent (8)) and no default: "
        "endpoints recommended those items are left out"
    ) in captured.err.splitlines(), "the preflight warned, but one item resolves: the send was not refused"


def test_the_json_summary_carries_the_dominant_reason(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(send("--dry-run", "--output", "json")) == 0
    reason = json.loads(capsys.readouterr().out)["dominant_reason"]
    assert (reason["outcome"], reason["reason"], reason["count"], reason["rows"]) == (
        "skipped",
        "transformer_too_few_items",
        66,
        75,
    )
    assert reason["cause"].startswith("attribute Image has no value for 8 of 8")


def test_a_segment_mostly_of_another_channel_says_so(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sms = {f"ep-{n}": {"ChannelType": "SMS", "Address": f"+1555{n:04d}"} for n in range(9, 75)}
    write_segment(workspace / "segment.jsonl", 75, **sms)
    assert main(send("--dry-run")) == 0
    assert capsys.readouterr().out.splitlines()[1] == (
        "  ! most rows skipped for one reason: other_channel 66 of 75 (88%): the segment's endpoints are mostly of "
        "another channel: check --channel"
    )


def test_no_dominant_reason_no_line(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workspace / "pinrec.toml").write_text(
        '[store]\nkind = "sqlite"\npath = "catalog.db"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
    )
    assert main(send("--dry-run", "--output", "json")) == 0
    run = json.loads(capsys.readouterr().out)
    assert (run["sent"], run["dominant_reason"]) == (75, None)
    assert main(send("--dry-run")) == 0
    assert not any(line.startswith("  !") for line in capsys.readouterr().out.splitlines())
