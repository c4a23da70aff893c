"""The worst-case endpoint: every variable a template reads at its maximum length."""

from __future__ import annotations

import re
from typing import Any

from campaign_tools.channels import email as email_channel
from campaign_tools.templates.build import BuiltTemplate
from campaign_tools.templates.handlebars_paths import path_uses
from campaign_tools.templates.manifest import ASSUMED_MAX_LENGTH
from campaign_tools.templates.paths import CUSTOM_NUMBER_MAP, RECOMMENDATION_ITEMS, describe_path, split_path


def worst_case_endpoint(built: BuiltTemplate) -> dict[str, Any]:
    """An endpoint where every variable the template reads holds a value of its maximum length."""
    endpoint: dict[str, Any] = {}
    names = built.attributes.names
    items = built.source.manifest.items_per_message
    for part, text in built.parts.items():
        if part is email_channel.TEXT and built.text_derived:
            continue
        for use in path_uses(text):
            info = describe_path(use.path, names)
            if not info.known:
                continue
            segments = [segment for segment in split_path(use.path) if not re.fullmatch(r"\[\d+\]", segment)]
            if info.recommendation is not None:
                value: Any = ["x" * built.attributes.max_length(info.recommendation)] * items
                segments = segments[:2]
            elif segments[0] == RECOMMENDATION_ITEMS:
                value = ["x" * ASSUMED_MAX_LENGTH] * items
            elif segments[0] == CUSTOM_NUMBER_MAP:
                value = 999_999_999
            elif info.is_list or info.indexed:
                value = ["x" * ASSUMED_MAX_LENGTH]
            else:
                value = "x" * ASSUMED_MAX_LENGTH
            _set_path(endpoint, segments, value)
    return endpoint


def _set_path(target: dict[str, Any], segments: list[str], value: Any) -> None:
    for segment in segments[:-1]:
        child = target.get(segment)
        if not isinstance(child, dict):
            child = target[segment] = {}
        target = child
    target[segments[-1]] = value
