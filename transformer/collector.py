"""How often the garbage collector's youngest generation runs, for work that makes many short-lived objects.

Python collects its youngest generation after 700 net allocations of container objects. A catalog load makes several
per record, and a warm transformer batch ~1,100, nearly all freed by reference counting (they form no cycles), so
at 700 the collector runs over and over for nothing: `pinrec catalog load` of 300,000 items ran a third faster with
the threshold at 20,000 (bench/RESULTS.md, "Issue 16, fourth round"). Cycles are still collected, a little later;
memory is not affected beyond the ~20,000 young objects the collector may let pile up.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_COLLECTION_THRESHOLD = 20_000
"""Net allocations of container objects between two collections of the youngest generation (Python's default: 700)."""


def collect_young_less_often() -> None:
    """For a process that this work owns (the Lambda handler): raise the youngest generation's threshold for good."""
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])


@contextmanager
def young_collections_less_often() -> Iterator[None]:
    """For work inside someone else's process (a load called from a library): raise the threshold while the block
    runs, then put back what was there. A threshold already higher (or 0: automatic collection off) is left alone."""
    before = gc.get_threshold()
    if before[0] == 0 or before[0] >= YOUNG_COLLECTION_THRESHOLD:
        yield
        return
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        if gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD:  # unless the block set its own
            gc.set_threshold(*before)
