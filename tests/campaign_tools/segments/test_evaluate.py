"""Segment membership as properties: pinrec's evaluator against a simple one written here from the Pinpoint docs,
which reads the raw definition JSON directly (no parsed model shared with the code under test)."""

from __future__ import annotations

import math
import operator
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_tools.segments.definition import parse_definition
from campaign_tools.segments.evaluate import Evaluator

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
WORDS = ["red", "green", "blue", "greenish"]
DAYS = ["2026-06-01T00:00:00Z", "2026-06-10T08:30:00Z", "2026-06-10T23:59:59Z", "2026-06-14T13:00:00Z", "nonsense"]
HOURS_BY_DURATION = {"HR_24": 24, "DAY_7": 168, "DAY_14": 336, "DAY_30": 720}


# ---- the independent evaluator ------------------------------------------------------------------------------------


def when(text: str) -> datetime | None:
    try:
        parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC)


def attribute_ok(rule: dict[str, Any], have: list[str]) -> bool:  # noqa: PLR0911 - one return per type, as the docs list them
    kind = rule.get("AttributeType", "INCLUSIVE")
    wanted = rule["Values"]
    if kind == "INCLUSIVE":
        return bool(set(have) & set(wanted))
    if kind == "EXCLUSIVE":
        return not set(have) & set(wanted)
    if kind == "CONTAINS":
        return any(w in h for h in have for w in wanted)
    moments = [m for m in (when(h) for h in have) if m is not None]
    bounds = [when(w) for w in wanted]
    if kind == "BEFORE":
        return any(m < bounds[0] for m in moments)  # type: ignore[operator]
    if kind == "AFTER":
        return any(m > bounds[0] for m in moments)  # type: ignore[operator]
    if kind == "ON":
        return any(m.date() == bounds[0].date() for m in moments)  # type: ignore[union-attr]
    return any(bounds[0] <= m <= bounds[1] for m in moments)  # type: ignore[operator]


def one_dimension_ok(dims: dict[str, Any], endpoint: dict[str, Any]) -> bool:
    checks: list[bool] = []
    for name, rule in dims.get("Attributes", {}).items():
        checks.append(attribute_ok(rule, endpoint.get("Attributes", {}).get(name, [])))
    for name, rule in dims.get("UserAttributes", {}).items():
        checks.append(attribute_ok(rule, endpoint.get("User", {}).get("UserAttributes", {}).get(name, [])))
    for name, rule in dims.get("Metrics", {}).items():
        value = endpoint.get("Metrics", {}).get(name)
        table = {
            "EQUAL": operator.eq,
            "GREATER_THAN": operator.gt,
            "GREATER_THAN_OR_EQUAL": operator.ge,
            "LESS_THAN": operator.lt,
            "LESS_THAN_OR_EQUAL": operator.le,
        }
        checks.append(value is not None and table[rule["ComparisonOperator"]](value, rule["Value"]))
    for name, rule in dims.get("Demographic", {}).items():
        value = endpoint.get("ChannelType") if name == "Channel" else endpoint.get("Demographic", {}).get(name)
        inside = value in rule["Values"]
        checks.append(inside if rule.get("DimensionType", "INCLUSIVE") == "INCLUSIVE" else not inside)
    location = dims.get("Location", {})
    if "Country" in location:
        inside = endpoint.get("Location", {}).get("Country") in location["Country"]["Values"]
        checks.append(inside if location["Country"].get("DimensionType", "INCLUSIVE") == "INCLUSIVE" else not inside)
    if "GPSPoint" in location:
        point = location["GPSPoint"]
        here = endpoint.get("Location", {})
        if "Latitude" not in here or "Longitude" not in here:
            checks.append(False)
        else:
            a = (math.radians(point["Coordinates"]["Latitude"]), math.radians(point["Coordinates"]["Longitude"]))
            b = (math.radians(here["Latitude"]), math.radians(here["Longitude"]))
            cosine = math.sin(a[0]) * math.sin(b[0]) + math.cos(a[0]) * math.cos(b[0]) * math.cos(b[1] - a[1])
            distance = 6371.0088 * math.acos(max(-1.0, min(1.0, cosine)))
            checks.append(distance <= point.get("RangeInKilometers", 100))
    recency = dims.get("Behavior", {}).get("Recency")
    if recency:
        effective = when(endpoint.get("EffectiveDate", ""))
        window = timedelta(hours=HOURS_BY_DURATION[recency["Duration"]])
        active = effective is not None and NOW - effective <= window
        checks.append(active if recency["RecencyType"] == "ACTIVE" else not active)
    return all(checks)


