"""The conversions store: each conversion kept once by its id, read back by time for the campaign report.

Adding a kind of store is one module with the `ConversionStore` protocol and its `open_<kind>`, and one line in
`registry.KINDS`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from campaign_tools.conversions.model import Conversion
from transformer.errors import PinrecError


class ConversionsError(PinrecError):
    """The conversions store cannot be opened, read or written."""


@dataclass(frozen=True)
class Added:
    added: int = 0
    duplicates: int = 0
    """Already stored under the same conversion id: nothing changed."""

    def __add__(self, other: Added) -> Added:
        return Added(self.added + other.added, self.duplicates + other.duplicates)


class ConversionStore(Protocol):
    def add(self, conversions: Sequence[Conversion], now: float) -> Added:
        """Store each conversion unless its id is stored already (the first one written is kept)."""
        ...

    def between(self, start: float, end: float, event_types: Collection[str] | None = None) -> Iterator[Conversion]:
        """Conversions with start <= occurred_at <= end (of these event types, when given), by time then id."""
        ...

    def describe(self) -> str: ...

    def close(self) -> None: ...
