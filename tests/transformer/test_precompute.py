"""Precomputed attribute values (`transformer.precompute`): a catalog loaded with the configuration's attribute
tables answers exactly as rendering its documents does, and a configuration that differs never gets the stored
values."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.catalog.records import read_jsonl
from tests.conftest import config_for
from tests.store_fixtures import REGION, aws, create_table  # noqa: F401
from transformer.aws import AwsOptions
from transformer.config import PinrecConfig, parse_config
from transformer.precompute import LoadProjection, attributes_fingerprint, decode_many, decode_values, encode_values
from transformer.service import Transformer
from transformer.stores.base import InvalidRecord, Precomputed
from transformer.stores.dynamodb import DynamoDbLoader, loader_client
from transformer.stores.sqlite import SqliteItemStore, write_snapshot

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30) | st.sampled_from(
    ["", "🇫🇷🇩🇪🇮🇹", "e\u0301e\u0301e\u0301", "👩‍👩‍👧‍👦 family", "a" * 80, "%s {{ x }}"]
)
value = st.one_of(
    text,
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)
FIELDS = ["id", "name", "price", "description"]
TEMPLATES = [
    "{{ item.name }}",
    "{{ '%.2f' | format(item.price) }}",
    "{{ item.name | upper }}-{{ item.id }}",
    "https://shop.example.com/p/{{ item.id }}?q={{ item.description | urlencode }}",
    "{{ item.missing.deeper }}",
    "{% if item.price > 10 %}big{% else %}small{% endif %}",
]


@st.composite
def items(draw: st.DrawFn, count: int = 12) -> list[dict[str, Any]]:
    out = []
    for index in range(count):
        item: dict[str, Any] = {"id": f"item-{index}"}
        for field in ("name", "price", "description"):
            if draw(st.booleans()) or index < 2:
                item[field] = draw(value)
        out.append(item)
    return out


@st.composite
def attribute_tables(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    names = draw(
        st.lists(st.sampled_from(["Title", "Price", "Url", "Id", "Summary"]), min_size=1, max_size=4, unique=True)
    )
    tables = {}
    for name in names:
        spec: dict[str, Any] = (
            {"field": draw(st.sampled_from(FIELDS))}
            if draw(st.booleans())
            else {"template": draw(st.sampled_from(TEMPLATES))}
        )
        if draw(st.booleans()):
            spec["default"] = draw(st.sampled_from(["", "n/a", "🙂"]))
        if draw(st.booleans()):
            spec["max_length"] = draw(st.integers(1, 12))
        tables[name] = spec
    return tables


def load(path: Path, catalog: list[dict[str, Any]], config: PinrecConfig | None, **options: Any) -> Path:
    lines = [json.dumps(item, ensure_ascii=False) for item in catalog]
    projection = LoadProjection(config.attributes) if config is not None else None
    write_snapshot(
        read_jsonl(lines, "id"), path, key="id", source="t", allow_empty=True, attributes=projection, **options
    )
    return path


def events(ids: list[object]) -> list[dict[str, Any]]:
    endpoints = {
        f"e{index}": {"Address": f"a{index}@example.com", "RecommendationItems": ids[index : index + 5]}
        for index in range(0, len(ids), 3)
    }
    return [{"Endpoints": endpoints}, {"Endpoints": endpoints}]  # the second is answered from the cache


ALL_IDS: list[object] = [
    *(f"item-{index}" for index in range(12)),
    "unknown",
    "damaged",
    "",
    7,
    "x" * 101,
    "item-0",
]


def responses(config: PinrecConfig, ids: list[object]) -> list[tuple[str, dict[str, Any]]]:
    transformer = Transformer(config)
    try:
        out = []
        for event in events(ids):
            response = transformer.handle(event)
            assert transformer.last is not None
            counts = {str(reason): n for reason, n in transformer.last.items_missing_by_reason.items()}
            out.append((json.dumps(response, sort_keys=True), counts))
        return out
    finally:
        transformer.store.close()


def add_damaged_row(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO items (id, doc) VALUES ('damaged', '[1, 2]')")
    connection.close()


@SETTINGS
@given(catalog=items(), tables=attribute_tables(), missing=st.sampled_from(["drop", "fill"]), order=st.randoms())
def test_precomputed_values_answer_byte_for_byte_as_rendering(
    catalog: list[dict[str, Any]], tables: dict[str, dict[str, Any]], missing: str, order: Any
) -> None:
    if missing == "fill":
        tables = {name: {"default": "-", **spec} for name, spec in tables.items()}
    ids = list(ALL_IDS)
    order.shuffle(ids)
    with tempfile.TemporaryDirectory() as directory:
        rendered_path, precomputed_path = Path(directory, "rendered.db"), Path(directory, "precomputed.db")
        rendered = config_for(rendered_path, tables, recommendations={"missing": missing})
        precomputed = config_for(precomputed_path, tables, recommendations={"missing": missing})
        load(rendered_path, catalog, None)
        load(precomputed_path, catalog, precomputed)
        for path in (rendered_path, precomputed_path):
            add_damaged_row(path)
        store = SqliteItemStore(precomputed_path)
        served = store.get_precomputed([f"item-{n}" for n in range(12)], attributes_fingerprint(precomputed.attributes))
        store.close()
        assert all(isinstance(answer, Precomputed) for answer in served.values())  # the path under test is taken
        assert responses(precomputed, ids) == responses(rendered, ids)


@SETTINGS
@given(catalog=items(), loaded_with=attribute_tables(), running=attribute_tables())
def test_a_changed_configuration_never_gets_the_stored_values(
    catalog: list[dict[str, Any]], loaded_with: dict[str, dict[str, Any]], running: dict[str, dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        plain_path, stored_path = Path(directory, "plain.db"), Path(directory, "stored.db")
        load(plain_path, catalog, None)
        load(stored_path, catalog, config_for(stored_path, loaded_with))
        running_on_stored = config_for(stored_path, running)
        same = attributes_fingerprint(running_on_stored.attributes) == attributes_fingerprint(
            config_for(stored_path, loaded_with).attributes
        )
        assert same == (
            [
                (name, spec.get("field"), spec.get("template"), spec.get("default"), spec.get("max_length"))
                for name, spec in loaded_with.items()
            ]
            == [
                (name, spec.get("field"), spec.get("template"), spec.get("default"), spec.get("max_length"))
                for name, spec in running.items()
            ]
        )
        store = SqliteItemStore(stored_path)
        answers = store.get_precomputed(["item-0", "item-1"], attributes_fingerprint(running_on_stored.attributes))
        store.close()
        assert any(isinstance(answer, Precomputed) for answer in answers.values()) == same
        assert responses(running_on_stored, ALL_IDS) == responses(config_for(plain_path, running), ALL_IDS)


def test_the_fingerprint_covers_every_value_setting_and_not_the_display_name(tmp_path: Path) -> None:
    base = {"Title": {"field": "name", "default": "x", "max_length": 5, "display_name": "Title"}}
    variants = [
        {"Title": {"field": "title", "default": "x", "max_length": 5}},
        {"Title": {"field": "name", "default": "y", "max_length": 5}},
        {"Title": {"field": "name", "default": "x", "max_length": 6}},
        {"Title": {"field": "name", "default": "x"}},
        {"Name": {"field": "name", "default": "x", "max_length": 5}},
        {"Title": {"template": "{{ item.name }}", "default": "x", "max_length": 5}},
    ]
    fingerprint = attributes_fingerprint(config_for(tmp_path, base).attributes)
    renamed = {"Title": {**base["Title"], "display_name": "Other"}}
    assert attributes_fingerprint(config_for(tmp_path, renamed).attributes) == fingerprint
    others = {attributes_fingerprint(config_for(tmp_path, variant).attributes) for variant in variants}
    assert fingerprint not in others and len(others) == len(variants)
    two = {"A": {"field": "a"}, "B": {"field": "b"}}
    swapped = {"B": {"field": "b"}, "A": {"field": "a"}}
    assert attributes_fingerprint(config_for(tmp_path, two).attributes) != attributes_fingerprint(
        config_for(tmp_path, swapped).attributes
    )


@given(st.lists(st.none() | st.lists(st.text(), max_size=4).map(tuple), max_size=6))
def test_values_round_trip_one_by_one_and_all_at_once(values: list[tuple[str, ...] | None]) -> None:
    texts = [encode_values(value) for value in values]
    assert all(text.isascii() for text in texts)
    assert [decode_values(text) for text in texts] == [Precomputed(value) for value in values]
    rows = [(f"id-{index}", text) for index, text in enumerate(texts)]
    assert decode_many(rows) == {item_id: Precomputed(value) for (item_id, _), value in zip(rows, values, strict=True)}


@pytest.mark.parametrize("stored", ["[1]", "{}", "not json", '["a"],["b"]', '"a"', b'["a"]', None, '["a", 2]'])
def test_stored_values_that_are_not_what_a_load_writes_are_ignored(stored: object) -> None:
    assert decode_values(stored) is None
    assert decode_many([("good", '["x"]'), ("bad", stored)]) == {"good": Precomputed(("x",))}  # type: ignore[list-item]


def test_a_catalog_whose_stored_values_are_unreadable_renders_instead(tmp_path: Path) -> None:
    catalog = [{"id": "a", "name": "Alpha"}, {"id": "b", "name": "Beta"}]
    config = config_for(tmp_path / "c.db", {"Title": {"field": "name"}})
    load(tmp_path / "c.db", catalog, config)
    with sqlite3.connect(tmp_path / "c.db") as connection:
        connection.execute("UPDATE attribute_values SET vals = '[3]' WHERE id = 'a'")
        connection.execute("UPDATE attribute_values SET vals = '[\"Stale\", \"extra\"]' WHERE id = 'b'")
    connection.close()
    transformer = Transformer(config)
    response = transformer.handle({"Endpoints": {"e": {"RecommendationItems": ["a", "b"]}}})
    assert response["e"]["Recommendations"] == {"Title": ["Alpha"]}  # b's stored values do not fit: damaged
    assert transformer.last is not None and {
        str(k): v for k, v in transformer.last.items_missing_by_reason.items()
    } == {"damaged": 1}


def test_a_merge_computes_the_values_of_the_items_it_keeps(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    config = config_for(path, {"Title": {"field": "name", "max_length": 3}})
    load(path, [{"id": "a", "name": "Alpha"}, {"id": "b", "name": "Beta"}], None)
    load(path, [{"id": "b", "name": "Bravo"}, {"id": "c", "name": "Charlie"}], config, merge=True)
    store = SqliteItemStore(path)
    answers = store.get_precomputed(["a", "b", "c"], attributes_fingerprint(config.attributes))
    store.close()
    assert answers == {"a": Precomputed(("Alp",)), "b": Precomputed(("Bra",)), "c": Precomputed(("Cha",))}


def test_a_catalog_loaded_without_the_tables_is_read_by_document(tmp_path: Path) -> None:
    path = load(tmp_path / "c.db", [{"id": "a", "name": "Alpha"}], None)
    store = SqliteItemStore(path)
    assert store.get_precomputed(["a", "zz"], "any") == {"a": {"id": "a", "name": "Alpha"}}
    store.close()


# --- DynamoDB (moto on loopback) -----------------------------------------------------------------------------------

DYNAMODB_SETTINGS = settings(
    SETTINGS,
    max_examples=12,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
dynamodb_value = st.one_of(
    text,
    st.integers(-(10**20), 10**20),
    st.floats(-1e20, 1e20).filter(lambda number: number == 0 or abs(number) > 1e-100),
    st.sampled_from([1e20, 5.0, 2.5, 19.99, -0.0]),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
)


@st.composite
def dynamodb_items(draw: st.DrawFn, count: int = 8) -> list[dict[str, Any]]:
    return [
        {
            "id": f"item-{index}",
            **{f: draw(dynamodb_value) for f in ("name", "price", "description") if draw(st.booleans())},
        }
        for index in range(count)
    ]


def dynamodb_config(endpoint: str, table: str, tables: dict[str, dict[str, Any]]) -> PinrecConfig:
    store = {"kind": "dynamodb", "table": table, "region": REGION, "endpoint_url": endpoint}
    return parse_config({"store": store, "attributes": tables}, base_dir=Path("."))


def dynamodb_load(endpoint: str, catalog: list[dict[str, Any]], config: PinrecConfig | None) -> str:
    table = create_table(endpoint)
    lines = [json.dumps(item, ensure_ascii=False) for item in catalog]
    projection = LoadProjection(config.attributes) if config is not None else None
    loader = DynamoDbLoader(
        loader_client(AwsOptions(region=REGION, endpoint_url=endpoint)), table, "id", attributes=projection
    )
    loader.load(read_jsonl(lines, "id"))
    return table


@DYNAMODB_SETTINGS
@given(catalog=dynamodb_items(), tables=attribute_tables(), running=attribute_tables())
def test_dynamodb_precomputed_values_answer_as_rendering_and_only_for_their_configuration(
    aws: str,  # noqa: F811
    catalog: list[dict[str, Any]],
    tables: dict[str, dict[str, Any]],
    running: dict[str, dict[str, Any]],
) -> None:
    ids = [*ALL_IDS[:8], "unknown", "", 7]
    plain_table = dynamodb_load(aws, catalog, None)
    stored_table = dynamodb_load(aws, catalog, dynamodb_config(aws, "placeholder", tables))
    precomputed = dynamodb_config(aws, stored_table, tables)
    store = precomputed.store.open_store()
    served = store.get_precomputed(["item-0", "item-1"], attributes_fingerprint(precomputed.attributes))  # type: ignore[attr-defined]
    store.close()
    assert served and all(isinstance(answer, Precomputed) for answer in served.values())
    assert responses(precomputed, ids) == responses(dynamodb_config(aws, plain_table, tables), ids)
    changed = dynamodb_config(aws, stored_table, running)
    assert responses(changed, ids) == responses(dynamodb_config(aws, plain_table, running), ids)


def test_dynamodb_documents_never_show_the_stored_values(aws: str) -> None:  # noqa: F811
    config = dynamodb_config(aws, "placeholder", {"Title": {"field": "name"}})
    table = dynamodb_load(aws, [{"id": "a", "name": "Alpha"}], config)
    store = dynamodb_config(aws, table, {"Title": {"field": "name"}}).store.open_store()
    assert store.get_many(["a"]) == {"a": {"id": "a", "name": "Alpha"}}
    assert store.get_precomputed(["a"], "another configuration") == {"a": {"id": "a", "name": "Alpha"}}  # type: ignore[attr-defined]
    store.close()
    with pytest.raises(InvalidRecord, match="_pinrec_values"):
        dynamodb_load(aws, [{"id": "b", "_pinrec_values": "[]"}], None)


def test_dynamodb_values_are_computed_from_the_item_as_the_reader_decodes_it(aws: str) -> None:  # noqa: F811
    """1e20 goes in as Decimal('1E+20') and comes back an integer, which renders differently from the float."""
    tables = {"Price": {"field": "price"}, "Ratio": {"template": "{{ item.price / 3 }}"}}
    catalog = [{"id": "big", "price": 1e20}, {"id": "five", "price": 5.0}, {"id": "cents", "price": 19.99}]
    plain_table = dynamodb_load(aws, catalog, None)
    stored_table = dynamodb_load(aws, catalog, dynamodb_config(aws, "placeholder", tables))
    ids: list[object] = ["big", "five", "cents"]
    expected = responses(dynamodb_config(aws, plain_table, tables), ids)
    assert '"100000000000000000000"' in expected[0][0]
    assert responses(dynamodb_config(aws, stored_table, tables), ids) == expected
