"""Loader throughput through the real `pinrec catalog load` code path."""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

from bench.data import jsonl_lines
from campaign_tools.cli import main


def write_jsonl(path: Path, count: int) -> float:
    started = time.perf_counter()
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(jsonl_lines(count))
    return time.perf_counter() - started


def load_with_cli(*arguments: str) -> tuple[float, str]:
    """Run `pinrec catalog load ARGUMENTS`; returns (seconds, its summary line)."""
    output = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(output):
        status = main(["catalog", "load", *arguments])
    seconds = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"load failed: {arguments}")
    return seconds, output.getvalue().strip()
