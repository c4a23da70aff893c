"""One bad endpoint affects only itself: whole generated events mixing valid and hostile endpoints (any JSON value in
any field, lone surrogates, NUL, 100,000 characters, deep nesting, endpoints that raise), through the transformer as
the Lambda runs it (`Transformer.handle`), in items mode and offers mode, over a real SQLite catalog (with damaged
rows) and over DynamoDB on the moto server. On every event: only the documented exception (a malformed event shape),
every returned endpoint is its input plus `Recommendations` (flat lists of strings, never an invented value), every
valid endpoint goes out, and every endpoint left out is counted with its reason in the metrics.

20,000 events in all (derandomized, so CI runs the same ones): the SQLite share is larger, moto answers slower."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import write_catalog
from tests.hostile import RaisingMapping, hostile_events, seeds
from transformer.config import parse_config
from transformer.enrich import LeftOut
from transformer.errors import InvalidEventError
from transformer.items import ItemReason
from transformer.observability import emf, logger
from transformer.offers.engine import build_offer_engine
from transformer.service import Transformer
from transformer.stores.sqlite import SqliteItemStore

ARN = "arn:aws:personalize:us-east-1:123456789012:campaign/offers"

# --- items mode ----------------------------------------------------------------------------------------------------

ITEMS = {
    "P1": {"name": "Trail boot", "price": 89.5, "label": "new", "times": 2},
    "P2": {"name": "Tent", "price": 240, "label": "", "times": 1},
    "P3": {"name": "Stove", "label": "hot", "times": 3},
    "a\x00b": {"name": "NUL inside the id", "price": 1, "label": "n", "times": 1},
    "x" * 100: {"name": "An id of exactly 100 characters", "price": 2, "label": "l", "times": 1},
    "🛶 canoe": {"name": "Canoe", "price": 999.99, "label": "🛶", "times": 2},
    " ": {"name": "A space", "price": 0, "label": "s", "times": 1},
    "P-bomb": {"name": "Template bomb", "price": 5, "label": "ab", "times": 10**9},
    "P-no-title": {"price": 3, "label": "t", "times": 1},
}
DAMAGED_ROWS = {"P-broken-json": b'{"name": "Bro', "P-list": b"[1, 2]", "P-not-utf8": b'{"name": "\xff\xfe"}'}
"""Rows written straight into the SQLite file: the catalog holds the id, the document cannot be read."""

ITEM_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "Title": {"field": "name"},
    "Price": {"template": "{{ '%.2f' | format(item.price) }}", "default": "?"},
    "ItemId": {"field": "id"},
    "Label": {"template": "{{ item.label * item.times }}", "default": "-"},
}
FILL_ATTRIBUTES = {
    **ITEM_ATTRIBUTES,
    "Title": {"field": "name", "default": ""},
    "ItemId": {"field": "id", "default": ""},
}


def _row(item_id: str, *, fill: bool) -> tuple[str, ...] | None:
    item = ITEMS.get(item_id)
    if item is None or ("name" not in item and not fill):
        return None
    price = f"{item['price']:.2f}" if "price" in item else "?"
    label = "-" if item["times"] > 1000 else item["label"] * item["times"]
    return (item.get("name", ""), price, item_id, label)


FILL_ROW = ("", "?", "", "-")
ITEM_POOL = [*ITEMS, *DAMAGED_ROWS, "not-in-catalog"]


def _items_oracle(*, fill: bool) -> Callable[[Any, dict[str, Any]], None]:
    def check(items: list[Any], recommendations: dict[str, Any]) -> None:
        rows = [_row(entry, fill=fill) if isinstance(entry, str) else None for entry in items]
        expected = [row if row is not None else FILL_ROW for row in rows] if fill else [r for r in rows if r]
        assert list(recommendations) == list(ITEM_ATTRIBUTES)
        for index, name in enumerate(ITEM_ATTRIBUTES):
            assert recommendations[name] == [row[index] for row in expected]

    return check


def _items_must_go_out(items: list[Any], *, fill: bool) -> bool:
    return any(isinstance(entry, str) and _row(entry, fill=fill) is not None for entry in items)


# --- offers mode ---------------------------------------------------------------------------------------------------


def _offer(code: str, **fields: Any) -> dict[str, Any]:
    return {"title": f"Offer {code}", "description": "Save now", "code": code, "preference": 1.0, **fields}


OFFERS = {
    "O1": _offer("TEN"),
    "O2": _offer("TWENTY", preference=2.0, expires_at="9999-12-31T23:59:59-01:00"),
    "O3": _offer("FREESHIP", preference=0.5),
    "O\x00nul": _offer("NUL"),
    "O-sms": _offer("SMSONLY", channels=["SMS"]),
    "O-expired": _offer("OLD", expires_at="2000-01-01T00:00:00Z"),
    "O-future": _offer("LATER", starts_at="9000-01-01T00:00:00+14:00"),
    "O-no-code": {"title": "No code", "description": "d", "preference": 1.0},
}
ALWAYS_ELIGIBLE = {"O1", "O2", "O3", "O\x00nul"}
OFFER_POOL = [*OFFERS, *DAMAGED_ROWS, "not-an-offer"]
OFFER_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "OfferTitle": {"field": "title"},
    "OfferCode": {"field": "code"},
    "OfferExpiry": {"template": "{{ item.expires_at[:10] }}", "default": ""},
}
OFFERS_SECTION = {"catalog": "store", "scoring": "rank", "exploration": 0.1, "per_endpoint": 2}


def _offers_oracle(items: list[Any], recommendations: dict[str, Any]) -> None:
    assert list(recommendations) == [*OFFER_ATTRIBUTES, "OfferScore"]
    offered = {OFFERS[entry].get("code") for entry in items if isinstance(entry, str) and entry in OFFERS}
    codes = recommendations["OfferCode"]
    assert 1 <= len(codes) <= 2
    assert set(codes) <= offered, "an offer code the endpoint's items do not name was invented"
    assert all(len(values) == len(codes) for values in recommendations.values())


def _offers_must_go_out(endpoint_id: str, endpoint: dict[str, Any], items: list[Any]) -> bool:
    return any(isinstance(entry, str) and entry in ALWAYS_ELIGIBLE for entry in items)


# --- the contract --------------------------------------------------------------------------------------------------

LEFT_OUT_METRICS = {reason: "EndpointsLeftOut" + reason.value.title().replace("_", "") for reason in LeftOut}
ITEM_METRICS = {reason: "ItemsMissing" + reason.value.title().replace("_", "") for reason in ItemReason}


def run_and_check(
    transformer: Transformer,
    event: Any,
    oracle: Callable[[list[Any], dict[str, Any]], None],
    must_go_out: Callable[[str, dict[str, Any], list[Any]], bool],
) -> None:
    """Run one event and check the contract; `must_go_out(endpoint id, endpoint, its items)` names the endpoints
    that must be sent, `oracle(items, Recommendations)` checks what one that went out holds."""
    shape_ok = isinstance(event, dict) and isinstance(event.get("Endpoints"), dict)
    if not shape_ok:
        with pytest.raises(InvalidEventError):
            transformer.handle(event)
        return
    endpoints = event["Endpoints"]
    before = {endpoint_id: dict(endpoint) for endpoint_id, endpoint in endpoints.items() if type(endpoint) is dict}
    response = transformer.handle(event)  # nothing may raise: the shape is right and the catalog is healthy
    enrichment = transformer.last
    assert enrichment is not None
    assert set(response).isdisjoint(enrichment.left_out)
    assert set(response) | set(enrichment.left_out) == set(endpoints)
    for endpoint_id, endpoint in endpoints.items():
        items = endpoint.get("RecommendationItems") if type(endpoint) is dict else None
        items = items if isinstance(items, list) else []
        if type(endpoint) is dict and must_go_out(endpoint_id, endpoint, items):
            assert endpoint_id in response, f"a valid endpoint was left out: {enrichment.left_out[endpoint_id]}"
        if endpoint_id not in response:
            continue
        assert type(endpoint) is dict
        returned = response[endpoint_id]
        assert returned.keys() == endpoint.keys() | {"Recommendations"}
        assert all(returned[key] is endpoint[key] for key in endpoint if key != "Recommendations")
        recommendations = returned["Recommendations"]
        assert all(isinstance(values, list) for values in recommendations.values())
        assert all(type(value) is str for values in recommendations.values() for value in values)
        oracle(items, recommendations)
    for endpoint_id, snapshot in before.items():  # the input is never mutated
        assert endpoints[endpoint_id].keys() == snapshot.keys()
        assert all(endpoints[endpoint_id][key] is value for key, value in snapshot.items())
    emitted = emf.last_values()
    for reason, count in enrichment.left_out_counts().items():
        assert emitted[LEFT_OUT_METRICS[reason]] == count, reason
    for reason, count in enrichment.items_missing_by_reason.items():
        assert emitted[ITEM_METRICS[reason]] == count, reason
    assert sum(enrichment.items_missing_by_reason.values()) == enrichment.items_missing


HYPOTHESIS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
}
EVENTS_PER_EXAMPLE = 4
"""Each example is a short run of invocations of one warm container (the cache carries over between them)."""
SQLITE_EXAMPLES = 1_750
DYNAMODB_EXAMPLES = 750
"""4 x (2 x 1,750 + 2 x 750) = 20,000 events; moto answers slower than a SQLite file, hence the smaller share."""


@pytest.fixture(autouse=True, scope="module")
def quiet_logs() -> Iterator[None]:
    """The batch log line is checked elsewhere; 20,000 of them would only slow the run."""
    level = logger.log_level
    logger.setLevel("WARNING")
    yield
    logger.setLevel(level)


# --- SQLite --------------------------------------------------------------------------------------------------------


def _sqlite_catalog(path: Path, documents: dict[str, dict[str, Any]]) -> Path:
    write_catalog(path, [{"id": item_id, **document} for item_id, document in documents.items()])
    with sqlite3.connect(path) as connection:
        connection.executemany("INSERT INTO items (id, doc) VALUES (?, CAST(? AS TEXT))", DAMAGED_ROWS.items())
    connection.close()
    return path


@pytest.fixture(scope="module")
def sqlite_transformers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Transformer]:
    folder = tmp_path_factory.mktemp("hostile-sqlite")
    items = {"kind": "sqlite", "path": str(_sqlite_catalog(folder / "items.db", ITEMS))}
    offers = {"kind": "sqlite", "path": str(_sqlite_catalog(folder / "offers.db", OFFERS))}
    return _transformers(items, offers, folder)


def _transformers(items: dict[str, Any], offers: dict[str, Any], folder: Path) -> dict[str, Transformer]:
    def make(**config: Any) -> Transformer:
        return Transformer(parse_config(config, base_dir=folder))

    cache = {"ttl_seconds": 3600}
    return {
        "drop": make(store=items, cache=cache, attributes=ITEM_ATTRIBUTES),
        "fill": make(store=items, cache=cache, attributes=FILL_ATTRIBUTES, recommendations={"missing": "fill"}),
        "offers": make(
            store=offers,
            cache=cache,
            attributes=OFFER_ATTRIBUTES,
            offers={**OFFERS_SECTION, "score_attribute": "OfferScore"},
        ),
    }


@settings(max_examples=SQLITE_EXAMPLES, **HYPOTHESIS)  # type: ignore[arg-type]
@given(seed=seeds, fill=st.booleans())
def test_items_mode_over_sqlite(sqlite_transformers: dict[str, Transformer], seed: int, fill: bool) -> None:
    transformer = sqlite_transformers["fill" if fill else "drop"]
    for event in hostile_events(seed, ITEM_POOL, EVENTS_PER_EXAMPLE):
        run_and_check(
            transformer, event, _items_oracle(fill=fill), lambda _, __, items: _items_must_go_out(items, fill=fill)
        )


@settings(max_examples=SQLITE_EXAMPLES, **HYPOTHESIS)  # type: ignore[arg-type]
@given(seed=seeds)
def test_offers_mode_over_sqlite(sqlite_transformers: dict[str, Transformer], seed: int) -> None:
    for event in hostile_events(seed, OFFER_POOL, EVENTS_PER_EXAMPLE):
        run_and_check(sqlite_transformers["offers"], event, _offers_oracle, _offers_must_go_out)


# --- DynamoDB on moto ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dynamodb_transformers(
    moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Transformer]]:
    with pytest.MonkeyPatch.context() as environment:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
            environment.setenv(name, value)
        environment.delenv("AWS_PROFILE", raising=False)
        dynamodb = boto3.session.Session().client("dynamodb", region_name="us-east-1", endpoint_url=moto_endpoint)
        serialize = TypeSerializer().serialize
        tables = {}
        for name, documents in (("hostile-items", ITEMS), ("hostile-offers", OFFERS)):
            dynamodb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            for item_id, document in documents.items():
                item = {"id": item_id, **{key: _dynamodb_number(value) for key, value in document.items()}}
                dynamodb.put_item(TableName=name, Item={key: serialize(value) for key, value in item.items()})
            tables[name] = {"kind": "dynamodb", "table": name, "region": "us-east-1", "endpoint_url": moto_endpoint}
        folder = tmp_path_factory.mktemp("hostile-dynamodb")
        transformers = _transformers(tables["hostile-items"], tables["hostile-offers"], folder)
        yield transformers
        for transformer in transformers.values():
            transformer.store.close()


def _dynamodb_number(value: Any) -> Any:
    from decimal import Decimal

    return Decimal(repr(value)) if isinstance(value, float) else value


@settings(max_examples=DYNAMODB_EXAMPLES, **HYPOTHESIS)  # type: ignore[arg-type]
@given(seed=seeds, fill=st.booleans())
def test_items_mode_over_dynamodb(dynamodb_transformers: dict[str, Transformer], seed: int, fill: bool) -> None:
    transformer = dynamodb_transformers["fill" if fill else "drop"]
    for event in hostile_events(seed, ITEM_POOL, EVENTS_PER_EXAMPLE):
        run_and_check(
            transformer, event, _items_oracle(fill=fill), lambda _, __, items: _items_must_go_out(items, fill=fill)
        )


@settings(max_examples=DYNAMODB_EXAMPLES, **HYPOTHESIS)  # type: ignore[arg-type]
@given(seed=seeds)
def test_offers_mode_over_dynamodb(dynamodb_transformers: dict[str, Transformer], seed: int) -> None:
    for event in hostile_events(seed, OFFER_POOL, EVENTS_PER_EXAMPLE):
        run_and_check(dynamodb_transformers["offers"], event, _offers_oracle, _offers_must_go_out)


# --- offers mode, Personalize scoring ------------------------------------------------------------------------------

RANKED = ["O1", "O2", "O3", "O-sms"]


class PersonalizeLike:
    """GetPersonalizedRanking as the service answers it: a userId that is empty, longer than 256 characters or not
    UTF-8 is a ValidationException; otherwise every offer asked about is ranked."""

    def get_personalized_ranking(self, *, campaignArn: str, inputList: list[str], userId: str) -> dict[str, Any]:
        valid = isinstance(userId, str) and 0 < len(userId) <= 256
        try:
            userId.encode("utf-8")
        except UnicodeEncodeError:
            valid = False
        if not valid:
            error = {"Error": {"Code": "ValidationException", "Message": "userId"}}
            raise ClientError(error, "GetPersonalizedRanking")  # type: ignore[arg-type]
        return {"personalizedRanking": [{"itemId": item, "score": 1 / (n + 1)} for n, item in enumerate(inputList)]}


@pytest.fixture(scope="module")
def personalize_transformers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Transformer]:
    folder = tmp_path_factory.mktemp("hostile-personalize")
    offers_file = folder / "offers.jsonl"
    offers_file.write_text(
        "\n".join(json.dumps({"id": offer_id, **OFFERS[offer_id]}) for offer_id in RANKED), encoding="utf-8"
    )
    store = {"kind": "sqlite", "path": str(write_catalog(folder / "unused.db", [{"id": "unused"}]))}
    transformers = {}
    for id_type in ("endpoint", "user"):
        section = {"catalog": str(offers_file), "scoring": "personalize", "campaign_arn": ARN, "id_type": id_type}
        config = parse_config({"store": store, "attributes": OFFER_ATTRIBUTES, "offers": section}, base_dir=folder)
        engine = build_offer_engine(config, SqliteItemStore(store["path"]), personalize_client=PersonalizeLike())
        transformers[id_type] = Transformer(config, offers=engine)
    return transformers


def _ranked_oracle(items: list[Any], recommendations: dict[str, Any]) -> None:
    assert list(recommendations) == list(OFFER_ATTRIBUTES)
    assert recommendations["OfferCode"][0] in {OFFERS[offer_id]["code"] for offer_id in RANKED}


def _ranked_must_go_out(id_type: str) -> Callable[[str, dict[str, Any], list[Any]], bool]:
    """O1 and O3 go on every channel at any time: every endpoint with a usable Personalize user id goes out."""

    def must_go_out(endpoint_id: str, endpoint: dict[str, Any], items: list[Any]) -> bool:
        user = endpoint.get("User")
        identity = endpoint_id if id_type == "endpoint" else user.get("UserId") if isinstance(user, dict) else None
        return isinstance(identity, str) and 0 < len(identity) <= 256 and _encodable(identity)

    return must_go_out


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=250, **HYPOTHESIS)  # type: ignore[arg-type]
@given(seed=seeds, id_type=st.sampled_from(["endpoint", "user"]))
def test_offers_mode_with_personalize_scoring(
    personalize_transformers: dict[str, Transformer], seed: int, id_type: str
) -> None:
    """No hostile user id or endpoint id reaches Personalize, so hostile endpoints can never add up to the majority
    of failed rankings that makes the batch raise."""
    transformer = personalize_transformers[id_type]
    for event in hostile_events(seed, OFFER_POOL, EVENTS_PER_EXAMPLE):
        run_and_check(transformer, event, _ranked_oracle, _ranked_must_go_out(id_type))
        assert transformer.offers is not None
        if isinstance(event, dict) and isinstance(event.get("Endpoints"), dict):
            assert transformer.offers.last.ranking.failures == 0


# --- the guard, and logs without values ----------------------------------------------------------------------------


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The transformer's log lines, at INFO."""
    sink = io.StringIO()
    handlers = [handler for handler in logger.handlers if isinstance(handler, logging.StreamHandler)]
    streams = [handler.setStream(sink) for handler in handlers]
    logger.setLevel("INFO")
    yield sink
    logger.setLevel("WARNING")
    for handler, stream in zip(handlers, streams, strict=True):
        handler.setStream(stream)


