"""The Lambda handler as Lambda runs it: cold-start import, logs and metrics, errors, warm cache."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.demo import copy_demo_files
from campaign_tools.local_lambda import invoke
from tests.conftest import config_for, write_catalog
from tests.fakes import FakeClock
from transformer.errors import CatalogUnavailableError, InvalidEventError
from transformer.service import Transformer


@pytest.fixture
def demo_dir(tmp_path: Path, sample_items) -> Path:
    copy_demo_files(tmp_path)
    write_catalog(tmp_path / "catalog.db", sample_items)
    return tmp_path


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values()), *(_strings(k) for k in value)) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


def test_logs_and_metrics_carry_no_personal_or_recommended_data(demo_dir, sample_event):
    log = io.StringIO()
    response, _ = invoke(sample_event, demo_dir / "pinrec.toml", log=log)
    output = log.getvalue()
    assert "batch enriched" in output

    endpoints = sample_event["Endpoints"]
    sensitive = {endpoint["Address"] for endpoint in endpoints.values()}
    sensitive |= _strings([endpoint["User"] for endpoint in endpoints.values()])
    sensitive |= _strings([endpoint.get("Attributes") for endpoint in endpoints.values()])
    sensitive |= _strings([endpoint.get("RecommendationItems") for endpoint in endpoints.values()])
    sensitive |= _strings([endpoint["Recommendations"] for endpoint in response.values()])
    sensitive |= set(endpoints)  # endpoint ids identify people too
    sensitive = {value for value in sensitive if len(value) >= 3}
    assert len(sensitive) > 40
    leaked = sorted(value for value in sensitive if value in output)
    assert leaked == []


def test_invoke_imports_the_deployed_handler_module(demo_dir, sample_event):
    _, module = invoke(sample_event, demo_dir / "pinrec.toml", log=io.StringIO())
    assert module.__name__ == "handlers.transformer"


def test_log_line_and_metrics_count_the_batch(demo_dir, sample_event):
    log = io.StringIO()
    invoke(sample_event, demo_dir / "pinrec.toml", log=log)
    records = [json.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    batch = next(record for record in records if record.get("message") == "batch enriched")
    assert batch["endpoints_in"] == 6
    assert batch["endpoints_out"] == 4
    assert batch["left_out"] == {"too_few_items": 1, "no_items": 1}
    assert batch["items_missing"] == 3
    metrics = next(record for record in records if "EndpointsIn" in record)
    assert metrics["EndpointsIn"] == [6.0]
    assert metrics["EndpointsOut"] == [4.0]
    assert metrics["EndpointsLeftOutTooFewItems"] == [1.0]
    assert metrics["EndpointsLeftOutNoItems"] == [1.0]
    assert metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "pinrec"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([], "event must be a JSON object, got list"),
        ({}, "event 'Endpoints' must be a JSON object, got missing"),
        ({"Endpoints": ["a"]}, "event 'Endpoints' must be a JSON object, got a list"),
        ({"Endpoints": None}, "got missing"),
    ],
)
def test_malformed_event_raises_so_pinpoint_retries(demo_dir, event, message):
    with pytest.raises(InvalidEventError, match=message):
        invoke(event, demo_dir / "pinrec.toml", log=io.StringIO())


def test_more_than_fifty_endpoints_is_tolerated_and_warned(demo_dir):
    event = {"Endpoints": {f"ep-{index}": {"RecommendationItems": ["P1001"]} for index in range(60)}}
    log = io.StringIO()
    response, _ = invoke(event, demo_dir / "pinrec.toml", log=log)
    assert len(response) == 60
    assert "more endpoints than Pinpoint sends in one invocation" in log.getvalue()


def test_empty_endpoints_map_returns_empty_map(demo_dir):
    response, _ = invoke({"Endpoints": {}}, demo_dir / "pinrec.toml", log=io.StringIO())
    assert response == {}


class CountingStore:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []
        self.fail = False

    def get_many(self, ids, *, deadline=None):
        self.calls.append(sorted(ids))
        if self.fail:
            raise CatalogUnavailableError("store down")
        return self.inner.get_many(ids, deadline=deadline)

    def close(self) -> None:
        self.inner.close()


def _transformer(tmp_path, sample_items, **sections):
    from transformer.stores.sqlite import SqliteItemStore

    catalog = write_catalog(tmp_path / "c.db", sample_items)
    config = config_for(catalog, {"Title": {"field": "name"}}, **sections)
    clock = FakeClock()
    store = CountingStore(SqliteItemStore(catalog))
    return Transformer(config, store=store, clock=clock), store, clock


EVENT = {
    "Endpoints": {"a": {"RecommendationItems": ["P1001", "P1002", "nope"]}, "b": {"RecommendationItems": ["P1002"]}}
}


def test_warm_invocations_answer_from_the_cache_until_the_ttl(tmp_path, sample_items):
    transformer, store, clock = _transformer(tmp_path, sample_items, cache={"ttl_seconds": 60, "max_items": 100})
    first = transformer.handle(EVENT)
    assert store.calls == [["P1001", "P1002", "nope"]]
    assert transformer.handle(EVENT) == first
    assert len(store.calls) == 1, "unknown ids are cached too, so a warm batch makes no lookup"
    assert transformer.resolver.last.cache_hits == 3
    clock.now += 61
    assert transformer.handle(EVENT) == first
    assert len(store.calls) == 2


def test_cache_is_bounded(tmp_path, sample_items):
    transformer, _, _ = _transformer(tmp_path, sample_items, cache={"ttl_seconds": 60, "max_items": 2})
    transformer.handle(EVENT)
    assert len(transformer.cache) == 2


def test_disabled_cache_looks_up_every_time(tmp_path, sample_items):
    transformer, store, _ = _transformer(tmp_path, sample_items, cache={"ttl_seconds": 0})
    transformer.handle(EVENT)
    transformer.handle(EVENT)
    assert len(store.calls) == 2
    assert len(transformer.cache) == 0


def test_store_failure_serves_stale_values_or_raises(tmp_path, sample_items):
    transformer, store, clock = _transformer(tmp_path, sample_items, cache={"ttl_seconds": 60, "max_items": 100})
    first = transformer.handle(EVENT)
    clock.now += 120
    store.fail = True
    assert transformer.handle(EVENT) == first
    assert transformer.resolver.last.stale_served == 3
    with pytest.raises(CatalogUnavailableError):
        transformer.handle({"Endpoints": {"c": {"RecommendationItems": ["P1001", "P1009"]}}})
