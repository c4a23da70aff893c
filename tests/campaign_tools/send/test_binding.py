"""A campaign id is bound to what it sends, through `pinrec send`: the same campaign re-run (from another folder too)
resumes; the id re-used for another segment, template, configuration or recommendations is refused before anything
is sent, naming what differs; `--rebind` goes on with what the run sends. SQLite (a real file) and DynamoDB (moto)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import boto3
import pytest

from campaign_tools.cli import main
from campaign_tools.send.binding import Bound, BoundLedger, CampaignBinding, CampaignBindingError, bind, binding_of
from campaign_tools.send.ledgers.base import ClaimPolicy
from campaign_tools.send.ledgers.dynamodb import create_ledger_table
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from campaign_tools.send.parts import prepare
from campaign_tools.send.settings import SendSettings
from tests.campaign_tools.send.test_plugin import PLUGIN, PlainComposer
from tests.conftest import write_catalog
from tests.fakes import ITEMS, write_recommendations, write_segment

OTHER_COMPOSER = "tests.campaign_tools.send.test_binding:make_other_composer"
CONFIG = '[store]\nkind = "sqlite"\npath = "catalog.db"\n[attributes.Title]\nfield = "name"\n'


def make_other_composer(options: object) -> PlainComposer:
    return PlainComposer("email")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "campaign"
    folder.mkdir()
    write_catalog(folder / "catalog.db", ITEMS)
    (folder / "pinrec.toml").write_text(CONFIG, encoding="utf-8")
    write_segment(folder / "segment.jsonl", 20)
    write_recommendations(folder / "recs.jsonl", 40)
    monkeypatch.chdir(folder)
    return folder


def send(*extra: str, segment: str = "segment.jsonl", ledger: str = "sqlite:ledger.db") -> list[str]:
    return [
        "send", "--composer", PLUGIN, "--segment", segment, "--recommendations", "file:recs.jsonl",
        "--config", "pinrec.toml", "--campaign-id", "spring", "--outbox", "out", "--ledger", ledger, *extra,
    ]  # fmt: skip


def ledger_rows(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM messages").fetchone()[0])


def test_the_same_campaign_re_run_from_another_folder_resumes(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(send()) == 0
    assert "sent 20" in capsys.readouterr().out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(workspace / "pinrec.toml", elsewhere)
    shutil.copy(workspace / "catalog.db", elsewhere)
    monkeypatch.chdir(elsewhere)
    arguments = send(segment=str(workspace / "segment.jsonl"), ledger=f"sqlite:{workspace / 'ledger.db'}")
    arguments[arguments.index("file:recs.jsonl")] = f"file:{workspace / 'recs.jsonl'}"
    arguments[arguments.index("out")] = str(workspace / "out")
    assert main(arguments) == 0, "the same configuration in another folder is the same campaign"
    assert "sent 0, skipped 20" in capsys.readouterr().out


def test_the_id_re_used_for_another_segment_is_refused_before_anything_is_sent(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(send()) == 0
    capsys.readouterr()
    write_segment(workspace / "segment-b.jsonl", 30)
    assert main(send(segment="segment-b.jsonl")) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "pinrec: error: campaign spring was started with something else than this run sends:",
        f"  - segment: bound to jsonl {workspace / 'segment.jsonl'}; this run: jsonl {workspace / 'segment-b.jsonl'}",
        "Nothing was sent. A new campaign needs a new --campaign-id; to go on with this campaign as this run sends "
        "it (endpoints already sent are not sent again), re-run with --rebind.",
    ]
    assert len(list((workspace / "out" / "spring").iterdir())) == 20 and ledger_rows(workspace / "ledger.db") == 20

    assert main(send("--rebind", segment="segment-b.jsonl")) == 0
    assert "sent 10, skipped 20" in capsys.readouterr().out, "already sent endpoints are not sent again"
    assert main(send()) == 1, "the campaign is now bound to segment-b"
    assert "segment: bound to jsonl " + str(workspace / "segment-b.jsonl") in capsys.readouterr().err


def test_another_template_configuration_or_recommendations_is_refused_naming_each(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(send()) == 0
    capsys.readouterr()
    (workspace / "pinrec.toml").write_text(CONFIG + "max_length = 12\n", encoding="utf-8")
    arguments = send("--per-message", "2")
    arguments[arguments.index(PLUGIN)] = OTHER_COMPOSER
    assert main(arguments) == 1
    differences = capsys.readouterr().err.splitlines()[1:-1]
    assert [line.split(":")[0] for line in differences] == ["  - template", "  - config", "  - recommendations"]
    assert differences[0] == f"  - template: bound to composer {PLUGIN}; this run: composer {OTHER_COMPOSER}"
    assert differences[1].startswith("  - config: bound to attributes Title from sqlite (")
    assert differences[2] == (
        f"  - recommendations: bound to file:{workspace / 'recs.jsonl'} by endpoint id, 5 per message; "
        f"this run: file:{workspace / 'recs.jsonl'} by endpoint id, 2 per message"
    )
    assert ledger_rows(workspace / "ledger.db") == 20


def test_a_dynamodb_ledger_binds_too_and_status_counts_only_endpoints(
    workspace: Path, moto_aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    create_ledger_table(boto3.client("dynamodb"), "bound-ledger")
    assert main(send(ledger="dynamodb:bound-ledger")) == 0
    write_segment(workspace / "segment-b.jsonl", 20)
    assert main(send(segment="segment-b.jsonl", ledger="dynamodb:bound-ledger")) == 1
    assert "segment: bound to jsonl" in capsys.readouterr().err
    assert main(["send", "status", "spring", "--ledger", "dynamodb:bound-ledger", "--output", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["total"], status["sent"]) == (20, 20)


def binding(segment: str) -> CampaignBinding:
    return CampaignBinding({"segment": Bound(segment, segment)})


def test_a_run_that_lost_the_race_to_bind_is_refused_at_its_first_write(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.db")
    late = BoundLedger(ledger, "spring", binding("b.jsonl"))  # checked while the campaign was not bound yet
    bind(ledger, "spring", binding("a.jsonl"), rebind=False, now=1.0)  # a concurrent run binds it first
    with pytest.raises(CampaignBindingError, match=r"segment: bound to a\.jsonl; this run: b\.jsonl"):
        late.claim("spring", "ep-1", 2.0, ClaimPolicy("late"))
    with pytest.raises(CampaignBindingError):
        late.mark_skipped("spring", "ep-2", "opted_out", 2.0)
    assert ledger_rows(tmp_path / "ledger.db") == 0
    same = BoundLedger(ledger, "spring", binding("a.jsonl"))
    same.claim("spring", "ep-1", 3.0, ClaimPolicy("same"))
    assert ledger_rows(tmp_path / "ledger.db") == 1


def test_what_identifies_each_part(workspace: Path, tmp_path: Path) -> None:
    values = {
        "campaign_id": "spring", "composer": PLUGIN, "config": "pinrec.toml", "segment": "-",
        "segment_format": "jsonl", "recommendations": "segment", "filter_arn": "arn:aws:personalize:f",
        "filter_values": {"CATEGORY": '"shoes"'},
    }  # fmt: skip
    settings = SendSettings.model_validate(values)
    here = binding_of(settings, prepare(settings, lambda service: None))
    assert here.parts["segment"].shown == "jsonl standard input"
    assert here.parts["recommendations"].shown == (
        'segment by endpoint id, 5 per message, filter arn:aws:personalize:f (CATEGORY="shoes")'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(workspace / "catalog.db", elsewhere)
    (elsewhere / "pinrec.toml").write_text(CONFIG.replace("[attributes", "[cache]\nttl_seconds = 5\n[attributes"))
    moved = settings.model_copy(update={"config": str(elsewhere / "pinrec.toml")})
    there = binding_of(moved, prepare(moved, lambda service: None))
    assert there.parts["config"] == here.parts["config"], "another folder, another cache: the same campaign"
    (elsewhere / "pinrec.toml").write_text(CONFIG.replace('"catalog.db"', '"catalog-2.db"'))
    shutil.copy(workspace / "catalog.db", elsewhere / "catalog-2.db")
    renamed = binding_of(moved, prepare(moved, lambda service: None))
    assert renamed.parts["config"] != here.parts["config"], "another catalog file"
