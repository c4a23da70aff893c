"""A damaged catalog never replaces a good one, and a damaged row makes only its item unknown.

Generated damage: a good catalog with a run of its pages zeroed or overwritten with noise, or truncated anywhere; a
row whose stored document is any bytes, any text, or JSON that is not an object. Real files throughout, and S3 on the
moto server for the cold-start download and the background refresh."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.cli import main
from tests.conftest import config_for, write_catalog
from tests.fakes import FakeClock
from tests.hostile import json_values
from tests.store_fixtures import aws, client, create_bucket  # noqa: F401
from transformer.aws import AwsOptions
from transformer.errors import ConfigError
from transformer.items import ItemReason
from transformer.observability import emf
from transformer.service import Transformer
from transformer.stores.s3_sqlite import S3SqliteItemStore, s3_client
from transformer.stores.sqlite import verify_catalog

PAGE = 16_384
"""The page size the catalog writer uses."""
ITEMS = [{"id": f"item-{n}", "name": f"Name {n}", "description": "word " * 150} for n in range(300)]
IDS = [item["id"] for item in ITEMS]
SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def good_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return Catalog(write_catalog(tmp_path_factory.mktemp("good") / "catalog.db", ITEMS).read_bytes())


class Catalog(bytes):
    """The good catalog's bytes, shown by their size (a failing example's report would otherwise print them all)."""

    def __repr__(self) -> str:
        return f"<good catalog of {len(self):,} bytes>"


@dataclass(frozen=True)
class Damage:
    """A run of at least one page zeroed or overwritten with noise, or the file cut short (drawn as a description,
    so a failure reports it rather than half a megabyte of file)."""

    kind: str
    start: int
    length: int
    seed: int

    def applied_to(self, good: bytes) -> bytes:
        if self.kind == "truncated":
            return good[: self.start]
        length = min(self.length, len(good) - self.start)
        fill = bytes(length) if self.kind == "zeroed" else random.Random(self.seed).randbytes(length)
        return good[: self.start] + fill + good[self.start + length :]


def damages(size: int) -> st.SearchStrategy[Damage]:
    return st.one_of(
        st.builds(Damage, st.just("truncated"), st.integers(0, size - 1), st.just(0), st.just(0)),
        st.builds(
            Damage,
            st.sampled_from(["zeroed", "noise"]),
            st.integers(100, size - PAGE),
            st.integers(PAGE, 4 * PAGE),
            st.integers(0, 2**32),
        ),
    )


SIZE = 20 * PAGE
"""The good catalog's size (checked by `test_the_good_catalog_passes_verification`)."""


@SETTINGS
@given(damage=damages(SIZE))
def test_a_damaged_file_fails_verification(good_catalog: Catalog, tmp_path: Path, damage: Damage) -> None:
    candidate = tmp_path / "candidate.db"
    candidate.write_bytes(damage.applied_to(good_catalog))
    with pytest.raises(ConfigError, match=r"^store.path: s3://bucket/catalog.db (is|has)"):
        verify_catalog(candidate, "s3://bucket/catalog.db")


def test_the_good_catalog_passes_verification(good_catalog: Catalog, tmp_path: Path) -> None:
    assert len(good_catalog) == SIZE
    candidate = tmp_path / "candidate.db"
    candidate.write_bytes(good_catalog)
    verify_catalog(candidate)


@pytest.fixture
def s3(aws: str) -> tuple[Any, Any, str]:  # noqa: F811
    """One S3 client for the test and one for the stores (made once: a client costs more than a refresh)."""
    return client("s3", aws), s3_client(AwsOptions(endpoint_url=aws)), create_bucket(aws)


@settings(SETTINGS, max_examples=30)
@given(damage=damages(SIZE))
def test_a_damaged_object_never_replaces_the_good_copy(
    s3: tuple[Any, Any, str], good_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory, damage: Damage
) -> None:
    test_client, store_client, bucket = s3
    url = f"s3://{bucket}/catalog.db"
    test_client.put_object(Bucket=bucket, Key="catalog.db", Body=good_catalog)
    clock = FakeClock()
    store = S3SqliteItemStore(
        url, refresh_seconds=60, client=store_client, directory=tmp_path_factory.mktemp("warm"), clock=clock
    )
    served = store.get_many(IDS[:5])

    test_client.put_object(Bucket=bucket, Key="catalog.db", Body=damage.applied_to(good_catalog))
    clock.now += 61
    store.get_many(IDS[:1])  # the check is due: the refresh downloads the damaged object in the background
    store.wait_for_refresh(10)
    assert (store.refreshes, store.failed_refreshes) == (0, 1)
    assert store.get_many(IDS) == {item["id"]: item for item in ITEMS}, "every uncached lookup still answers"
    assert store.get_many(IDS[:5]) == served

    clock.now += 61
    store.get_many(IDS[:1])  # the same bad version is not downloaded again
    store.wait_for_refresh(10)
    assert store.failed_refreshes == 1
    store.close()

    with pytest.raises(ConfigError, match=rf"^store.path: {url} (is|has)"):
        S3SqliteItemStore(url, client=store_client, directory=tmp_path_factory.mktemp("cold"))


