"""One conversion, read from one JSON Lines record: who (endpoint or user), when, what, and how much.

A record is an object with `endpoint_id` and/or `user_id` (non-empty strings), `time` (ISO 8601 with an offset or
`Z`, or seconds since the epoch), `event_type` (a non-empty string) and optionally `value` (a finite number; none
counts as 0 in sums) and `id`. Other keys are ignored. Any JSON value is read safely: what is not such a record is a
`Rejected` with its reason, never an exception.

The conversion id makes ingestion idempotent: the record's `id` when it has one, else derived from its content (the
SHA-256 of the normalised who, when, what and value), so the same line ingested twice is stored once and the same
conversion written with a reformatted time is still the same conversion.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime

MAX_ID_CHARACTERS = 256
MAX_EVENT_TYPE_CHARACTERS = 128
DERIVED_PREFIX = "sha256:"


@dataclass(frozen=True, slots=True)
class Conversion:
    conversion_id: str
    endpoint_id: str | None
    user_id: str | None
    event_type: str
    occurred_at: float
    """Seconds since the epoch."""
    value: float | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str


def _identifier(record: dict[str, object], key: str) -> str | Rejected | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        return Rejected(f"{key} must be a non-empty string")
    if len(value) > MAX_ID_CHARACTERS or not value.isprintable():
        return Rejected(f"{key} must be at most {MAX_ID_CHARACTERS} printable characters")
    return value


def _instant(value: object) -> float | Rejected:  # noqa: PLR0911 - one return per rule
    if isinstance(value, bool) or value is None:
        return Rejected("time is required: ISO 8601 with an offset, or seconds since the epoch")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            return Rejected("time must be a finite, non-negative number of seconds since the epoch")
        return float(value)
    if not isinstance(value, str):
        return Rejected("time must be an ISO 8601 string or a number")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return Rejected("time is not ISO 8601")
    if parsed.tzinfo is None:
        return Rejected("time needs an offset or Z (a conversion is an instant)")
    return parsed.timestamp()


def _value(value: object) -> float | Rejected | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return Rejected("value must be a finite number")
    return float(value)


def derived_id(endpoint_id: str | None, user_id: str | None, event_type: str, at: float, value: float | None) -> str:
    content = json.dumps([endpoint_id, user_id, event_type, repr(at), None if value is None else repr(value)])
    return DERIVED_PREFIX + hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()


def read_conversion(record: object) -> Conversion | Rejected:  # noqa: PLR0911 - one return per rule
    """The conversion one record holds, or why it holds none."""
    if not isinstance(record, dict):
        return Rejected(f"not an object but {type(record).__name__ if record is not None else 'null'}")
    endpoint_id = _identifier(record, "endpoint_id")
    user_id = _identifier(record, "user_id")
    for found in (endpoint_id, user_id):
        if isinstance(found, Rejected):
            return found
    assert not isinstance(endpoint_id, Rejected) and not isinstance(user_id, Rejected)
    if endpoint_id is None and user_id is None:
        return Rejected("give endpoint_id or user_id")
    event_type = record.get("event_type")
    if not isinstance(event_type, str) or not event_type.strip() or len(event_type) > MAX_EVENT_TYPE_CHARACTERS:
        return Rejected(f"event_type must be a non-empty string of at most {MAX_EVENT_TYPE_CHARACTERS} characters")
    at = _instant(record.get("time"))
    if isinstance(at, Rejected):
        return at
    value = _value(record.get("value"))
    if isinstance(value, Rejected):
        return value
    given = _identifier(record, "id")
    if isinstance(given, Rejected):
        return given
    conversion_id = given or derived_id(endpoint_id, user_id, event_type, at, value)
    return Conversion(conversion_id, endpoint_id, user_id, event_type, at, value)
