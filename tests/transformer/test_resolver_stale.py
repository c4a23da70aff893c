"""Stale-if-error through the whole transformer: a failing DynamoDB store, with and without a cached answer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeClock
from tests.transformer.stores.test_dynamodb import answer, request_for, stubbed_store
from transformer.config import parse_config
from transformer.errors import CatalogUnavailableError
from transformer.service import Transformer

TTL = 60.0


def transformer_with_stubbed_dynamodb(tmp_path: Any) -> tuple[Transformer, Any, FakeClock]:
    clock = FakeClock()
    store, stubber = stubbed_store(clock)
    config = parse_config(
        {
            "store": {"kind": "dynamodb", "table": "items"},
            "cache": {"ttl_seconds": TTL, "max_items": 100},
            "attributes": {"Price": {"field": "price"}},
        },
        base_dir=tmp_path,
    )
    return Transformer(config, store=store, clock=clock), stubber, clock


def event(*item_lists: list[str]) -> dict[str, Any]:
    return {"Endpoints": {f"e{n}": {"RecommendationItems": items} for n, items in enumerate(item_lists)}}


def throttle_forever(stubber: Any) -> None:
    for _ in range(200):
        stubber.add_client_error("batch_get_item", service_error_code="ProvisionedThroughputExceededException")


def test_expired_entries_are_served_when_the_store_is_down(tmp_path: Any) -> None:
    transformer, stubber, clock = transformer_with_stubbed_dynamodb(tmp_path)
    with stubber:
        stubber.add_response("batch_get_item", answer(["a", "b"]), request_for(["a", "b"]))
        first = transformer.handle(event(["a", "b"]))
        clock.now += TTL + 1  # both entries are now past their TTL
        throttle_forever(stubber)
        second = transformer.handle(event(["a", "b"]))
    assert second == first
    assert second["e0"]["Recommendations"] == {"Price": ["19.99", "19.99"]}
    stats = transformer.resolver.last
    assert stats.store_failed
    assert stats.stale_served == 2
    assert stats.cache_hits == 0
    assert len(clock.slept) > 3  # the store kept retrying within the budget before giving up


def test_a_batch_with_an_uncached_id_raises_rather_than_returning_part_of_it(tmp_path: Any) -> None:
    transformer, stubber, clock = transformer_with_stubbed_dynamodb(tmp_path)
    with stubber:
        stubber.add_response("batch_get_item", answer(["a"]), request_for(["a"]))
        transformer.handle(event(["a"]))
        clock.now += TTL + 1
        throttle_forever(stubber)
        with pytest.raises(CatalogUnavailableError):
            transformer.handle(event(["a"], ["c"]))  # 'a' could be served stale, 'c' cannot: no endpoint returned


def test_a_cold_container_with_the_store_down_raises(tmp_path: Any) -> None:
    transformer, stubber, _ = transformer_with_stubbed_dynamodb(tmp_path)
    with stubber:
        stubber.add_client_error("batch_get_item", service_error_code="ResourceNotFoundException")
        with pytest.raises(CatalogUnavailableError, match="ResourceNotFoundException"):
            transformer.handle(event(["a", "b"]))


def test_fresh_entries_never_reach_the_store(tmp_path: Any) -> None:
    transformer, stubber, clock = transformer_with_stubbed_dynamodb(tmp_path)
    with stubber:
        stubber.add_response("batch_get_item", answer(["a", "b"]), request_for(["a", "b"]))
        transformer.handle(event(["a", "b"]))
        clock.now += TTL / 2
        transformer.handle(event(["b"], ["a"]))  # a second call would find no stubbed response and fail
        stubber.assert_no_pending_responses()
    assert transformer.resolver.last.cache_hits == 2
    assert transformer.store.calls == 1  # type: ignore[attr-defined]


def test_unknown_ids_are_cached_as_absent_and_mixed_batches_fetch_only_the_rest(tmp_path: Any) -> None:
    transformer, stubber, _ = transformer_with_stubbed_dynamodb(tmp_path)
    with stubber:
        stubber.add_response("batch_get_item", answer(["a"]), request_for(["a", "ghost"]))
        transformer.handle(event(["a", "ghost"]))
        stubber.add_response("batch_get_item", answer(["n"]), request_for(["n"]))
        response = transformer.handle(event(["ghost", "a", "n"]))
        stubber.assert_no_pending_responses()
    assert response["e0"]["Recommendations"] == {"Price": ["19.99", "19.99"]}
