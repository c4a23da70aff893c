"""The outbox bytes of a shipped-template campaign on every channel, against golden digests made before the send
path was optimised (issue 16): a faster path must write exactly the same files and ledger rows.

Regenerate (only when a change of output is intended): PINREC_WRITE_GOLDEN=1 pytest this file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.cli import main
from campaign_tools.send import run as run_module
from campaign_tools.send.outbox import OutboxDeliverer
from tests.conftest import write_catalog

DEMO = Path(__file__).resolve().parents[3] / "campaign_tools" / "demo_data"
GOLDEN = Path(__file__).with_name("golden_outbox.json")
CREATED = 1_767_225_600.0
"""The outbox clock, frozen: an email's Date is when its file was first written."""
ITEMS = ["P1001", "P1002", "P1003", "P1004", "P1005", "P1006", "P1007", "P1008", "P1009", "P1010"]
NAMES = ["Ann", "Zoë", "<b>Bob & 'Co'</b>", "", "Ωmega 😀", "José-María", "x" * 80, "Li"]


def _address(channel: str, n: int) -> str:
    if channel == "email":
        return "not-an-address" if n == 5 else f"user{n}+tag@Example.COM"
    if channel == "sms":
        return "+1 999" if n == 5 else f"+1 206-555-{100 + n:04d}"
    return "" if n == 5 else f"token-{n:04d}"


def _segment(channel: str, count: int) -> list[dict[str, Any]]:
    channel_type = {"email": "EMAIL", "sms": "SMS", "push": "GCM"}[channel]
    records: list[dict[str, Any]] = []
    for n in range(count):
        record: dict[str, Any] = {
            "Id": f"ep/{n}" if n == 7 else f"ep-{n}",
            "ChannelType": "APNS" if channel == "push" and n % 3 == 0 else channel_type,
            "Address": _address(channel, n),
            "OptOut": "ALL" if n == 3 else "NONE",
            "User": {"UserId": f"u-{n}", "UserAttributes": {"FirstName": [NAMES[n % len(NAMES)]]}},
        }
        if n == 9:
            record["User"]["UserAttributes"] = {}
        records.append(record)
    records.append(dict(records[1]))  # a repeated id in the same batch
    return records


def _recommendations(count: int) -> list[dict[str, Any]]:
    lines = []
    for n in range(count):
        if n == 4:
            continue  # no recommendations
        picks = [ITEMS[(n * 3 + k) % len(ITEMS)] for k in range(1 + n % 5)]
        if n == 6:
            picks = ["NOPE", *picks]  # an id the catalog does not hold
        lines.append({"id": f"ep/{n}" if n == 7 else f"ep-{n}", "items": picks})
    return lines


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _rows(ledger: Path) -> list[list[Any]]:
    with sqlite3.connect(ledger) as connection:
        rows = connection.execute(
            "SELECT endpoint_id, state, reason, attempts, message_id FROM messages ORDER BY endpoint_id"
        ).fetchall()
    return [list(row) for row in rows]


def _send(tmp_path: Path, channel: str, count: int) -> dict[str, Any]:
    work = tmp_path / channel
    work.mkdir()
    catalog = [json.loads(line) for line in (DEMO / "catalog.jsonl").read_text(encoding="utf-8").splitlines()]
    write_catalog(work / "catalog.db", catalog)
    shutil.copy(DEMO / "pinrec.toml", work / "pinrec.toml")
    (work / "segment.jsonl").write_text(
        "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in _segment(channel, count)), encoding="utf-8"
    )
    (work / "recs.jsonl").write_text("".join(json.dumps(line) + "\n" for line in _recommendations(count)))
    extra = {"email": [], "sms": ["--origination-identity", "+15550199", "--sms-max-parts", "3"], "push": []}
    code = main(
        [
            "send",
            "--template",
            "recommended-for-you",
            "--channel",
            channel,
            "--segment",
            str(work / "segment.jsonl"),
            "--recommendations",
            f"file:{work / 'recs.jsonl'}",
            "--config",
            str(work / "pinrec.toml"),
            "--campaign-id",
            "golden",
            "--ledger",
            f"sqlite:{work / 'ledger.db'}",
            "--outbox",
            str(work / "outbox"),
            *extra[channel],
        ]
    )
    return {"code": code, "files": _digests(work / "outbox"), "rows": _rows(work / "ledger.db")}


@pytest.mark.parametrize("channel", ["email", "sms", "push"])
def test_a_campaign_writes_the_golden_outbox(
    channel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run_module, "OutboxDeliverer", functools.partial(OutboxDeliverer, clock=lambda: CREATED))
    # Two batches and a remainder: batch boundaries must not change a byte.
    found = _send(tmp_path, channel, 120)
    capsys.readouterr()
    golden = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    if os.environ.get("PINREC_WRITE_GOLDEN"):
        golden[channel] = found
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert found == golden[channel]
