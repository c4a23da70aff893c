"""The delivery events function's zip (`pinrec package --function events`): its handler, the events, suppression and
ledger packages and nothing of templates, rendering or configuration; rebuilt byte for byte; and, extracted, it
handles an SQS batch with nothing but its own files and the standard library on the path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from campaign_tools.cli import main
from campaign_tools.send.ledgers.base import ClaimPolicy
from campaign_tools.send.ledgers.sqlite import SqliteLedger

DATA = Path(__file__).parents[2] / "data" / "events"


def package(out: Path, *extra: str) -> int:
    return main(["package", "--function", "events", "--out", str(out), "--output", "json", *extra])


def test_the_zip_holds_the_handler_and_its_packages_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert package(first) == 0 and package(second) == 0
    assert first.read_bytes() == second.read_bytes()
    assert "no runtime dependencies to install" in capsys.readouterr().err
    names = set(zipfile.ZipFile(first).namelist())
    assert {
        "handlers/events.py",
        "campaign_tools/__init__.py",
        "campaign_tools/events/ingest.py",
        "campaign_tools/events/sources/ses.py",
        "campaign_tools/send/__init__.py",
        "campaign_tools/send/pacing.py",
        "campaign_tools/send/ledgers/dynamodb.py",
        "campaign_tools/suppression/registry.py",
    } <= names
    forbidden = ("campaign_tools/rendering/", "campaign_tools/templates/", "campaign_tools/channels/", "template/")
    lean = ("campaign_tools/channels/__init__.py", "campaign_tools/channels/addresses/")
    assert not [name for name in names if name.startswith(forbidden) and not name.startswith(lean)]
    assert "campaign_tools/channels/addresses/email.py" in names, "the suppression list's address spellings"
    assert not [name for name in names if name.startswith("campaign_tools/send/") and name.count("/") == 2
                and name not in ("campaign_tools/send/__init__.py", "campaign_tools/send/pacing.py")]  # fmt: skip
    assert "pinrec.toml" not in names
    assert package(tmp_path / "x.zip", "--config", "pinrec.toml") == 1
    assert "--config does not go with --function events" in capsys.readouterr().err


def test_the_extracted_zip_handles_an_sqs_batch_with_only_the_standard_library(tmp_path: Path) -> None:
    out = tmp_path / "events.zip"
    assert package(out) == 0
    task_root = tmp_path / "var-task"
    zipfile.ZipFile(out).extractall(task_root)
    ledger = SqliteLedger(tmp_path / "ledger.db")
    ledger.claim("spring", "ep-4", 1.0, ClaimPolicy("run"))
    ledger.mark_sent("spring", "ep-4", "ses-msg-4", 1.0)
    ledger.close()
    complaint = (DATA / "ses-eventbridge.jsonl").read_text().splitlines()[6]
    event = {
        "Records": [
            {"messageId": "m-1", "eventSource": "aws:sqs", "body": complaint, "attributes": {}},
            {"messageId": "m-2", "eventSource": "aws:sqs", "body": "not json"},
        ]
    }
    script = (
        "import json, sys\n"
        "import handlers.events\n"
        "answer = handlers.events.handler(json.loads(sys.argv[1]))\n"
        "from campaign_tools.suppression.sqlite import SqliteSuppressionList\n"
        "listed = [e.reason for e in SqliteSuppressionList(sys.argv[2]).entries()]\n"
        "print(json.dumps({'answer': answer, 'listed': listed,\n"
        "                  'outside': sorted({m.__file__.split('/')[-2] for m in list(sys.modules.values())\n"
        "                     if getattr(m, '__file__', None) and 'site-packages' in m.__file__})}))\n"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(task_root),
        "PINREC_LEDGER": f"sqlite:{tmp_path / 'ledger.db'}",
        "PINREC_SUPPRESSION": f"sqlite:{tmp_path / 'suppression.db'}",
    }
    completed = subprocess.run(
        [sys.executable, "-S", "-c", script, json.dumps(event), str(tmp_path / "suppression.db")],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {"answer": {"batchItemFailures": []}, "listed": ["complaint"], "outside": []}
    assert [event.kind for event in SqliteLedger(tmp_path / "ledger.db", read_only=True).events("spring")] == [
        "complaint"
    ]
