"""`enrich` takes a whole-batch path when every endpoint is well formed and every item resolves; it must give exactly
what the per-endpoint path gives, on any batch."""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from transformer.enrich import Enrichment, Policy, _all_known, _each_endpoint, _well_formed, collect_item_ids, enrich
from transformer.items import ItemReason

NAMES = ("Title", "Price", "Url")
KNOWN = {f"item-{index}": (f"Name {index}", f"{index}.50", f"https://example.com/{index}") for index in range(8)}
VALUES: dict[str, tuple[str, ...] | ItemReason] = {
    **KNOWN,
    "gone": ItemReason.NOT_IN_CATALOG,
    "broken": ItemReason.DAMAGED,
    "": ItemReason.INVALID_ID,
    "short": ("only one value",),  # a row of the wrong length: zip(strict=True) fails it on the per-endpoint path
}

known_id = st.sampled_from(sorted(KNOWN))
any_id = st.one_of(known_id, st.sampled_from(sorted(set(VALUES) - set(KNOWN))), st.text(max_size=4), st.integers())
well_formed_endpoint = st.fixed_dictionaries(
    {"ChannelType": st.sampled_from(["EMAIL", "SMS"]), "RecommendationItems": st.lists(known_id, min_size=1)},
    optional={
        "Address": st.emails(),
        "Recommendations": st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
        "Attributes": st.dictionaries(st.text(max_size=4), st.lists(st.text(max_size=4), max_size=2)),
    },
)
any_endpoint = st.one_of(
    well_formed_endpoint,
    st.fixed_dictionaries({"RecommendationItems": st.lists(any_id, max_size=6)}),
    st.fixed_dictionaries({"RecommendationItems": st.one_of(st.none(), st.text(max_size=3), st.integers())}),
    st.fixed_dictionaries({"Address": st.text(max_size=5)}),
    st.none(),
    st.integers(),
    st.lists(st.integers(), max_size=2),
)
policies = st.builds(
    Policy,
    attribute_names=st.just(NAMES),
    min_items=st.integers(min_value=1, max_value=4),
    missing=st.sampled_from(["drop", "fill"]),
    fill_values=st.just(("-", "-", "-")),
)


def per_endpoint(endpoints: dict[str, Any], policy: Policy) -> Enrichment:
    ids = list(dict.fromkeys(item for body in endpoints.values() for item in _ids(body) if isinstance(item, str)))
    return _each_endpoint(endpoints, resolve(ids), policy, len(ids))


def _ids(body: object) -> list[object]:
    items = body.get("RecommendationItems") if isinstance(body, dict) else None
    return items if isinstance(items, list) else []


def resolve(ids: Collection[str]) -> dict[str, tuple[str, ...] | ItemReason]:
    return {item: VALUES[item] for item in ids if item in VALUES}


@given(st.dictionaries(st.text(min_size=1, max_size=6), well_formed_endpoint, min_size=1, max_size=12), policies)
def test_a_well_formed_batch_of_known_items_takes_the_whole_batch_path_and_gives_the_same(
    endpoints: dict[str, Any], policy: Policy
) -> None:
    batch = _well_formed(endpoints)
    assert batch is not None
    ids = batch.unique_ids
    assert ids == collect_item_ids(endpoints)
    fast = _all_known(endpoints, batch, resolve(ids), policy)
    enough = all(len(body["RecommendationItems"]) >= policy.min_items for body in endpoints.values())
    assert (fast is not None) == enough
    assert enrich(endpoints, resolve, policy) == per_endpoint(endpoints, policy)


@given(st.dictionaries(st.text(min_size=1, max_size=6), any_endpoint, max_size=12), policies)
def test_any_batch_gives_what_the_per_endpoint_path_gives(endpoints: dict[str, Any], policy: Policy) -> None:
    before = copy.deepcopy(endpoints)
    assert enrich(endpoints, resolve, policy) == per_endpoint(endpoints, policy)
    assert endpoints == before


def test_an_unknown_item_a_short_row_or_too_few_items_leave_the_batch_to_the_per_endpoint_path() -> None:
    policy = Policy(attribute_names=NAMES, min_items=2)
    for odd in (["item-1", "gone"], ["item-1", "short"], ["item-1"]):
        endpoints = {"a": {"RecommendationItems": ["item-0", "item-2"]}, "b": {"RecommendationItems": odd}}
        batch = _well_formed(endpoints)
        assert batch is not None
        assert _all_known(endpoints, batch, resolve(["item-0", "item-1", "item-2", *odd]), policy) is None
        assert enrich(endpoints, resolve, policy) == per_endpoint(endpoints, policy)


def test_the_whole_batch_path_replaces_recommendations_in_place_and_copies_each_endpoint() -> None:
    endpoint = {"Recommendations": {"old": "x"}, "RecommendationItems": ["item-1", "item-0"], "User": {"UserId": "u"}}
    endpoints = {"e1": endpoint}
    result = enrich(endpoints, resolve, Policy(attribute_names=NAMES))
    assert list(result.response["e1"]) == ["Recommendations", "RecommendationItems", "User"]
    assert result.response["e1"]["Recommendations"] == {
        "Title": ["Name 1", "Name 0"],
        "Price": ["1.50", "0.50"],
        "Url": ["https://example.com/1", "https://example.com/0"],
    }
    assert result.response["e1"] is not endpoint
    assert endpoint["Recommendations"] == {"old": "x"}
    assert (result.items_requested, result.items_resolved, result.unique_ids) == (2, 2, 2)
