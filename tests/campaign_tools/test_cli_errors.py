"""No traceback for an expected condition, and no file created by a command that only reads.

- A reader that stops early (`pinrec send status ... | head`): the command ends quietly with status 141, whichever
  command is writing and wherever the reader stops.
- A path that cannot be read or written (under a file, a file where a folder is wanted, a name too long): one
  `pinrec: error:` line naming the path, exit status 1.
- Commands that only read (send status, catalog get and stats, templates lint and list, invoke) create no file and
  change none, whatever path they are given: a missing one is reported, an existing one is opened read-only.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.cli import EXIT_BROKEN_PIPE, main
from campaign_tools.demo import copy_demo_files
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from tests.conftest import write_catalog

LEDGER_ROWS = 20_000
CATALOG_ITEMS = 3_000


def big_ledger(path: Path) -> Path:
    """A ledger whose campaign `spring` has LEDGER_ROWS sent rows (written directly: the schema is the ledger's)."""
    SqliteLedger(path, durable=False).close()
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO messages (campaign_id, endpoint_id, state, attempts, message_id, created_at, updated_at) "
            "VALUES ('spring', ?, 'sent', 1, 'm', 1.0, 2.0)",
            [(f"ep-{n:06d}",) for n in range(LEDGER_ROWS)],
        )
    connection.close()
    return path


@pytest.fixture(scope="module")
def long_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Commands whose output is far larger than a pipe's buffer."""
    folder = tmp_path_factory.mktemp("long")
    ledger = big_ledger(folder / "ledger.db")
    catalog = write_catalog(
        folder / "catalog.db", ({"id": f"item-{n}", "name": "x" * 40} for n in range(CATALOG_ITEMS))
    )
    ids = [f"item-{n}" for n in range(CATALOG_ITEMS)]
    status = ["send", "status", "spring", "--ledger", f"sqlite:{ledger}", "--list", "sent"]
    get = ["catalog", "get", *ids, "--store", f"sqlite:{catalog}"]
    return {
        "send status --list": status,
        "send status json": [*status, "--output", "json"],
        "catalog get": get,
        "catalog get json": [*get, "--output", "json"],
    }


@pytest.mark.parametrize("command", ["send status --list", "send status json", "catalog get", "catalog get json"])
@pytest.mark.parametrize("taken", [0, 1, 65_536])
def test_a_reader_that_stops_early_ends_the_command_quietly(
    long_outputs: dict[str, list[str]], command: str, taken: int
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "campaign_tools.cli", *long_outputs[command]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(taken)
    process.stdout.close()
    errors = process.stderr.read().decode()
    assert process.wait(timeout=60) == EXIT_BROKEN_PIPE
    assert errors == ""


def test_a_reader_that_reads_everything_sees_it_all(long_outputs: dict[str, list[str]]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "campaign_tools.cli", *long_outputs["send status --list"]],
        capture_output=True,
        check=True,
    )
    assert result.stdout.count(b"\nep-") == LEDGER_ROWS


# Paths that cannot be written.

Unwritable = Callable[[Path], str]
UNWRITABLE: dict[str, Unwritable] = {
    "under a file": lambda root: str(root / "a-file" / "out"),
    "a file where a folder goes": lambda root: str(root / "a-file"),
    "a name too long": lambda root: str(root / ("n" * 300)),
}


def writing_commands(out: str) -> dict[str, list[str]]:
    return {
        "templates build": ["templates", "build", "recommended-for-you", "--out", out],
        "templates preview": ["templates", "preview", "recommended-for-you", "--out", out],
        "demo": ["demo", "--out", out],
        "catalog load": ["catalog", "load", "catalog.jsonl", "--store", f"sqlite:{out}/catalog.db"],
    }


@pytest.mark.parametrize("shape", UNWRITABLE)
@pytest.mark.parametrize("command", writing_commands("OUT"))
def test_a_path_that_cannot_be_written_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], shape: str, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PINREC_CONFIG", raising=False)
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "catalog.jsonl").write_text('{"id": "a"}\n')
    out = UNWRITABLE[shape](tmp_path)
    assert main(writing_commands(out)[command]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("pinrec: error: ")
    assert str(tmp_path) in line or "a-file" in line


# Read-only commands create nothing.


def read_only_commands(path: str, folder: Path) -> dict[str, list[str]]:
    return {
        "send status": ["send", "status", "spring", "--ledger", f"sqlite:{path}"],
        "send status json": ["send", "status", "spring", "--ledger", f"sqlite:{path}", "--output", "json"],
        "catalog get": ["catalog", "get", "a", "--store", f"sqlite:{path}"],
        "catalog stats": ["catalog", "stats", "--store", f"sqlite:{path}"],
        "templates lint": ["templates", "lint", "recommended-for-you", "--config", path],
        "templates list": ["templates", "list", "--templates-dir", path],
        "invoke": ["invoke", "--event", path, "--config", str(folder / "pinrec.toml")],
    }


def tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() if path.is_file() else b"/" for path in folder.rglob("*")}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_items: list[dict[str, object]]) -> Path:
    """A current folder holding the demo's files, a catalog, a ledger with one campaign, and a file of notes."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PINREC_CONFIG", raising=False)
    copy_demo_files(tmp_path)
    write_catalog(tmp_path / "catalog.db", sample_items)
    ledger = SqliteLedger(tmp_path / "ledger.db", durable=False)
    ledger.mark_skipped("spring", "ep-1", "no_recommendations", 1.0)
    ledger.close()
    (tmp_path / "notes.db").write_text("my notes")
    return tmp_path


names = st.text(st.sampled_from("abcXYZ019_-."), min_size=1, max_size=12).filter(
    lambda name: name not in (".", "..") and not name.startswith("-")  # "-x" would be read as an option
)
typos = st.builds(
    lambda parts, suffix: "/".join(parts) + suffix,
    st.lists(names, min_size=1, max_size=3),
    st.sampled_from(("", ".db", ".toml", ".json", "/")),
)
existing = st.sampled_from(("catalog.db", "ledger.db", "notes.db", "pinrec.toml", "event.json", "."))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.one_of(typos, existing), command=st.sampled_from(tuple(read_only_commands("", Path()))))
def test_a_read_only_command_creates_and_changes_nothing(
    workdir: Path, capsys: pytest.CaptureFixture[str], path: str, command: str
) -> None:
    before = tree(workdir)
    status = main(read_only_commands(path, workdir)[command])
    printed = capsys.readouterr()
    assert status in (0, 1)
    assert "Traceback" not in printed.err
    assert tree(workdir) == before


@pytest.mark.parametrize("typo", ["typo.db", "missing/typo.db"])
def test_send_status_on_a_missing_ledger_says_so(workdir: Path, capsys: pytest.CaptureFixture[str], typo: str) -> None:
    assert main(["send", "status", "spring", "--ledger", f"sqlite:{typo}"]) == 1
    assert capsys.readouterr().err == f"pinrec: error: no such ledger: {typo}\n"
    assert not (workdir / typo).exists() and not (workdir / "missing").exists()


def test_send_status_still_reads_a_ledger_a_run_is_writing(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    writer = SqliteLedger(workdir / "ledger.db", durable=False)  # holds the -wal and -shm files open
    try:
        writer.mark_skipped("spring", "ep-2", "opted_out", 2.0)
        assert main(["send", "status", "spring", "--ledger", "sqlite:ledger.db", "--output", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["skipped"] == {"no_recommendations": 1, "opted_out": 1}
    finally:
        writer.close()
