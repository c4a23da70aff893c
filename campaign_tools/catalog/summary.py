"""What a catalog load did, whichever store it wrote to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class LoadSummary:
    records: int = 0
    """Records read from the source and accepted (duplicates included, rejected lines excluded)."""
    loaded: int = 0
    """Distinct items written by this load."""
    added: int = 0
    replaced: int = 0
    purged: int = 0
    rejected: int = 0
    total: int = 0
    """Items in the catalog after the load."""
    duplicates: int = 0
    duplicate_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0


Progress = Callable[[int], None]
"""Called now and then with the number of records processed so far."""
