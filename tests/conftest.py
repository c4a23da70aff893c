"""Shared fixtures: real SQLite catalogs built with the real loader, and the shipped sample data."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.catalog.records import read_jsonl
from transformer.config import PinrecConfig, parse_config
from transformer.stores.sqlite import write_snapshot

DEMO_DATA = resources.files("campaign_tools") / "demo_data"


def write_catalog(path: Path, items: Iterable[dict[str, Any]], key: str = "id") -> Path:
    lines = [json.dumps(item, ensure_ascii=False) for item in items]
    write_snapshot(read_jsonl(lines, key), path, key=key, source="test", allow_empty=True)
    return path


@pytest.fixture
def make_catalog(tmp_path: Path) -> Callable[..., Path]:
    def make(items: Iterable[dict[str, Any]], name: str = "catalog.db", key: str = "id") -> Path:
        return write_catalog(tmp_path / name, items, key)

    return make


@pytest.fixture
def sample_items() -> list[dict[str, Any]]:
    text = (DEMO_DATA / "catalog.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def sample_event() -> dict[str, Any]:
    return json.loads((DEMO_DATA / "event.json").read_text(encoding="utf-8"))


def config_for(catalog: Path, attributes: dict[str, dict[str, Any]], **sections: Any) -> PinrecConfig:
    data: dict[str, Any] = {"store": {"kind": "sqlite", "path": str(catalog)}, "attributes": attributes}
    data.update(sections)
    return parse_config(data, base_dir=catalog.parent)


# AWS setup tests (issue 4): moto server and session fixtures.
pytest_plugins = ["tests.aws_fixtures"]
