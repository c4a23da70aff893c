"""`pinrec demo` ends with the preview gallery of the shipped template, on the transformer's real output."""

from __future__ import annotations

import re
from pathlib import Path

from campaign_tools.cli import main


def test_demo_runs_catalog_event_transformer_and_preview(tmp_path: Path, capsys) -> None:
    workdir = tmp_path / "demo"
    assert main(["demo", "--out", str(workdir)]) == 0
    out = capsys.readouterr().out
    # The earlier story is still told ...
    assert f"Loaded 22 catalog items into {workdir / 'catalog.db'}" in out
    assert "ep-email-fay (EMAIL) recommended nothing" in out
    # ... and now ends with the messages and where to open them.
    index = workdir / "preview" / "index.html"
    assert f"Open the preview gallery: {index.resolve().as_uri()}" in out
    assert "Messages from the recommended-for-you template" in out
    assert re.search(r"ep-sms-chloe  SMS      [0-9.]+ KB     UCS-2, 3", out)
    gallery = index.read_text(encoding="utf-8")
    for endpoint in ("ep-email-ana", "ep-email-ben", "ep-sms-chloe", "ep-push-dev"):
        assert f'id="{endpoint}"' in gallery
        assert (workdir / "preview" / endpoint / "email.html").is_file()
    assert "ep-email-eli: too_few_items" in gallery
