"""`[store] kind = "profile-items"`: CatalogItems (any JSON value) read as catalog item documents by the documented
mapping, after a catalog when one is configured; the transformer resolves them by the contract's own reasons."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaign_tools.catalog.records import read_jsonl
from transformer.config import PinrecConfig, parse_config
from transformer.errors import ConfigError, PinrecError
from transformer.items import ItemReason
from transformer.precompute import LoadProjection
from transformer.service import Transformer
from transformer.stores.base import CatalogLoadError, DamagedDocument, LoadOptions
from transformer.stores.profile_items import DEFAULT_FIELDS, ProfileItemsReader, item_document
from transformer.stores.registry import parse_store_option, store_option_forms
from transformer.stores.sqlite import write_snapshot

ATTRIBUTES = {"Title": {"field": "name"}, "Url": {"field": "url"}}


def config(store: dict[str, Any], base_dir: Path = Path("/base")) -> PinrecConfig:
    return parse_config({"store": store, "attributes": ATTRIBUTES}, base_dir=base_dir)


def event(*lists: list[object]) -> dict[str, Any]:
    return {"Endpoints": {f"e{n}": {"RecommendationItems": items} for n, items in enumerate(lists)}}


def test_the_default_mapping_and_renames() -> None:
    raw = {
        "Id": "P1",
        "Name": "Boots",
        "Link": "https://x/p1",
        "ImageLink": "https://x/p1.jpg",
        "Price": "89.00",
        "AdditionalInformation": "waterproof",
        "CreatedAt": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "Attributes": {"color": "green", "size": "42"},
    }
    assert item_document(raw, "id", DEFAULT_FIELDS) == {
        "id": "P1",
        "name": "Boots",
        "url": "https://x/p1",
        "image_url": "https://x/p1.jpg",
        "price": "89.00",
        "additional_information": "waterproof",
        "created_at": "2026-01-02T03:04:05+00:00",
        "attributes": {"color": "green", "size": "42"},
    }
    store = config({"kind": "profile-items", "key": "sku", "fields": {"Name": "title", "Attributes.color": "colour"}})
    assert item_document(raw, "sku", store.store.mapping())["title"] == "Boots"  # type: ignore[attr-defined]
    renamed = item_document(raw, "sku", store.store.mapping())  # type: ignore[attr-defined]
    assert isinstance(renamed, dict) and renamed["sku"] == "P1" and renamed["colour"] == "green"
    assert "name" not in renamed


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ({"fields": {"Score": "score"}}, "store.fields: 'Score' is not a CatalogItem field"),
        ({"fields": {"Attributes.": "x"}}, "store.fields: 'Attributes.' is not a CatalogItem field"),
        ({"fields": {"Name": ""}}, "store.fields: Name: the document field name must not be empty"),
        ({"fields": {"Link": "name"}}, "more than one CatalogItem field (or the key) maps to name"),
        ({"key": "name"}, "more than one CatalogItem field (or the key) maps to name"),
        ({"catalog": {"kind": "profile-items"}}, "store.catalog: the catalog read before the profile items must be"),
        ({"catalog": {"kind": "sqlite"}}, "store.catalog.path: Field required"),
        ({"catalog": {"kind": "sqlite", "path": "c.db", "key": "sku"}}, "key 'id' must be the catalog's key ('sku')"),
        ({"path": "c.db"}, "store.path: unknown key"),
    ],
)
def test_invalid_store_tables_are_refused_naming_the_key(store: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config({"kind": "profile-items", **store})
    assert message in str(raised.value)


def test_a_catalog_table_resolves_relative_paths_and_is_what_loads_and_ships() -> None:
    mixed = config({"kind": "profile-items", "catalog": {"kind": "sqlite", "path": "c.db"}}).store
    assert mixed.location == "/base/c.db" and mixed.bundled_file() == "/base/c.db"
    assert mixed.describe() == "catalog /base/c.db, then the item fields Customer Profiles returns"
    alone = config({"kind": "profile-items"}).store
    assert alone.bundled_file() is None and alone.describe() == "the item fields Customer Profiles returns"
    with pytest.raises(CatalogLoadError, match="has no catalog to load"):
        alone.load([], LoadOptions())
    assert alone.stats().figures == {"kind": "profile-items", "location": "customer-profiles", "items": None}


def test_the_store_option_cannot_name_profile_items() -> None:
    assert "profile-items" not in store_option_forms()
    with pytest.raises(PinrecError, match="unknown store kind 'profile-items' \\(expected sqlite or dynamodb\\)"):
        parse_store_option("profile-items:x")


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_any_json_value_as_an_item_or_a_field_is_a_document_or_damaged_never_an_error(value: object) -> None:
    assert isinstance(item_document(value, "id", DEFAULT_FIELDS), DamagedDocument | dict)
    raw = {"Id": "P1", **dict.fromkeys(DEFAULT_FIELDS, value)}
    document = item_document(raw, "id", {**DEFAULT_FIELDS, "Attributes.x": "x"})
    assert isinstance(document, dict) and document["id"] == "P1"


def test_the_transformer_counts_bad_item_fields_by_the_contracts_reasons() -> None:
    transformer = Transformer(config({"kind": "profile-items"}))
    reader = transformer.store
    assert isinstance(reader, ProfileItemsReader)
    with pytest.raises(PinrecError, match="none was returned yet"):
        reader.sample_ids(10)
    reader.supply(
        {
            "ok": {"Id": "ok", "Name": "Boots", "Link": "https://x/ok"},
            "object": {"Id": "object", "Name": {"a": 1}, "Link": "https://x/o"},
            "absent": {"Id": "absent", "Name": "No link"},
            "string": "not an object",
        }
    )
    assert reader.sample_ids(2) == ["ok", "object"]
    enrichment = transformer.enrich_event(event(["ok", "object", "absent", "string", "unknown", 7]))
    assert enrichment.response["e0"]["Recommendations"] == {"Title": ["Boots"], "Url": ["https://x/ok"]}
    assert enrichment.items_missing_by_reason == {
        ItemReason.NO_VALUE: 2,
        ItemReason.DAMAGED: 1,
        ItemReason.NOT_IN_CATALOG: 1,
        ItemReason.INVALID_ID: 1,
    }


@pytest.mark.parametrize("precomputed", [False, True], ids=["documents", "precomputed"])
def test_with_a_catalog_its_items_win_and_profile_items_fill_the_rest(tmp_path: Path, precomputed: bool) -> None:
    mixed = config({"kind": "profile-items", "catalog": {"kind": "sqlite", "path": "c.db"}}, tmp_path)
    lines = [json.dumps({"id": "P1", "name": "Catalog Boots", "url": "https://c/P1"})]
    projection = LoadProjection(mixed.attributes) if precomputed else None
    write_snapshot(read_jsonl(lines, "id"), tmp_path / "c.db", key="id", source="t", attributes=projection)
    transformer = Transformer(mixed)
    reader = transformer.store
    assert isinstance(reader, ProfileItemsReader)
    reader.supply({"P1": {"Id": "P1", "Name": "Profile Boots"}, "P2": {"Id": "P2", "Name": "Jacket", "Link": "u2"}})
    assert reader.sample_ids(5) == ["P1", "P2"]
    enrichment = transformer.enrich_event(event(["P1", "P2", "P3"]))
    assert enrichment.response["e0"]["Recommendations"] == {
        "Title": ["Catalog Boots", "Jacket"],
        "Url": ["https://c/P1", "u2"],
    }
    assert enrichment.items_missing_by_reason == {ItemReason.NOT_IN_CATALOG: 1}
    transformer.store.close()


def test_the_lambda_refuses_profile_items_without_a_catalog_at_cold_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformer.errors import ConfigError
    from transformer.service import Transformer

    path = tmp_path / "pinrec.toml"
    path.write_text('[store]\nkind = "profile-items"\n\n[attributes.Title]\nfield = "name"\n')
    with pytest.raises(ConfigError, match=r"no catalog in the transformer Lambda"):
        Transformer.from_config_file(path)