def several(how: str, results: list[bool]) -> bool:
    return {"ALL": all(results), "ANY": any(results) or not results, "NONE": not any(results)}[how]


def reference_member(definition: dict[str, Any], endpoint: dict[str, Any]) -> bool:
    if "Dimensions" in definition and not one_dimension_ok(definition["Dimensions"], endpoint):
        return False
    groups = definition.get("SegmentGroups")
    if not groups or not groups.get("Groups"):
        return True
    verdicts = []
    for group in groups["Groups"]:
        dims = group.get("Dimensions", [])
        verdicts.append(several(group.get("Type", "ALL"), [one_dimension_ok(d, endpoint) for d in dims]))
    return several(groups.get("Include", "ALL"), verdicts)


# ---- generated definitions and endpoints -------------------------------------------------------------------------

attribute_rules = st.one_of(
    st.fixed_dictionaries(
        {
            "AttributeType": st.sampled_from(["INCLUSIVE", "EXCLUSIVE", "CONTAINS"]),
            "Values": st.lists(st.sampled_from([*WORDS, "gree"]), max_size=3),
        }
    ),
    st.fixed_dictionaries(
        {
            "AttributeType": st.sampled_from(["BEFORE", "AFTER", "ON"]),
            "Values": st.lists(st.sampled_from(DAYS[:4]), min_size=1, max_size=1),
        }
    ),
    st.lists(st.sampled_from(DAYS[:4]), min_size=2, max_size=2).map(
        lambda pair: {"AttributeType": "BETWEEN", "Values": sorted(pair)}
    ),
)
set_rules = st.fixed_dictionaries(
    {
        "DimensionType": st.sampled_from(["INCLUSIVE", "EXCLUSIVE"]),
        "Values": st.lists(st.sampled_from(["ios", "android", "US", "FR", "EMAIL", "SMS"]), max_size=2),
    }
)
dimension = st.fixed_dictionaries(
    {},
    optional={
        "Attributes": st.dictionaries(st.sampled_from(["color", "seen"]), attribute_rules, max_size=2),
        "UserAttributes": st.dictionaries(st.sampled_from(["color"]), attribute_rules, max_size=1),
        "Metrics": st.dictionaries(
            st.sampled_from(["visits"]),
            st.fixed_dictionaries(
                {
                    "ComparisonOperator": st.sampled_from(
                        ["EQUAL", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL"]
                    ),
                    "Value": st.integers(0, 4),
                }
            ),
            max_size=1,
        ),
        "Demographic": st.dictionaries(st.sampled_from(["Platform", "Channel"]), set_rules, max_size=2),
        "Location": st.fixed_dictionaries(
            {},
            optional={
                "Country": set_rules,
                "GPSPoint": st.fixed_dictionaries(
                    {
                        "Coordinates": st.fixed_dictionaries(
                            {"Latitude": st.sampled_from([48.85, 40.7]), "Longitude": st.sampled_from([2.35, -74.0])}
                        ),
                        "RangeInKilometers": st.sampled_from([10, 500, 6000]),
                    }
                ),
            },
        ),
        "Behavior": st.fixed_dictionaries(
            {
                "Recency": st.fixed_dictionaries(
                    {
                        "Duration": st.sampled_from(list(HOURS_BY_DURATION)),
                        "RecencyType": st.sampled_from(["ACTIVE", "INACTIVE"]),
                    }
                )
            }
        ),
    },
)
definitions = st.fixed_dictionaries(
    {},
    optional={
        "Dimensions": dimension,
        "SegmentGroups": st.fixed_dictionaries(
            {
                "Include": st.sampled_from(["ALL", "ANY", "NONE"]),
                "Groups": st.lists(
                    st.fixed_dictionaries(
                        {"Type": st.sampled_from(["ALL", "ANY", "NONE"]), "Dimensions": st.lists(dimension, max_size=3)}
                    ),
                    max_size=3,
                ),
            }
        ),
    },
)
endpoints = st.fixed_dictionaries(
    {"ChannelType": st.sampled_from(["EMAIL", "SMS"])},
    optional={
        "Attributes": st.dictionaries(
            st.sampled_from(["color", "seen"]), st.lists(st.sampled_from(WORDS + DAYS), max_size=3)
        ),
        "User": st.fixed_dictionaries(
            {
                "UserAttributes": st.dictionaries(
                    st.sampled_from(["color"]), st.lists(st.sampled_from(WORDS), max_size=2)
                )
            }
        ),
        "Metrics": st.dictionaries(st.sampled_from(["visits"]), st.integers(0, 4) | st.floats(0, 4, allow_nan=False)),
        "Demographic": st.fixed_dictionaries({}, optional={"Platform": st.sampled_from(["ios", "android"])}),
        "Location": st.fixed_dictionaries(
            {},
            optional={
                "Country": st.sampled_from(["US", "FR"]),
                "Latitude": st.sampled_from([48.86, 48.0, 40.71, -33.9]),
                "Longitude": st.sampled_from([2.35, 2.0, -74.0, 151.2]),
            },
        ),
        "EffectiveDate": st.sampled_from(
            [(NOW - timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ") for h in (1, 23, 25, 100, 200, 400, 800)]
        ),
    },
)


@settings(max_examples=400, deadline=None)
@given(definitions, st.lists(endpoints, min_size=1, max_size=8))
def test_membership_is_what_the_reference_evaluator_says(
    definition: dict[str, Any], batch: list[dict[str, Any]]
) -> None:
    evaluator = Evaluator(parse_definition(definition), NOW)
    for number, endpoint in enumerate(batch):
        assert evaluator.matches(f"e{number}", endpoint) == reference_member(definition, endpoint)


def test_base_segments_filter_by_source_type() -> None:
    vip = parse_definition({"Id": "vip", "Dimensions": {"Attributes": {"tier": {"Values": ["gold"]}}}})
    french = parse_definition({"Id": "fr", "Dimensions": {"Location": {"Country": {"Values": ["FR"]}}}})
    both = {
        "Id": "top",
        "SegmentGroups": {
            "Include": "ALL",
            "Groups": [{"SourceSegments": [{"Id": "vip"}, {"Id": "fr"}, {"Id": "imp"}], "SourceType": "ANY"}],
        },
    }
    evaluator = Evaluator(parse_definition(both), NOW, {"vip": vip, "fr": french}, {"imp": frozenset({"e3"})})
    gold = {"Attributes": {"tier": ["gold"]}}
    assert evaluator.matches("e1", gold)
    assert evaluator.matches("e2", {"Location": {"Country": "FR"}})
    assert evaluator.matches("e3", {})
    assert not evaluator.matches("e4", {"Attributes": {"tier": ["silver"]}})
    both["SegmentGroups"]["Groups"][0]["SourceType"] = "ALL"  # type: ignore[index]
    strict = Evaluator(parse_definition(both), NOW, {"vip": vip, "fr": french}, {"imp": frozenset({"e3"})})
    assert not strict.matches("e1", gold)
    assert strict.matches("e3", {"Attributes": {"tier": ["gold"]}, "Location": {"Country": "FR"}})
