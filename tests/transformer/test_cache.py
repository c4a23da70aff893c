"""The per-container cache: fresh for its TTL, stale after, bounded, and evicting what was least recently used
(approximately, by epochs: `transformer.cache.TtlLruCache`)."""

from __future__ import annotations

import random
from collections import OrderedDict

from hypothesis import given, settings
from hypothesis import strategies as st

from transformer.cache import EPOCHS_PER_CAPACITY, TtlLruCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_fresh_for_its_ttl_then_stale_until_evicted() -> None:
    clock = Clock()
    cache: TtlLruCache[str] = TtlLruCache(ttl_seconds=10, max_items=5, clock=clock)
    cache.put_many({"a": "A"})
    clock.now += 9.9
    assert cache.lookup(["a", "b"]).fresh == {"a": "A"}
    clock.now += 0.1
    lookup = cache.lookup(["a", "b"])
    assert (lookup.fresh, lookup.stale, lookup.absent) == ({}, {"a": "A"}, ["b"])
    cache.put_many({"a": "A2"})
    assert cache.lookup(["a"]).fresh == {"a": "A2"}


def test_a_small_cache_evicts_the_least_recently_used() -> None:
    cache: TtlLruCache[int] = TtlLruCache(ttl_seconds=60, max_items=3, clock=Clock())
    cache.put_many({"a": 1})
    cache.put_many({"b": 2})
    cache.put_many({"c": 3})
    assert cache.lookup(["a"]).fresh == {"a": 1}  # b is now the least recently used
    cache.put_many({"d": 4})
    assert cache.lookup(["a", "b", "c", "d"]).absent == ["b"]
    assert len(cache) == 3


def test_a_warm_lookup_in_the_same_epoch_reorders_nothing() -> None:
    cache: TtlLruCache[int] = TtlLruCache(ttl_seconds=60, max_items=100, clock=Clock())
    cache.put_many({f"k{index}": index for index in range(10)})
    order = list(cache._entries)
    cache.lookup(["k0", "k5", "k3"])
    assert list(cache._entries) == order, "entries inserted in this epoch are recent enough"
    cache.put_many({f"n{index}": index for index in range(100 // EPOCHS_PER_CAPACITY)})  # a new epoch
    cache.lookup(["k0"])
    assert list(cache._entries)[-1] == "k0"


def test_a_key_hit_after_more_than_an_epoch_of_changes_is_moved() -> None:
    """40 items, epochs of 10: a key hit 16 changes after its insert is moved to the recent end, so it outlives the
    30 keys (40 - 10) the epochs promise; left where it was, the 24 keys in front of it would go first and it 25th."""
    model = [f"k{index}" for index in range(40)] + [f"n{index}" for index in range(16)]
    cache: TtlLruCache[int] = TtlLruCache(ttl_seconds=60, max_items=40, clock=Clock())
    for key in model:
        cache.put_many({key: 0})
    assert cache.lookup(["n0"]).fresh == {"n0": 0}
    for index in range(40 - 40 // EPOCHS_PER_CAPACITY):
        cache.put_many({f"m{index}": 0})
    assert "n0" in cache._entries


operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.lists(st.integers(0, 60), min_size=1, max_size=4, unique=True)),
        st.tuples(st.just("get"), st.lists(st.integers(0, 60), min_size=1, max_size=1)),
        st.tuples(st.just("tick"), st.just([])),
    ),
    max_size=250,
)


@settings(max_examples=300, deadline=None)
@given(max_items=st.integers(1, 40), steps=operations)
def test_against_a_model_bounded_exact_values_and_recently_used_entries_kept(
    max_items: int, steps: list[tuple[str, list[int]]]
) -> None:
    replay(max_items, steps)


def test_a_long_seeded_run_against_the_model() -> None:
    generator = random.Random(16)
    for max_items in (12, 40, 100):
        kinds = ["put", "get", "get", "get"]
        steps = [(generator.choice(kinds), [generator.randrange(max_items * 2)]) for _ in range(4_000)]
        replay(max_items, steps)


def replay(max_items: int, steps: list[tuple[str, list[int]]]) -> None:
    """Run `steps` on a cache and on a model of it, checking the cache against the model after each."""
    ttl = 5.0
    clock = Clock()
    cache: TtlLruCache[tuple[int, int]] = TtlLruCache(ttl_seconds=ttl, max_items=max_items, clock=clock)
    epoch_length = max(1, max_items // EPOCHS_PER_CAPACITY)
    latest: dict[str, tuple[tuple[int, int], float]] = {}  # key -> (value, expires at) of its last put
    used: OrderedDict[str, None] = OrderedDict()  # keys by last use (a put or a fresh hit), most recent last
    for step, (kind, numbers) in enumerate(steps):
        keys = [f"k{number}" for number in numbers]
        if kind == "tick":
            clock.now += 1
            continue
        if kind == "put":
            values = {key: (step, index) for index, key in enumerate(keys)}
            cache.put_many(values)
            for key, value in values.items():
                latest[key] = (value, clock.now + ttl)
                used[key] = None
                used.move_to_end(key)
        else:
            lookup = cache.lookup(keys)
            for key in keys:
                if key in lookup.fresh or key in lookup.stale:
                    value, expires_at = latest[key]
                    assert lookup.fresh.get(key, lookup.stale.get(key)) == value, "only the value of the last put"
                    assert (key in lookup.fresh) == (expires_at > clock.now)
                if key in lookup.fresh:
                    used.move_to_end(key)
        assert len(cache) <= max_items
        # Exact LRU keeps a key until `max_items` other keys have been used since; epochs cost one epoch of that.
        for used_since, key in enumerate(reversed(used)):
            if used_since <= max_items - epoch_length - 1:
                assert key in cache._entries, f"{key} is gone after {used_since} other keys were used"
