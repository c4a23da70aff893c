"""Every recommendation source `--recommendations KIND[:TARGET]` can name. Adding one is a module beside file.py
and one line here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from campaign_tools.send.recommendations import (
    customer_profiles,
    file,
    personalize,
    personalize_recommender,
    segment,
)
from campaign_tools.send.recommendations.base import RecommendationSource, SourceKind, SourceOptions
from transformer.errors import PinrecError

KINDS: tuple[SourceKind, ...] = (
    personalize.KIND,
    personalize_recommender.KIND,
    customer_profiles.KIND,
    file.KIND,
    segment.KIND,
)


def usage() -> str:
    usages = [kind.usage for kind in KINDS]
    return f"{', '.join(usages[:-1])} or {usages[-1]}"


def _kind(spec: str) -> tuple[SourceKind, str]:
    name, separator, target = spec.partition(":")
    for kind in KINDS:
        if kind.kind == name and (bool(target) if kind.needs_target else not separator):
            return kind, target
    raise PinrecError(f"--recommendations must be {usage()}, got {spec!r}")


def check_spec(spec: str) -> str:
    """`spec` when it names a known source (with its target where it needs one); PinrecError otherwise."""
    _kind(spec)
    return spec


def open_source(spec: str, options: SourceOptions, clients: Callable[[str], Any]) -> RecommendationSource:
    kind, target = _kind(spec)
    return kind.open(target, options, clients)
