"""`bench/sqlite_latency.py` measures the tree it runs in over a catalog it builds once and reuses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*arguments: str) -> str:
    command = [sys.executable, "bench/sqlite_latency.py", *arguments, "--runs", "2", "3", "5", "3", "2"]
    return subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True, timeout=300).stdout


def test_it_builds_the_catalog_once_and_prints_every_figure(tmp_path: Path) -> None:
    first = run("--work", str(tmp_path), "--catalog", "500")
    catalog = tmp_path / "catalog.db"
    built = catalog.stat().st_mtime_ns
    second = run("--work", str(tmp_path))
    assert catalog.stat().st_mtime_ns == built, "the second run reuses the catalog"
    for line in (first, second):
        figures = re.findall(r"(?:naive|cold|hot|steady|all cached) (\d+\.\d{3})", line)
        assert len(figures) == 7 and all(float(figure) > 0 for figure in figures), line
        assert "identical to naive: True" in line
