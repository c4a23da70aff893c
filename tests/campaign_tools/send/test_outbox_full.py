"""Issue 11, an outbox that cannot take files: a read-only or full file system stops `pinrec send` with one error
after one message, instead of recording a failure for every endpoint. The real command writes into a real tmpfs,
mounted (read-only, or a few kilobytes) in a mount namespace of its own, so nothing outlives the test."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.campaign_tools.send.test_exactly_once import ENDPOINTS, environment, send_command  # noqa: F401

WORKERS = 4


def _can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /mnt"], capture_output=True, check=False
    )
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs unshare --mount and tmpfs (root)")


def ledger_states(tmp_path: Path) -> dict[str, int]:
    connection = sqlite3.connect(tmp_path / "ledger.db")
    try:
        return dict(connection.execute("SELECT state, count(*) FROM messages GROUP BY state").fetchall())
    finally:
        connection.close()


@needs_mount
@pytest.mark.parametrize(
    ("mount_options", "reason"), [("ro,size=64k", "outbox_read_only"), ("size=24k", "outbox_full")], ids=str
)
def test_a_read_only_or_full_outbox_stops_the_run_with_one_error(
    tmp_path: Path,
    environment: dict[str, str],  # noqa: F811 - the fixture of test_exactly_once
    mount_options: str,
    reason: str,
) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    command = shlex.join([*send_command(tmp_path), "--workers", str(WORKERS)])
    script = f"mount -t tmpfs -o {mount_options} tmpfs {shlex.quote(str(outbox))} && exec {command}"
    result = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("error: delivery stopped:") == 1 and f"delivery stopped: {reason}" in result.stderr
    states = ledger_states(tmp_path)
    assert 1 <= states.get("failed", 0) <= WORKERS, "only the messages already under way are recorded as failed"
    assert sum(states.values()) < ENDPOINTS, "the run stopped"
