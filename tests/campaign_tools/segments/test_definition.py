from __future__ import annotations

import pytest

from campaign_tools.segments.definition import Combine, DefinitionError, parse_definition


def test_get_segment_output_and_write_request_shapes_are_read() -> None:
    body = {
        "Id": "s1",
        "Name": "Hikers",
        "SegmentType": "DIMENSIONAL",
        "ApplicationId": "app",
        "Arn": "arn:aws:mobiletargeting:us-east-1:1:apps/app/segments/s1",
        "CreationDate": "2026-01-01T00:00:00Z",
        "Version": 3,
        "tags": {},
        "Dimensions": {"Attributes": {"Interests": {"AttributeType": "CONTAINS", "Values": ["hik"]}}},
        "SegmentGroups": {"Include": "ANY", "Groups": [{"Type": "NONE", "SourceType": "ANY", "Dimensions": []}]},
    }
    for data in ({"SegmentResponse": body}, body):
        definition = parse_definition(data)
        assert definition.label == "Hikers" and not definition.imported
        assert definition.include is Combine.ANY and definition.groups[0].dimension_type is Combine.NONE
    request = parse_definition({"WriteSegmentRequest": {"Name": "w", "Dimensions": {}}})
    assert request.name == "w"
    imported = parse_definition({"Id": "i", "SegmentType": "IMPORT", "ImportDefinition": {"Format": "JSON", "Size": 3}})
    assert imported.imported and imported.import_definition["Size"] == 3


def test_every_unsupported_or_invalid_feature_is_refused_at_once_with_its_place() -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(
            {
                "Id": "s",
                "Dimensions": {
                    "Attributes": {
                        "a": {"AttributeType": "BETWEEN", "Values": ["2026-01-01T00:00:00Z"]},
                        "b": {"AttributeType": "LIKE", "Values": ["x"]},
                        "c": {"AttributeType": "AFTER", "Values": ["yesterday"]},
                    },
                    "Demographic": {"Locale": {"Values": ["en"]}},
                    "Behavior": {"Recency": {"Duration": "DAY_90", "RecencyType": "ACTIVE"}},
                    "Metrics": {"m": {"ComparisonOperator": "NOT_EQUAL", "Value": "3"}},
                    "Location": {"GPSPoint": {"Coordinates": {"Latitude": 95, "Longitude": 0}}},
                    "Events": {},
                },
                "SegmentGroups": {"Include": "SOME", "Groups": [{"SourceSegments": [{"Version": 1}], "Type": "X"}]},
                "Surprise": 1,
            },
            "seg.json",
        )
    message = str(caught.value)
    for expected in (
        "seg.json: cannot be evaluated",
        "Dimensions.Attributes.a.Values: BETWEEN takes 2 value(s), got 1",
        "Dimensions.Attributes.b.AttributeType: must be one of",
        "Dimensions.Attributes.c.Values: AFTER takes ISO-8601 instants",
        "Dimensions.Demographic.Locale: not supported",
        "Dimensions.Behavior.Recency.Duration: must be one of HR_24, DAY_7, DAY_14, DAY_30",
        "Dimensions.Metrics.m.ComparisonOperator",
        "Dimensions.Metrics.m.Value: must be a finite number",
        "Dimensions.Location.GPSPoint.Coordinates: latitude must be -90..90",
        "Dimensions.Events: not supported",
        "SegmentGroups.Include: must be one of ALL, ANY, NONE",
        "SegmentGroups.Groups[0].SourceSegments[0].Id: must be a segment id",
        "SegmentGroups.Groups[0].Type",
        "Surprise: not supported",
    ):
        assert expected in message


@pytest.mark.parametrize("data", [[], "x", {"Dimensions": []}, {"SegmentType": "IMPORT", "Dimensions": {}}])
def test_definitions_that_are_not_one_are_refused(data: object) -> None:
    with pytest.raises(DefinitionError):
        parse_definition(data)
