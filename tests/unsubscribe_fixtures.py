"""Shared by the unsubscribe tests: the demo deployment (config and SQLite catalog), a shipped template copied with
an unsubscribe mode, and a segment of email endpoints with their recommendations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from campaign_tools.catalog.records import read_jsonl
from campaign_tools.templates.manifest import builtin_templates_dir
from tests.conftest import DEMO_DATA
from transformer.stores.sqlite import write_snapshot

SECRET = "unsubscribe-test-secret-" + "0123456789" * 3
KEY_ENV = "PINREC_TEST_UNSUBSCRIBE_KEY"
ADDRESSES = {"ep-ana": "Ana@Example.com", "ep-bo": "bo@example.com", "ep-cy": "cy@example.com"}


def demo_deploy(folder: Path) -> Path:
    """pinrec.toml and its catalog in `folder`; returns the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pinrec.toml").write_text((DEMO_DATA / "pinrec.toml").read_text(encoding="utf-8"), encoding="utf-8")
    lines = (DEMO_DATA / "catalog.jsonl").read_text(encoding="utf-8").splitlines()
    write_snapshot(read_jsonl(lines, "id"), folder / "catalog.db", key="id", source="test")
    return folder / "pinrec.toml"


def template_with(folder: Path, links: str, name: str = "recommended-for-you") -> Path:
    """The shipped template copied into `folder`, with `links` (TOML lines) added to its [links] table."""
    target = folder / name
    shutil.copytree(builtin_templates_dir() / name, target)
    manifest = target / "template.toml"
    text = manifest.read_text(encoding="utf-8").replace("[links]\n", f"[links]\n{links}\n", 1)
    manifest.write_text(text, encoding="utf-8")
    return target


def segment(folder: Path, addresses: dict[str, str] = ADDRESSES) -> tuple[Path, Path]:
    """A JSON Lines segment of email endpoints and a file: recommendations source for them."""
    records: list[dict[str, Any]] = [
        {
            "Id": endpoint_id,
            "ChannelType": "EMAIL",
            "Address": address,
            "User": {"UserAttributes": {"FirstName": [endpoint_id.removeprefix("ep-").title()]}},
        }
        for endpoint_id, address in addresses.items()
    ]
    items = [json.loads(line)["id"] for line in (DEMO_DATA / "catalog.jsonl").read_text().splitlines() if line]
    (folder / "segment.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    recommendations = [{"id": endpoint_id, "items": items[:5]} for endpoint_id in addresses]
    (folder / "recs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recommendations), encoding="utf-8")
    return folder / "segment.jsonl", folder / "recs.jsonl"