def _read(sink: io.StringIO) -> str:
    output = sink.getvalue()
    sink.seek(0)
    sink.truncate()
    return output


def _log_records(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_an_endpoint_whose_handling_raises_is_left_out_and_logged_without_its_values(
    sqlite_transformers: dict[str, Transformer], logs: io.StringIO
) -> None:
    transformer = sqlite_transformers["drop"]
    event = {"Endpoints": {"bad": RaisingMapping(TypeError), "good": {"RecommendationItems": ["P1"]}}}
    response = transformer.handle(event)
    assert set(response) == {"good"}
    assert transformer.last is not None and transformer.last.left_out == {"bad": LeftOut.FAILED}
    assert emf.last_values()["EndpointsLeftOutFailed"] == 1
    output = _read(logs)
    records = _log_records(output)
    batch = next(record for record in records if record.get("message") == "batch enriched")
    assert batch["left_out"] == {"failed": 1}
    failures = next(record for record in records if record.get("message", "").startswith("endpoints left out"))
    assert failures["level"] == "ERROR"
    [(where, count)] = failures["failures"].items()
    assert re.fullmatch(r"TypeError at enrich\.py:\d+ \(raised in hostile\.py:\d+\)", where) and count == 1, where
    assert "raised while reading the endpoint" not in output, "an error's message may hold values: never logged"


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif depth < 8 and isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(key, depth + 1)
            yield from _strings(inner, depth + 1)
    elif depth < 8 and isinstance(value, list):
        for inner in value:
            yield from _strings(inner, depth + 1)


@settings(max_examples=100, **HYPOTHESIS)  # type: ignore[arg-type]
@given(seed=seeds, mode=st.sampled_from(["drop", "offers"]))
def test_logs_of_hostile_events_carry_no_value_of_them(
    sqlite_transformers: dict[str, Transformer],
    logs: io.StringIO,
    seed: int,
    mode: str,
) -> None:
    _read(logs)
    for event in hostile_events(seed, ITEM_POOL if mode == "drop" else OFFER_POOL, EVENTS_PER_EXAMPLE):
        with contextlib.suppress(InvalidEventError):
            sqlite_transformers[mode].handle(event)
        output = _read(logs)
        assert any(
            record.get("message") in ("batch enriched", "batch failed; Pinpoint will retry it")
            for record in _log_records(output)
        )
        escaped = output.encode("ascii", "backslashreplace").decode()
        for text in set(_strings(event)):
            if len(text) >= 8:
                assert text not in output and json.dumps(text)[1:-1] not in escaped, "a value of the event was logged"