# --- damaged rows --------------------------------------------------------------------------------------------------

documents = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64),
    json_values.filter(lambda value: not isinstance(value, dict)).map(json.dumps),
    st.sampled_from(['{"name": "Bro', "[" * 100_000, '{"name": ' * 50_000, "", "null", "NaN"]),
)
"""Stored documents that are not a JSON object: any bytes, any text, JSON of another type, nesting past any stack."""


def _expected_reason(document: str | bytes) -> ItemReason | None:
    try:
        decoded = json.loads(document.decode("utf-8") if isinstance(document, bytes) else document)
    except (ValueError, RecursionError):
        return ItemReason.DAMAGED
    if not isinstance(decoded, dict):
        return ItemReason.DAMAGED
    return None if isinstance(decoded.get("name"), str) else ItemReason.NO_VALUE


@settings(SETTINGS, max_examples=200)
@given(document=documents)
def test_a_damaged_row_makes_only_its_item_unknown(tmp_path_factory: pytest.TempPathFactory, document: Any) -> None:
    catalog = write_catalog(tmp_path_factory.mktemp("rows") / "catalog.db", ITEMS[:3])
    with sqlite3.connect(catalog) as connection:
        connection.execute("INSERT INTO items (id, doc) VALUES ('damaged', CAST(? AS TEXT))", (document,))
    connection.close()
    transformer = Transformer(config_for(catalog, {"Title": {"field": "name"}}))
    event = {
        "Endpoints": {"a": {"RecommendationItems": ["damaged", "item-1"]}, "b": {"RecommendationItems": ["item-2"]}}
    }
    response = transformer.handle(event)
    assert response["b"]["Recommendations"] == {"Title": ["Name 2"]}
    expected = _expected_reason(document)
    if expected is None:
        return  # the document happens to be a usable item
    assert response["a"]["Recommendations"] == {"Title": ["Name 1"]}
    assert transformer.last is not None
    assert dict(transformer.last.items_missing_by_reason) == {expected: 1}
    if expected is ItemReason.DAMAGED:
        assert emf.last_values()["ItemsMissingDamaged"] == 1
    transformer.store.close()


def test_a_damaged_row_in_offers_mode_excludes_that_offer_as_invalid(tmp_path: Path) -> None:
    offer = {"title": "Ten off", "description": "d", "code": "TEN", "preference": 1}
    catalog = write_catalog(tmp_path / "offers.db", [{"id": "good", **offer}])
    with sqlite3.connect(catalog) as connection:
        connection.execute("INSERT INTO items (id, doc) VALUES ('broken', '{\"code\": \"TW')")
    connection.close()
    config = config_for(catalog, {"OfferCode": {"field": "code"}}, offers={"catalog": "store"})
    transformer = Transformer(config)
    event = {"Endpoints": {"a": {"RecommendationItems": ["broken", "good"]}, "b": {"RecommendationItems": ["broken"]}}}
    response = transformer.handle(event)
    assert response == {"a": {**event["Endpoints"]["a"], "Recommendations": {"OfferCode": ["TEN"]}}}
    assert transformer.offers is not None
    assert transformer.offers.last.excluded == {"invalid": 2}


def test_catalog_get_reports_a_damaged_row_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = write_catalog(tmp_path / "catalog.db", ITEMS[:1])
    with sqlite3.connect(catalog) as connection:
        connection.execute("INSERT INTO items (id, doc) VALUES ('broken', '[1, 2]')")
    connection.close()
    assert main(["catalog", "get", "item-0", "broken", "--store", f"sqlite:{catalog}", "--output", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "items": [ITEMS[0]],
        "missing": [],
        "damaged": {"broken": "the document is a JSON list, not an object"},
    }
