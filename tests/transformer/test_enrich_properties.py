"""Property tests: on any event, the response keeps Pinpoint's contract and never invents a value."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import config_for, write_catalog
from transformer.items import is_item_id
from transformer.service import Transformer

KNOWN = [f"item-{index}" for index in range(12)] + ["ünï-çødé", "🛶 canoe", "id with spaces"]
CATALOG = {
    item_id: {"id": item_id, "name": f"Name of {item_id}", "price": index * 1.5, "tag": f"<t{index}>"}
    for index, item_id in enumerate(KNOWN)
}
CATALOG["item-3"].pop("price")  # Price falls back to its default for this one
CATALOG["item-4"].pop("name")  # Title has no default: item-4 is unusable, so it counts as missing

ATTRIBUTES = {
    "Title": {"field": "name"},
    "Price": {"template": "{{ '%.2f' | format(item.price) }}", "default": "?"},
    "ItemId": {"field": "id"},
    "Tag": {"field": "tag", "max_length": 3},
}


def expected_values(item_id: object, *, fill: bool = False) -> tuple[str, ...] | None:
    """The attribute values for an id; with fill, every attribute has a default, so item-4 gets Title ''."""
    if not isinstance(item_id, str) or item_id not in CATALOG:
        return None
    item = CATALOG[item_id]
    if "name" not in item and not fill:
        return None
    price = f"{item['price']:.2f}" if "price" in item else "?"
    return (item.get("name", ""), price, item["id"], item["tag"][:3])


item_ids = st.one_of(
    st.sampled_from(KNOWN),
    st.text(max_size=12),
    st.integers(),
    st.none(),
    st.floats(allow_nan=False),
    st.lists(st.text(max_size=3), max_size=2),
)
recommendation_items = st.one_of(
    st.lists(item_ids, min_size=0, max_size=8),
    st.just([]),
    st.text(max_size=5),
    st.integers(),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)
endpoint = st.one_of(
    st.fixed_dictionaries(
        {
            "ChannelType": st.sampled_from(["EMAIL", "SMS", "GCM", "APNS"]),
            "Address": st.emails(),
            "User": st.fixed_dictionaries(
                {
                    "UserId": st.text(max_size=10),
                    "UserAttributes": st.dictionaries(st.text(max_size=5), st.lists(st.text())),
                }
            ),
        },
        optional={
            "RecommendationItems": recommendation_items,
            "Recommendations": st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
            "Attributes": st.dictionaries(st.text(max_size=5), st.lists(st.text(max_size=5), max_size=2)),
        },
    ),
    st.integers(),
    st.text(max_size=4),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
events = st.fixed_dictionaries(
    {"Endpoints": st.dictionaries(st.text(min_size=1, max_size=16), endpoint, max_size=60)},
    optional={"ApplicationId": st.text(max_size=8), "Unexpected": st.integers()},
)


@pytest.fixture(scope="module")
def catalog_path(tmp_path_factory):
    return write_catalog(tmp_path_factory.mktemp("catalog") / "catalog.db", CATALOG.values())


def _check_contract(event: dict[str, Any], response: dict[str, Any], *, min_items: int, fill: bool) -> None:
    endpoints = event["Endpoints"]
    assert set(response) <= set(endpoints)
    for endpoint_id, source in endpoints.items():
        items = source.get("RecommendationItems") if isinstance(source, dict) else None
        usable = isinstance(items, list) and len(items) > 0
        rows = [expected_values(item_id, fill=fill) for item_id in items] if usable else []
        resolved = [row for row in rows if row is not None]
        should_send = usable and len(resolved) >= min_items
        assert (endpoint_id in response) == should_send, endpoint_id
        if not should_send:
            continue
        returned = response[endpoint_id]
        assert {k: v for k, v in returned.items() if k != "Recommendations"} == {
            k: v for k, v in source.items() if k != "Recommendations"
        }
        recommendations = returned["Recommendations"]
        assert list(recommendations) == list(ATTRIBUTES)
        fill_row = ("", "?", "", "") if fill else None
        expected_rows = [row if row is not None else fill_row for row in rows]
        expected_rows = [row for row in expected_rows if row is not None]
        for index, name in enumerate(ATTRIBUTES):
            values = recommendations[name]
            assert isinstance(values, list)
            assert all(isinstance(value, str) for value in values)
            assert values == [row[index] for row in expected_rows]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events, min_items=st.integers(min_value=1, max_value=5))
def test_drop_policy_contract(catalog_path, event, min_items):
    config = config_for(catalog_path, ATTRIBUTES, recommendations={"min_items": min_items})
    original = copy.deepcopy(event)
    response = Transformer(config).handle(event)
    assert event == original
    _check_contract(event, response, min_items=min_items, fill=False)


FILL_ATTRIBUTES = {name: {**spec, "default": spec.get("default", "")} for name, spec in ATTRIBUTES.items()}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events, min_items=st.integers(min_value=1, max_value=5))
def test_fill_policy_keeps_every_slot_aligned(catalog_path, event, min_items):
    config = config_for(catalog_path, FILL_ATTRIBUTES, recommendations={"min_items": min_items, "missing": "fill"})
    response = Transformer(config).handle(event)
    _check_contract(event, response, min_items=min_items, fill=True)
    for endpoint_id, returned in response.items():
        length = len(event["Endpoints"][endpoint_id]["RecommendationItems"])
        assert all(len(values) == length for values in returned["Recommendations"].values())


@settings(max_examples=60, deadline=None)
@given(event=events)
def test_one_deduplicated_lookup_per_batch(catalog_path, event):
    config = config_for(catalog_path, ATTRIBUTES, cache={"ttl_seconds": 0})
    transformer = Transformer(config)
    calls: list[list[str]] = []
    real = transformer.store.get_many

    def counting(ids, *, deadline=None):
        calls.append(list(ids))
        return real(ids, deadline=deadline)

    transformer.store.get_many = counting  # type: ignore[method-assign]
    transformer.handle(event)
    wanted = {
        item
        for endpoint in event["Endpoints"].values()
        if isinstance(endpoint, dict) and isinstance(endpoint.get("RecommendationItems"), list)
        for item in endpoint["RecommendationItems"]
        if is_item_id(item)
    }
    assert len(calls) == (1 if wanted else 0)
    if calls:
        assert len(calls[0]) == len(set(calls[0])) == len(wanted)
        assert set(calls[0]) == wanted
