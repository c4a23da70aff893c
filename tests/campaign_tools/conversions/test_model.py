"""One conversion per JSON value: every field's rules, and the id that makes ingestion idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaign_tools.conversions.model import Conversion, Rejected, read_conversion

AT = datetime(2027, 3, 2, 10, 0, tzinfo=UTC).timestamp()


def test_a_full_record_is_read_with_its_own_id():
    record = {"id": "order-1", "endpoint_id": "e1", "time": "2027-03-02T11:00:00+01:00", "event_type": "purchase"}
    assert read_conversion({**record, "value": 19.5, "currency": "EUR"}) == Conversion(
        "order-1", "e1", None, "purchase", AT, 19.5
    )


def test_without_an_id_the_id_is_derived_from_the_content_not_its_spelling():
    first = read_conversion({"user_id": "u1", "time": "2027-03-02T10:00:00Z", "event_type": "signup"})
    same = read_conversion({"event_type": "signup", "time": AT, "user_id": "u1", "note": "ignored"})
    other = read_conversion({"user_id": "u1", "time": AT, "event_type": "signup", "value": 1})
    assert isinstance(first, Conversion) and isinstance(same, Conversion) and isinstance(other, Conversion)
    assert first.conversion_id.startswith("sha256:")
    assert first.conversion_id == same.conversion_id != other.conversion_id
    assert first.endpoint_id is None and first.value is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ([1, 2], "not an object but list"),
        (None, "not an object but null"),
        ("text", "not an object but str"),
        ({"time": AT, "event_type": "x"}, "give endpoint_id or user_id"),
        ({"endpoint_id": "", "time": AT, "event_type": "x"}, "endpoint_id must be a non-empty string"),
        ({"endpoint_id": 7, "time": AT, "event_type": "x"}, "endpoint_id must be a non-empty string"),
        ({"user_id": "a\nb", "time": AT, "event_type": "x"}, "user_id must be at most 256 printable characters"),
        ({"endpoint_id": "e", "time": AT}, "event_type must be a non-empty string"),
        ({"endpoint_id": "e", "time": AT, "event_type": {"a": 1}}, "event_type must be a non-empty string"),
        ({"endpoint_id": "e", "event_type": "x"}, "time is required"),
        ({"endpoint_id": "e", "time": True, "event_type": "x"}, "time is required"),
        ({"endpoint_id": "e", "time": "yesterday", "event_type": "x"}, "time is not ISO 8601"),
        ({"endpoint_id": "e", "time": "2027-03-02T10:00:00", "event_type": "x"}, "time needs an offset or Z"),
        ({"endpoint_id": "e", "time": -1, "event_type": "x"}, "time must be a finite, non-negative number"),
        ({"endpoint_id": "e", "time": [AT], "event_type": "x"}, "time must be an ISO 8601 string or a number"),
        ({"endpoint_id": "e", "time": AT, "event_type": "x", "value": "9.99"}, "value must be a finite number"),
        ({"endpoint_id": "e", "time": AT, "event_type": "x", "value": False}, "value must be a finite number"),
        ({"endpoint_id": "e", "time": AT, "event_type": "x", "id": 5}, "id must be a non-empty string"),
    ],
)
def test_a_record_without_a_conversion_says_why(record, reason):
    found = read_conversion(record)
    assert isinstance(found, Rejected) and found.reason.startswith(reason), found


def test_an_infinite_time_or_value_is_refused():
    assert isinstance(read_conversion({"endpoint_id": "e", "time": float("inf"), "event_type": "x"}), Rejected)
    assert isinstance(
        read_conversion({"endpoint_id": "e", "time": AT, "event_type": "x", "value": float("nan")}), Rejected
    )
