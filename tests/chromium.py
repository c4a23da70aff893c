"""Real headless Chromium for the browser tests: one way to start it with the network cut off, read its console and
take a screenshot. The `chromium` fixture (the binary) is in tests/campaign_tools/templates/conftest.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_chromium(binary: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once with its own profile; nothing leaves the machine, the console goes to stderr."""
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing leaves the machine
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def dump_dom(binary: str, profile: Path, url: str, budget_ms: int = 3000) -> subprocess.CompletedProcess[str]:
    """The page's DOM after `budget_ms` of virtual time (stdout), and its console (stderr)."""
    return run_chromium(binary, profile, f"--virtual-time-budget={budget_ms}", "--dump-dom", url)


def console_lines(stderr: str) -> list[str]:
    """The page's console messages (script errors, refused loads) in Chromium's stderr."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def screenshot(binary: str, profile: Path, url: str, path: Path, window_size: str) -> None:
    """Write a PNG screenshot of `url` at `window_size` ("width,height") to `path` (its folder is made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    run_chromium(binary, profile, "--hide-scrollbars", f"--window-size={window_size}", f"--screenshot={path}", url)
    assert path.read_bytes()[:8] == PNG_MAGIC
