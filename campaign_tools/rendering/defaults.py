"""DefaultSubstitutions: the per-variable fallback values a Pinpoint template stores as a JSON object.

Pinpoint documents the object as "a set of key-value pairs; each key defines a message variable in the
template", e.g. `{"User.UserAttributes.FirstName": "there", "Recommendations.Title": "our bestsellers"}`.
Templates write list attributes with an index (`{{Recommendations.Title.[0]}}`), so keys are matched by path
segments: a key may be written with or without the index (`Recommendations.Title.[1]` applies to that slot
only, `Recommendations.Title` to every slot), and `[Last Name]` and `Last Name` name the same segment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from campaign_tools.rendering.errors import TemplateRenderError
from campaign_tools.rendering.program import path_segments

Segments = tuple[str, ...]


def parse_default_substitutions(value: str | Mapping[str, Any] | None, *, template: str = "template") -> dict[str, str]:
    """The DefaultSubstitutions JSON string (or an already-parsed mapping) as a dict of string values."""
    if value is None or value == "":
        return {}
    data: Any = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except json.JSONDecodeError as err:
            raise TemplateRenderError(template, None, f"DefaultSubstitutions is not valid JSON: {err.msg}") from None
    if not isinstance(data, Mapping):
        raise TemplateRenderError(template, None, "DefaultSubstitutions must be a JSON object of variable -> text")
    out: dict[str, str] = {}
    for key, text in data.items():
        if not isinstance(key, str) or not key.strip():
            raise TemplateRenderError(template, None, "DefaultSubstitutions has an empty variable name")
        if not isinstance(text, str):
            raise TemplateRenderError(
                template, None, f"DefaultSubstitutions value for {key!r} must be a string, got {type(text).__name__}"
            )
        out[key] = text
    return out


def index_defaults(defaults: Mapping[str, str] | None) -> dict[Segments, str]:
    """Defaults keyed by path segments, so lookups ignore how the key spelled brackets and dots."""
    if not defaults:
        return {}
    return {path_segments(key.strip()): text for key, text in defaults.items()}
