"""The backend registry: `kind` -> backend, imported lazily; and its contract: a backend registered here (one module
plus one entry) is usable everywhere a store is named, with no other module edited."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any, Literal, Self

import pytest
from pydantic import Field, ValidationError

from campaign_tools.cli import main
from transformer.aws import AwsOptions
from transformer.config import load_config, parse_config
from transformer.errors import ConfigError, PinrecError
from transformer.service import Transformer
from transformer.stores import registry
from transformer.stores.base import (
    CatalogStats,
    Item,
    ItemStore,
    LoadOptions,
    LoadSummary,
    Record,
    StoreConfig,
)
from transformer.stores.dynamodb import DynamoDbStoreConfig
from transformer.stores.sqlite import SqliteStoreConfig

ATTRIBUTES = {"Name": {"field": "name"}}


# A toy backend, as a test's module: the catalog is a JSON file {id: item}.


class ToyItemStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.closed = False

    def get_many(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Item]:
        items = json.loads(self.path.read_text(encoding="utf-8"))
        return {item_id: items[item_id] for item_id in ids if item_id in items}

    def close(self) -> None:
        self.closed = True


class ToyStoreConfig(StoreConfig):
    kind: Literal["toy"]
    file: str = Field(min_length=1)
    key: str = "id"

    @classmethod
    def from_location(cls, location: str, key: str) -> Self:
        return cls(kind="toy", file=location, key=key)

    @property
    def location(self) -> str:
        return self.file

    def resolved(self, base_dir: Path) -> Self:
        return self.model_copy(update={"file": str(Path(base_dir) / self.file)})

    def open_store(self, aws: AwsOptions | None = None) -> ItemStore:
        return ToyItemStore(Path(self.file))

    def load(self, records: Iterable[Record], options: LoadOptions) -> LoadSummary:
        path = Path(self.file)
        items: dict[str, Any] = {}
        if options.merge and path.exists():
            items = json.loads(path.read_text(encoding="utf-8"))
        summary = LoadSummary()
        for record in records:
            summary.records += 1
            items[record.item_id] = record.item
        summary.loaded = summary.total = len(items)
        path.write_text(json.dumps(items), encoding="utf-8")
        return summary

    def stats(self, aws: AwsOptions | None = None, *, exact: bool = False) -> CatalogStats:
        count = len(json.loads(Path(self.file).read_text(encoding="utf-8")))
        return CatalogStats({"kind": "toy", "location": self.file, "items": count}, [f"toy file   {self.file}"])


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.BACKENDS, "toy", registry.Backend(lambda: ToyStoreConfig, "FILE"))


def _jsonl(path: Path, *items: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


@pytest.mark.usefixtures("toy_registered")
def test_a_registered_backend_works_through_store_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = tmp_path / "toy.json"
    source = _jsonl(tmp_path / "a.jsonl", {"id": "1", "name": "A"}, {"id": 2, "name": "B"})
    assert main(["catalog", "load", str(source), "--store", f"toy:{catalog}"]) == 0
    assert f"catalog {catalog}: loaded 2 items" in capsys.readouterr().out
    assert main(["catalog", "get", "2", "nope", "--store", f"toy:{catalog}"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"id": "2", "name": "B"}
    assert "not in the catalog: nope" in captured.err
    assert main(["catalog", "stats", "--store", f"toy:{catalog}", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"kind": "toy", "location": str(catalog), "items": 2}


@pytest.mark.usefixtures("toy_registered")
def test_a_registered_backend_works_through_a_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "pinrec.toml"
    config.write_text('[store]\nkind = "toy"\nfile = "toy.json"\n[attributes.Name]\nfield = "name"\n', encoding="utf-8")
    source = _jsonl(tmp_path / "a.jsonl", {"id": "p1", "name": "Boot"})
    assert main(["catalog", "load", str(source), "--config", str(config)]) == 0
    assert main(["catalog", "stats", "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"toy file   {tmp_path / 'toy.json'}"
    loaded = load_config(config)
    assert isinstance(loaded.store, ToyStoreConfig)
    response = Transformer(loaded).handle({"Endpoints": {"e": {"RecommendationItems": ["p1", "p2"]}}})
    assert response["e"]["Recommendations"] == {"Name": ["Boot"]}


@pytest.mark.usefixtures("toy_registered")
def test_a_registered_backend_is_validated_by_its_own_model(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"store": {"kind": "toy", "file": "", "path": "x"}, "attributes": ATTRIBUTES}, base_dir=tmp_path)
    assert "store.file: String should have at least 1 character" in str(raised.value)
    assert "store.path: unknown key" in str(raised.value)
    with pytest.raises(ConfigError, match=r"store\.kind: must be one of 'sqlite', 'dynamodb', 'profile-items', 'toy'"):
        parse_config({"store": {"kind": "redis"}, "attributes": ATTRIBUTES}, base_dir=tmp_path)
    with pytest.raises(PinrecError, match=r"expected sqlite:PATH, dynamodb:TABLE or toy:FILE"):
        registry.parse_store_option("toy")
    with pytest.raises(PinrecError, match=r"unknown store kind 'redis' \(expected sqlite, dynamodb or toy\)"):
        registry.parse_store_option("redis:x")


def test_store_option_names_a_validated_store() -> None:
    assert registry.parse_store_option("sqlite:c.db") == SqliteStoreConfig(kind="sqlite", path="c.db")
    assert registry.parse_store_option("sqlite:s3://b/k.db", "sku").key == "sku"
    assert registry.parse_store_option("dynamodb:pinrec-catalog") == DynamoDbStoreConfig(
        kind="dynamodb", table="pinrec-catalog"
    )
    with pytest.raises(PinrecError, match=r"--store 'dynamodb:a b': table: String should match pattern"):
        registry.parse_store_option("dynamodb:a b")
    with pytest.raises(PinrecError, match=r"--store 'sqlite:s3://bucket': path: an S3 catalog path must be"):
        registry.parse_store_option("sqlite:s3://bucket")


def test_store_tables_are_validated_with_every_problem_located_in_the_table() -> None:
    with pytest.raises(ValidationError) as raised:
        registry.store_config({"kind": "dynamodb", "table": "ab", "key": ""})
    assert [problem["loc"] for problem in raised.value.errors()] == [("table",), ("key",)]
    with pytest.raises(ValidationError) as raised:
        registry.store_config({"path": "c.db"})
    assert [(problem["loc"], problem["msg"]) for problem in raised.value.errors()] == [
        (("kind",), "Value error, must be one of 'sqlite', 'dynamodb', 'profile-items'")
    ]


def test_only_the_configured_backend_is_imported() -> None:
    probe = (
        "import sys\n"
        "from transformer.stores.registry import store_config\n"
        "store_config({'kind': 'sqlite', 'path': 'c.db'})\n"
        "print(sorted(name for name in sys.modules if name.startswith(('transformer.stores.', 'boto3'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == str(
        ["transformer.stores.base", "transformer.stores.registry", "transformer.stores.sqlite"]
    )
