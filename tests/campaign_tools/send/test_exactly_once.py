"""Exactly once under SIGKILL: the real `pinrec send` (outbox, SQLite ledger) killed at random points and re-run
until it finishes; every endpoint ends with exactly one message and a `sent` row, none lost."""

from __future__ import annotations

import email
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.campaign_tools.send.test_plugin import PLUGIN
from tests.fakes import ITEMS, write_recommendations, write_segment

REPO = Path(__file__).resolve().parents[3]
ENDPOINTS = 400
MAX_RUNS = 40


def send_command(tmp_path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "campaign_tools.cli",
        "send",
        "--composer",
        PLUGIN,
        "--segment",
        str(tmp_path / "segment.jsonl"),
        "--recommendations",
        f"file:{tmp_path / 'recs.jsonl'}",
        "--config",
        str(tmp_path / "pinrec.toml"),
        "--campaign-id",
        "spring",
        "--outbox",
        str(tmp_path / "outbox"),
        "--ledger",
        f"sqlite:{tmp_path / 'ledger.db'}",
        "--rate",
        "400",
    ]


@pytest.fixture
def environment(tmp_path: Path, make_catalog: Callable[..., Path]) -> dict[str, str]:
    """A campaign folder (config, segment, recommendations) and the environment its `pinrec send` runs in."""
    catalog = make_catalog(ITEMS)
    (tmp_path / "pinrec.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
    )
    write_segment(tmp_path / "segment.jsonl", ENDPOINTS)
    write_recommendations(tmp_path / "recs.jsonl", ENDPOINTS)
    return {**os.environ, "PYTHONPATH": str(REPO)}


def sent_rows(tmp_path: Path) -> int:
    if not (tmp_path / "ledger.db").exists():
        return 0
    connection = sqlite3.connect(tmp_path / "ledger.db")
    try:
        return int(connection.execute("SELECT count(*) FROM messages WHERE state = 'sent'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()


@pytest.mark.slow
def test_sigkill_at_random_points_then_rerun_sends_each_endpoint_exactly_once(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    chance = random.Random(7)
    kills_mid_campaign = 0
    finished = False
    for run in range(MAX_RUNS):
        before = sent_rows(tmp_path)
        process = subprocess.Popen(
            send_command(tmp_path), cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        # Kill once a random number of further messages is recorded (the first run: during start-up), so the
        # kill lands at a random point of the send loop whatever the machine's speed.
        target = before + (0 if run == 0 else chance.randint(1, 90))
        while process.poll() is None and sent_rows(tmp_path) < target:
            time.sleep(0.005)
        if process.poll() is None:
            time.sleep(chance.uniform(0, 0.01))
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills_mid_campaign += before < sent_rows(tmp_path) < ENDPOINTS
            continue
        _, errors = process.communicate()
        assert process.returncode == 0, errors.decode()
        finished = True
        break
    assert finished, f"the campaign did not finish within {MAX_RUNS} runs"
    print(f"runs killed mid-campaign: {kills_mid_campaign}")
    assert kills_mid_campaign >= 3, "the kills should land while messages are being sent"

    files = sorted((tmp_path / "outbox" / "spring").iterdir())
    assert [path.name for path in files] == sorted(f"ep-{n}.eml" for n in range(ENDPOINTS)), (
        "every endpoint has its file, and no killed run left a temporary file behind"
    )
    for path in files:
        message = email.message_from_bytes(path.read_bytes())
        assert message["To"] == f"user{path.stem.removeprefix('ep-')}@example.com"
    connection = sqlite3.connect(tmp_path / "ledger.db")
    rows = dict(connection.execute("SELECT state, count(*) FROM messages GROUP BY state").fetchall())
    assert rows == {"sent": ENDPOINTS}

    rerun = subprocess.run(send_command(tmp_path), cwd=tmp_path, env=environment, capture_output=True, check=True)
    assert b"sent 0" in rerun.stdout and b"already_sent 400" in rerun.stdout
    assert len(list((tmp_path / "outbox" / "spring").iterdir())) == ENDPOINTS


def _children(parent: int) -> list[str]:
    """Process ids whose parent is `parent`, from /proc (fields after the command name: state, ppid, ...)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(parent):
            found.append(stat.parent.name)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


@pytest.mark.slow
def test_compose_workers_die_with_a_killed_send_and_the_rerun_completes(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    command = [*send_command(tmp_path), "--compose-processes", "2"]
    process = subprocess.Popen(command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while process.poll() is None and sent_rows(tmp_path) < 50:
        time.sleep(0.005)
    children = _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert len(children) >= 2, "the worker processes were running"
    deadline = time.monotonic() + 20
    while any(_alive(int(pid)) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in children if _alive(int(pid))], "compose workers outlived the killed send"
    subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, check=True)
    files = [path for path in (tmp_path / "outbox" / "spring").iterdir() if not path.name.startswith(".tmp-")]
    assert len(files) == ENDPOINTS
    connection = sqlite3.connect(tmp_path / "ledger.db")
    assert connection.execute("SELECT state, count(*) FROM messages GROUP BY state").fetchall() == [("sent", ENDPOINTS)]
