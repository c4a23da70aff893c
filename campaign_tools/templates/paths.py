"""The message variables a Pinpoint endpoint offers (contract section 5), and which of them hold lists."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

RECOMMENDATIONS = "Recommendations"
RECOMMENDATION_ITEMS = "RecommendationItems"

SCALAR_FIELDS = frozenset(
    {"Address", "ChannelType", "Id", "EndpointStatus", "OptOut", "EffectiveDate", "CreationDate", "User.UserId"}
)
FIXED_OBJECT_FIELDS = {
    "Location": frozenset({"City", "Country", "Latitude", "Longitude", "PostalCode", "Region"}),
    "Demographic": frozenset(
        {"AppVersion", "Locale", "Make", "Model", "ModelVersion", "Platform", "PlatformVersion", "Timezone"}
    ),
}
RESERVED_FIELDS = frozenset({"UnsubscribeUrl"})
"""Variables pinrec's composer fills for each message (`campaign_tools.unsubscribe.links.LINK_VARIABLE`)."""
CUSTOM_LIST_MAPS = ("Attributes", "User.UserAttributes")
"""Custom attributes: any name, and every value is a list of strings."""
CUSTOM_NUMBER_MAP = "Metrics"

_SEGMENT = re.compile(r"\[[^\]]*\]|[^.\[\]/]+")
_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class PathInfo:
    """What a dotted Handlebars path means on an endpoint."""

    known: bool
    is_list: bool = False
    indexed: bool = False
    index: int | None = None
    recommendation: str | None = None
    """The attribute name for `Recommendations.<Name>...` paths."""
    problem: str | None = None


def split_path(path: str) -> list[str]:
    """`User.UserAttributes.[Last Name].[0]` -> ['User', 'UserAttributes', 'Last Name', '[0]']."""
    segments = []
    for match in _SEGMENT.finditer(path):
        segment = match.group(0)
        if _INDEX.fullmatch(segment):
            segments.append(segment)
        elif segment.startswith("["):
            segments.append(segment[1:-1])
        else:
            segments.append(segment)
    return segments


def _with_index(base: list[str], rest: list[str], *, recommendation: str | None = None) -> PathInfo:
    if not rest:
        return PathInfo(known=True, is_list=True, recommendation=recommendation)
    index = _INDEX.fullmatch(rest[0])
    if index is None or len(rest) > 1:
        return PathInfo(
            known=False,
            recommendation=recommendation,
            problem=f"{'.'.join(base)} is a list of strings: only .[N] may follow it",
        )
    return PathInfo(known=True, indexed=True, index=int(index.group(1)), recommendation=recommendation)


def _describe_recommendation(segments: list[str], attributes: Collection[str]) -> PathInfo:
    if len(segments) == 1:
        return PathInfo(known=False, problem="Recommendations needs an attribute name")
    name = segments[1]
    if name not in attributes:
        declared = ", ".join(sorted(attributes)) or "none"
        return PathInfo(
            known=False,
            recommendation=name,
            problem=f"Recommendations.{name} is not among the recommender's attributes ({declared})",
        )
    return _with_index(segments[:2], segments[2:], recommendation=name)


def _is_endpoint_field(segments: list[str]) -> bool:
    head = segments[0]
    return (
        ".".join(segments) in SCALAR_FIELDS
        or ".".join(segments) in RESERVED_FIELDS
        or (head in FIXED_OBJECT_FIELDS and len(segments) == 2 and segments[1] in FIXED_OBJECT_FIELDS[head])
        or (head == CUSTOM_NUMBER_MAP and len(segments) == 2)
    )


def describe_path(path: str, recommendation_attributes: Collection[str]) -> PathInfo:
    """Classify a path against the endpoint shape Pinpoint substitutes from."""
    segments = split_path(path)
    if not segments:
        return PathInfo(known=False, problem="empty path")
    if segments[0] == RECOMMENDATIONS:
        return _describe_recommendation(segments, recommendation_attributes)
    if segments[0] == RECOMMENDATION_ITEMS:
        return _with_index(segments[:1], segments[1:])
    if _is_endpoint_field(segments):
        return PathInfo(known=True)
    for prefix in CUSTOM_LIST_MAPS:
        parts = prefix.split(".")
        if segments[: len(parts)] == parts and len(segments) > len(parts):
            return _with_index(segments[: len(parts) + 1], segments[len(parts) + 1 :])
    return PathInfo(known=False, problem=f"{path} is not a variable Pinpoint fills from the endpoint")


def default_key(path: str) -> str:
    """The DefaultSubstitutions key for a path: the path without list indexes (`Recommendations.Title`)."""
    return ".".join(segment for segment in split_path(path) if not _INDEX.fullmatch(segment))
