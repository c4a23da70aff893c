"""Hostile input for the tests that prove one bad endpoint, item or template affects only itself: any JSON value, hostile
strings (lone surrogates, NUL, 100,000 characters), deep nesting, and mappings that raise.

Two forms: hypothesis strategies (`hostile_text`, `json_values`, `any_value`) for small properties, and `Hostile`,
which builds whole events from a Random whose seed hypothesis draws. Drawing every field of tens of thousands of
50-endpoint events through hypothesis takes many minutes; a seeded generator takes milliseconds, and hypothesis still
chooses, reports and replays the seed."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from hypothesis import strategies as st

HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "item\udfff",
    "\udc80\ud800",
    "x" * 100,
    "x" * 101,
    "é" * 101,
    "🛶" * 100,
    "x" * 100_000,
    "\x00" * 64,
    "null",
    "{{ 7 * 7 }}",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59.999999",
    "2026-13-45T99:99:99Z",
    "EMAIL",
]
"""Strings that broke or could break a batch: empty, NUL, lone surrogates, at and past Pinpoint's 100-character id
limit, 100,000 characters, timestamps at the edge of the date range."""

EDGE_NUMBERS: list[Any] = [0, -1, 1, 2**53 + 1, 2**63, -(2**63) - 1, 10**400, 0.0, -0.0, 1.5, 1e308, -1e308, 5e-324]

LONE_SURROGATES = st.integers(min_value=0xD800, max_value=0xDFFF).map(chr)
hostile_text = st.one_of(
    st.text(st.one_of(st.characters(), LONE_SURROGATES, st.just("\x00")), max_size=12),
    st.sampled_from(HOSTILE_STRINGS),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(EDGE_NUMBERS), st.floats(), hostile_text),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(hostile_text, children, max_size=3),
    max_leaves=6,
)


@cache
def nested(depth: int) -> Any:
    """A value nested `depth` levels deep, alternating lists and objects (built once per depth: nothing may change
    it, and building deep values again and again is most of a run's time)."""
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


DEPTHS = [100, 999, 1_000, 1_001, 3_000, 20_000]
any_value = st.one_of(json_values, st.sampled_from(DEPTHS).map(nested))
"""Any JSON value: any type, any string, any nesting."""


class RaisingMapping(Mapping[str, Any]):
    """An endpoint that is a mapping but raises when read: stands for a bug in one endpoint's handling."""

    def __init__(self, error: type[Exception]) -> None:
        self._error = error

    def __getitem__(self, key: str) -> Any:
        raise self._error("raised while reading the endpoint")

    def __iter__(self) -> Iterator[str]:
        raise self._error("raised while reading the endpoint")

    def __len__(self) -> int:
        raise self._error("raised while reading the endpoint")

    def __repr__(self) -> str:
        return f"RaisingMapping({self._error.__name__})"


RAISING = [KeyError, TypeError, ValueError, RuntimeError, OverflowError]
CHANNELS = ["EMAIL", "SMS", "PUSH", "GCM", "APNS", "CUSTOM"]


class Hostile:
    """Builds hostile values and whole events from one Random."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def code_point(self) -> str:
        rng = self.rng
        band = rng.randrange(8)
        if band == 0:
            return chr(rng.randrange(0xD800, 0xE000))  # a lone surrogate
        if band == 1:
            return rng.choice(["\x00", "\ufeff", "\u200d", "\uffff", "\x7f", "\n", '"', "\\"])
        if band == 2:
            return chr(rng.randrange(0x10000, 0x110000))
        if band == 3:
            return chr(rng.randrange(0x80, 0xD800))
        return chr(rng.randrange(0x20, 0x7F))

    def text(self) -> str:
        rng = self.rng
        kind = rng.randrange(5)
        if kind == 0:
            return rng.choice(HOSTILE_STRINGS)
        if kind == 1:
            return self.code_point() * rng.choice([99, 100, 101, 1_000, 100_000])
        return "".join(self.code_point() for _ in range(rng.randrange(13)))

    def scalar(self) -> Any:
        rng = self.rng
        kind = rng.randrange(6)
        if kind == 0:
            return rng.choice([None, True, False])
        if kind == 1:
            return rng.choice(EDGE_NUMBERS)
        if kind == 2:
            return rng.randint(-(2**70), 2**70)
        if kind == 3:
            return rng.uniform(-1e9, 1e9)
        return self.text()

    def value(self, depth: int = 0) -> Any:
        """Any JSON value: a scalar, a list or an object of up to four values, or one nested thousands deep."""
        rng = self.rng
        kind = rng.randrange(10)
        if kind == 0:
            return nested(rng.choice(DEPTHS))
        if kind <= 2 and depth < 3:
            return [self.value(depth + 1) for _ in range(rng.randrange(5))]
        if kind <= 4 and depth < 3:
            return {self.text(): self.value(depth + 1) for _ in range(rng.randrange(5))}
        return self.scalar()

    def items(self, pool: list[str], *, min_size: int = 0) -> list[Any]:
        """`RecommendationItems`: ids of the pool mixed with any value."""
        return [
            self.rng.choice(pool) if self.rng.random() < 0.6 else self.value()
            for _ in range(self.rng.randint(min_size, 6))
        ]

    def endpoint(self, pool: list[str]) -> Any:
        """A valid endpoint, an object whose every field may hold anything, any value, or a mapping that raises."""
        rng = self.rng
        kind = rng.random()
        if kind < 0.45:
            return {
                "ChannelType": rng.choice(CHANNELS),
                "Address": "someone@example.com",
                "User": {"UserId": f"user-{rng.randrange(1000)}"},
                "RecommendationItems": self.items(pool, min_size=1),
            }
        if kind < 0.8:
            endpoint: dict[str, Any] = {}
            for field in ("ChannelType", "Address", "User", "RecommendationItems", "Recommendations", "Attributes"):
                if rng.random() < 0.6:
                    endpoint[field] = self.value()
            if rng.random() < 0.5:
                endpoint["User"] = {"UserId": self.value()}
            if rng.random() < 0.6:
                endpoint["RecommendationItems"] = self.items(pool)
            if rng.random() < 0.3:
                endpoint[self.text()] = self.value()
            return endpoint
        if kind < 0.95:
            return self.value()
        return RaisingMapping(rng.choice(RAISING))

    def event(self, pool: list[str]) -> Any:
        """A whole event: up to six distinct endpoints spread over up to 54 plain and hostile endpoint ids, an
        optional ScheduledTime of any value; now and then a malformed event shape."""
        rng = self.rng
        if rng.random() < 0.04:
            return rng.choice([self.value(), {"Endpoints": self.value()}, {"Endpoints": None}, []])
        distinct = [self.endpoint(pool) for _ in range(rng.randint(1, 6))]
        ids = [self.text() for _ in range(rng.randrange(5))] + [f"ep-{n}" for n in range(rng.randrange(51))]
        event: dict[str, Any] = {"Endpoints": {endpoint_id: rng.choice(distinct) for endpoint_id in ids}}
        if rng.random() < 0.5:
            event["ScheduledTime"] = rng.choice([self.text(), self.value(), "2026-12-01T09:00:00Z"])
        if rng.random() < 0.3:
            event["ApplicationId"] = self.value()
        return event


seeds = st.integers(min_value=0, max_value=2**64 - 1)
"""What a test draws: a failure is then reported (and replayed) as one number, not as an event nested 20,000 deep."""


def hostile_events(seed: int, pool: list[str], count: int) -> list[Any]:
    """`count` whole events built from the Random that `seed` starts."""
    hostile = Hostile(random.Random(seed))
    return [hostile.event(pool) for _ in range(count)]
