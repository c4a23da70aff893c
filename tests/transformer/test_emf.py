"""The batch's EMF document and log line, built without Powertools' per-call work, say what Powertools would."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.metrics import Metrics, MetricUnit
from hypothesis import example, given, settings
from hypothesis import strategies as st

from transformer import observability
from transformer.emf import EmfWriter
from transformer.enrich import Enrichment, LeftOut
from transformer.items import ItemReason
from transformer.resolver import ResolveStats

UNITS = {"Count": MetricUnit.Count, "Milliseconds": MetricUnit.Milliseconds}


def powertools_document(namespace: str, service: str, metrics: list[tuple[str, str, float]]) -> dict[str, Any]:
    reference = Metrics(namespace=namespace, service=service)
    for name, unit, value in metrics:
        reference.add_metric(name=name, unit=UNITS[unit], value=value)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        reference.flush_metrics()
    return json.loads(output.getvalue())


def check_emf_shape(document: dict[str, Any]) -> None:
    """The EMF specification's structure: `_aws` with an integer Timestamp and metric directives whose every
    dimension and metric name is a member of the document."""
    metadata = document["_aws"]
    assert isinstance(metadata["Timestamp"], int)
    for directive in metadata["CloudWatchMetrics"]:
        assert isinstance(directive["Namespace"], str) and directive["Namespace"]
        for dimension_set in directive["Dimensions"]:
            assert all(isinstance(document[name], str) for name in dimension_set)
        for metric in directive["Metrics"]:
            assert metric["Unit"] in UNITS
            assert all(isinstance(value, float) for value in document[metric["Name"]])


names = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20)


@settings(max_examples=100, deadline=None)
@example(namespace="pinrec", service="\r", values=[("Count", 0)])  # a blank dimension: Powertools leaves it out
@given(
    namespace=names,
    service=names,
    values=st.lists(
        st.tuples(st.sampled_from(["Count", "Milliseconds"]), st.integers(0, 10**6) | st.floats(0, 1e6)),
        min_size=1,
        max_size=30,
    ),
)
def test_a_document_equals_what_powertools_prints_for_the_same_metrics(
    namespace: str, service: str, values: list[tuple[str, float]]
) -> None:
    metrics = [(f"Metric{index}%s", unit, value) for index, (unit, value) in enumerate(values)]
    ours = json.loads(EmfWriter(namespace, {"service": service}).document(metrics, timestamp_ms=1234))
    reference = powertools_document(namespace, service, metrics)
    check_emf_shape(ours)
    assert ours["_aws"].pop("Timestamp") == 1234
    reference["_aws"].pop("Timestamp")
    assert ours == reference
    assert list(ours) == list(reference)


def test_the_cold_start_document_has_the_function_name_dimension() -> None:
    writer = EmfWriter("pinrec", {"service": "svc"})
    document = json.loads(
        writer.document([("ColdStart", "Count", 1)], dimensions={"function_name": "f", "service": "svc"})
    )
    check_emf_shape(document)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["function_name", "service"]]
    assert document["ColdStart"] == [1.0]


def enrichment() -> tuple[Enrichment, ResolveStats]:
    result = Enrichment(response={"a": {}}, endpoints_in=3, left_out={"b": LeftOut.NO_ITEMS, "c": LeftOut.FAILED})
    result.items_requested, result.items_resolved, result.items_missing, result.unique_ids = 7, 5, 2, 6
    result.items_missing_by_reason = {ItemReason.NOT_IN_CATALOG: 2}
    return result, ResolveStats(unique_ids=6, cache_hits=4, store_ids=2, lookup_seconds=0.0012345)


def test_record_batch_prints_one_valid_document_with_every_batch_metric(capsys: pytest.CaptureFixture[str]) -> None:
    result, lookup = enrichment()
    capsys.readouterr()
    observability.record_batch(result, lookup, 0.002)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 1
    check_emf_shape(lines[0])
    directive = lines[0]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Dimensions"] == [["service"]]
    assert [metric["Name"] for metric in directive["Metrics"]] == [
        "EndpointsIn",
        "EndpointsOut",
        *observability._LEFT_OUT_METRIC.values(),
        "ItemsResolved",
        "ItemsMissing",
        *observability._ITEMS_MISSING_METRIC.values(),
        "ItemsFilled",
        "CacheHits",
        "StoreLookups",
        "StaleServed",
        "LookupTime",
        "BatchTime",
    ]
    assert lines[0]["EndpointsLeftOutFailed"] == [1.0]
    assert lines[0]["ItemsMissingNotInCatalog"] == [2.0]
    assert lines[0]["LookupTime"] == [1.234]
    assert observability.emf.last_values()["EndpointsOut"] == 1


@pytest.fixture
def log_sink() -> Iterator[io.StringIO]:
    sink = io.StringIO()
    logger = observability.logger
    handlers = [handler for handler in logger.handlers if isinstance(handler, logging.StreamHandler)]
    streams = [handler.setStream(sink) for handler in handlers]
    level = logger.log_level
    logger.setLevel("INFO")
    yield sink
    logger.setLevel(level)
    for handler, stream in zip(handlers, streams, strict=True):
        handler.setStream(stream)


FIELDS = {"endpoints_in": 3, "left_out": {"no_items": 1}, "lookup_ms": 0.25, "text": 'quote " and é'}


def test_the_batch_line_is_the_line_powertools_writes(log_sink: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-abc-def;Parent=12;Sampled=1")
    logger = observability.logger
    logger.append_keys(function_request_id="req-1", cold_start=False)
    try:
        observability._log_info("batch enriched", ("record_batch", 7), FIELDS)
        logger.info("batch enriched", extra=dict(FIELDS))
    finally:
        logger.remove_keys(["function_request_id", "cold_start"])
    ours, reference = (json.loads(line) for line in log_sink.getvalue().splitlines())
    assert ours.pop("location") == "record_batch:7"
    reference.pop("location")
    assert ours.pop("timestamp")[:16] == reference.pop("timestamp")[:16]  # the same minute
    assert list(ours.items()) == list(reference.items())
    assert ours["xray_trace_id"] == "1-abc-def"


def test_the_batch_line_follows_the_log_level(log_sink: io.StringIO) -> None:
    observability.logger.setLevel("WARNING")
    observability._log_info("batch enriched", ("record_batch", 7), FIELDS)
    assert log_sink.getvalue() == ""


def test_another_handler_gets_the_line_through_powertools(log_sink: io.StringIO) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    extra = Keep()
    observability.logger.addHandler(extra)
    try:
        observability._log_info("batch enriched", ("record_batch", 7), FIELDS)
    finally:
        observability.logger.removeHandler(extra)
    assert [record.getMessage() for record in records] == ["batch enriched"]
    assert json.loads(log_sink.getvalue())["endpoints_in"] == 3


def test_cold_start_is_counted_once_per_container(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(observability, "_cold_start", True)
    capsys.readouterr()
    observability.record_cold_start("pinrec-transformer")
    observability.record_cold_start("pinrec-transformer")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 1
    check_emf_shape(lines[0])
    assert lines[0]["ColdStart"] == [1.0]
    assert lines[0]["function_name"] == "pinrec-transformer"
