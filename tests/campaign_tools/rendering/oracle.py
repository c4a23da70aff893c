"""A long-lived handlebars.js process (tests/oracle/render.js) that renders templates for comparison."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

ORACLE_DIR = Path(__file__).resolve().parents[2] / "oracle"
INSTALL_HINT = "install it with `npm ci --prefix tests/oracle` (needs Node 20: `apt-get install nodejs npm`)"
MIN_NODE_MAJOR = 20


def missing_reason() -> str | None:
    """Why the oracle cannot run here, or None when node and handlebars.js are installed."""
    node = shutil.which("node")
    if node is None:
        return f"node is not on PATH; {INSTALL_HINT}"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    major = version.lstrip("v").split(".", 1)[0]
    if not major.isdigit() or int(major) < MIN_NODE_MAJOR:
        return f"node {version or '(unknown version)'} is older than Node {MIN_NODE_MAJOR}; {INSTALL_HINT}"
    if not (ORACLE_DIR / "node_modules" / "handlebars" / "package.json").is_file():
        return f"handlebars.js is not installed in tests/oracle; {INSTALL_HINT}"
    return None


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_oracle() -> None:
    """Skip the calling test when the oracle is missing, saying how to install it; under CI=true, fail it."""
    reason = missing_reason()
    if reason is None:
        return
    if running_in_ci():
        pytest.fail(f"CI must run the handlebars.js differential tests: {reason}")
    pytest.skip(reason)


class HandlebarsOracle:
    """Sends one JSON request per line to render.js and reads one reply per line."""

    def __init__(self) -> None:
        node = shutil.which("node")
        assert node is not None
        self._process = subprocess.Popen(
            [node, str(ORACLE_DIR / "render.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=ORACLE_DIR,
        )
        self._lock = threading.Lock()

    def render(
        self,
        template: str,
        context: Any,
        *,
        helpers: bool = False,
        escape: bool = True,
        now: str = "2026-11-23T09:30:00Z",
        uuid: str = "00000000-0000-4000-8000-000000000000",
    ) -> dict[str, str]:
        """{"text": output} or {"error": message}."""
        request = {"template": template, "context": context, "helpers": helpers, "escape": escape}
        request |= {"now": now, "uuid": uuid}
        with self._lock:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the handlebars.js oracle exited")
        return json.loads(line)

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
