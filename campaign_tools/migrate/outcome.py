"""What became of one Pinpoint object: the files it became and what of it could not be carried over, and why."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    kind: str
    name: str
    origin: str
    became: list[str] = field(default_factory=list)
    """Files written (relative to the output) and what they are."""
    not_carried: list[str] = field(default_factory=list)
    """What was not carried over, each with its reason."""
    notes: list[str] = field(default_factory=list)
    """What a user should know or check (lint findings, assumptions made)."""
    fields: list[str] = field(default_factory=list)
    """Every field of an object that was not carried over at all, so nothing is dropped silently."""

    @property
    def carried(self) -> bool:
        return bool(self.became)


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every leaf of a JSON value as (dotted path, JSON text); empty objects and lists are leaves too."""
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value:
        for number, item in enumerate(value):
            yield from flatten(item, f"{prefix}[{number}]")
    else:
        yield prefix, json.dumps(value, ensure_ascii=False, default=str)
