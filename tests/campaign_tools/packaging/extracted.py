"""A function's zip extracted and run with nothing but its own files and the standard library on the path, as the
Lambda runtime would run it without any site-packages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

OUTSIDE = (
    "sorted({m.__file__.split('/')[-2] for m in list(sys.modules.values())\n"
    "        if getattr(m, '__file__', None) and 'site-packages' in m.__file__})"
)
"""A script's expression for the site-packages its imports reached (expected: none)."""


def extract(archive: Path, task_root: Path) -> Path:
    zipfile.ZipFile(archive).extractall(task_root)
    return task_root


def run_standard_library_only(
    task_root: Path, script: str, *arguments: str, environment: Mapping[str, str], cwd: Path
) -> Any:
    """Run `script` (python -S: no site-packages) with `task_root` the only path added; what it printed, as JSON."""
    completed = subprocess.run(
        [sys.executable, "-S", "-c", script, *arguments],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(task_root), **environment},
        cwd=cwd,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)
