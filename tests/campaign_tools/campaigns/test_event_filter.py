"""Pinpoint's CampaignEventFilter against app events; any JSON value tolerated with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from campaign_tools.campaigns.event_filter import AppEvent, EventFilter, InvalidEvent, matches, parse_event


def event(**fields: object) -> AppEvent:
    parsed = parse_event(
        {"endpoint_id": "e1", "event_type": "cart.abandoned", "timestamp": "2027-03-01T10:00:00Z", **fields}
    )
    assert isinstance(parsed, AppEvent)
    return parsed


def flt(**fields: object) -> EventFilter:
    return EventFilter.model_validate({"event_type": {"values": ["cart.abandoned"]}, **fields})


def test_both_spellings_and_epoch_milliseconds():
    parsed = parse_event({"EndpointId": "e1", "EventType": "x", "Timestamp": 1_800_000_000_000, "Metrics": {"n": 2}})
    assert parsed == AppEvent("x", datetime.fromtimestamp(1_800_000_000, UTC), "e1", None, {}, {"n": 2.0})


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ([], "not_an_object"),
        ({"event_type": "x", "timestamp": "2027-03-01T10:00:00Z"}, "no_recipient"),
        ({"user_id": "u", "event_type": 3, "timestamp": "2027-03-01T10:00:00Z"}, "no_event_type"),
        ({"user_id": "u", "event_type": "x", "timestamp": "2027-03-01T10:00:00"}, "invalid_timestamp"),
        ({"user_id": "u", "event_type": "x", "timestamp": True}, "invalid_timestamp"),
        ({"user_id": "u", "event_type": "x", "timestamp": 1e300}, "invalid_timestamp"),
        (
            {"user_id": "u", "event_type": "x", "timestamp": "2027-03-01T10:00:00Z", "attributes": {"a": 1}},
            "invalid_attributes",
        ),
        (
            {"user_id": "u", "event_type": "x", "timestamp": "2027-03-01T10:00:00Z", "metrics": {"m": "1"}},
            "invalid_metrics",
        ),
        (
            {"user_id": "u", "event_type": "x", "timestamp": "2027-03-01T10:00:00Z", "metrics": {"m": True}},
            "invalid_metrics",
        ),
    ],
)
def test_anything_else_is_refused_with_a_reason(record, reason):
    assert parse_event(record) == InvalidEvent(reason)


def test_event_type_inclusive_and_exclusive():
    assert matches(flt(), event()).matched
    assert matches(flt(), event(event_type="other")).reason == "event_type"
    exclusive = EventFilter.model_validate({"event_type": {"dimension_type": "exclusive", "values": ["x"]}})
    assert matches(exclusive, event()).matched and not matches(exclusive, event(event_type="x")).matched


def test_system_filters_take_only_pinpoints_own_events():
    system = EventFilter.model_validate({"filter_type": "SYSTEM", "event_type": {"values": ["_session.start"]}})
    assert matches(system, event(event_type="_session.start")).matched
    assert (
        matches(
            EventFilter.model_validate(
                {"filter_type": "SYSTEM", "event_type": {"dimension_type": "EXCLUSIVE", "values": ["y"]}}
            ),
            event(),
        ).reason
        == "filter_type"
    )


def test_attribute_dimensions():
    def attribute(kind: str, values: list[str], value: object) -> bool:
        attributes = {} if value is None else {"plan": value}
        return matches(
            flt(attributes={"plan": {"attribute_type": kind, "values": values}}), event(attributes=attributes)
        ).matched

    assert attribute("INCLUSIVE", ["gold"], "gold") and not attribute("INCLUSIVE", ["gold"], "Gold")
    assert not attribute("INCLUSIVE", ["gold"], None)
    assert attribute("EXCLUSIVE", ["gold"], "silver") and attribute("EXCLUSIVE", ["gold"], None)
    assert not attribute("EXCLUSIVE", ["gold"], ["silver", "gold"])
    assert attribute("CONTAINS", ["old"], "gold") and not attribute("CONTAINS", ["x"], "gold")
    assert attribute("BEFORE", ["2027-01-01T00:00:00Z"], "2026-12-31T23:59:59Z")
    assert not attribute("BEFORE", ["2027-01-01T00:00:00Z"], "not a date")
    assert attribute("AFTER", ["2027-01-01T00:00:00Z"], "2027-01-01T01:00:00+00:00")
    assert attribute("ON", ["2027-01-01T00:00:00Z"], "2027-01-01T23:00:00Z")
    assert attribute("BETWEEN", ["2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"], "2027-01-15T00:00:00Z")
    assert not attribute("BETWEEN", ["2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"], "2027-03-15T00:00:00Z")


def test_metric_dimensions():
    def metric(operator: str, value: float, given: float | None) -> bool:
        metrics = {} if given is None else {"total": given}
        dimension = {"total": {"comparison_operator": operator, "value": value}}
        return matches(flt(metrics=dimension), event(metrics=metrics)).matched

    assert metric("GREATER_THAN", 50, 50.5) and not metric("GREATER_THAN", 50, 50)
    assert metric("GREATER_THAN_OR_EQUAL", 50, 50) and metric("LESS_THAN", 50, 10)
    assert metric("LESS_THAN_OR_EQUAL", 50, 50) and metric("EQUAL", 50, 50) and not metric("EQUAL", 50, 51)
    assert not metric("EQUAL", 50, None)


def test_filter_rules():
    with pytest.raises(ValidationError):
        EventFilter.model_validate({"event_type": {"values": []}})
    with pytest.raises(ValidationError, match="BETWEEN takes 2 values"):
        flt(attributes={"d": {"attribute_type": "BETWEEN", "values": ["2027-01-01T00:00:00Z"]}})
    with pytest.raises(ValidationError, match="ISO 8601 instants"):
        flt(attributes={"d": {"attribute_type": "ON", "values": ["monday"]}})
    with pytest.raises(ValidationError):
        flt(metrics={"m": {"comparison_operator": "ABOUT", "value": 1}})
