"""The interface every item store implements."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

Item = Mapping[str, Any]


class ItemStore(Protocol):
    def get_many(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Item]:
        """Fetch the items with these ids (unique). Unknown ids are absent from the result.

        `deadline` is a `time.monotonic()` instant the lookup must finish by; a store that cannot answer
        in time raises `CatalogUnavailableError`.
        """
        ...

    def close(self) -> None: ...
