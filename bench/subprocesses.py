"""Fresh-process measurements: handler cold start per store kind, and the memory of a full cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.timing import Timing, summarise

COLD_START_PROBE = """
import json, sys, time
started = time.perf_counter()
import handlers.transformer
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "boto3": "boto3" in sys.modules}))
"""

MEMORY_PROBE = """
import json, sys

def peak_kb():  # VmHWM: this process's peak resident set (ru_maxrss would include the parent's, from fork)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

import handlers.transformer as handler
transformer = handler.transformer
before = peak_kb()
size = int(sys.argv[1])
ids = [f"P{rank:07d}" for rank in range(1, size + 1)]
for start in range(0, size, 250):
    transformer.resolver.resolve(ids[start:start + 250])
after = peak_kb()
print(json.dumps({"rss_before_kb": before, "rss_after_kb": after, "cached": len(transformer.cache)}))
"""


def _run(probe: str, config: Path, *arguments: str, environment: dict[str, str] | None = None) -> dict[str, Any]:
    env = {**os.environ, "PINREC_CONFIG": str(config), "POWERTOOLS_LOG_LEVEL": "WARNING", **(environment or {})}
    result = subprocess.run(
        [sys.executable, "-c", probe, *arguments], env=env, capture_output=True, text=True, check=False, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"probe failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def cold_start(config: Path, runs: int, environment: dict[str, str] | None = None) -> tuple[Timing, Timing, bool]:
    """Median/p95 of (handler import + config + store open) and of the whole process, and whether boto3 loaded."""
    inside, whole, boto3_loaded = [], [], False
    for _ in range(runs):
        started = time.perf_counter()
        report = _run(COLD_START_PROBE, config, environment=environment)
        whole.append(time.perf_counter() - started)
        inside.append(report["seconds"])
        boto3_loaded = boto3_loaded or report["boto3"]
    return summarise(inside), summarise(whole), boto3_loaded


def full_cache_memory(config: Path, catalog_size: int) -> dict[str, Any]:
    return _run(MEMORY_PROBE, config, str(catalog_size))
