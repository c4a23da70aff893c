"""Seeded synthetic catalogs and campaigns: products with realistic field sizes, Zipf-popular recommendations."""

from __future__ import annotations

import bisect
import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SEED = 20261123
ZIPF_EXPONENT = 1.1
"""Popularity of item rank r is proportional to 1 / r**s; s = 1.1 is typical of retail view/purchase data."""
ITEMS_PER_ENDPOINT = 5
ENDPOINTS_PER_BATCH = 50

_WORDS = [
    "trail",
    "alpine",
    "merino",
    "ultralight",
    "waterproof",
    "insulated",
    "classic",
    "heritage",
    "summit",
    "ridge",
    "canyon",
    "river",
    "forest",
    "coastal",
    "urban",
    "travel",
    "performance",
    "everyday",
    "thermal",
    "breathable",
    "recycled",
    "organic",
    "packable",
    "rugged",
    "compact",
    "deluxe",
    "essential",
    "signature",
    "pro",
    "lite",
    "max",
]
_NOUNS = [
    "jacket",
    "shoes",
    "socks",
    "backpack",
    "tent",
    "lamp",
    "bottle",
    "gloves",
    "hat",
    "pants",
    "shirt",
    "vest",
    "boots",
    "stove",
    "mat",
]
_BRANDS = [
    f"{a}{b}" for a, b in itertools.product(("North", "Wild", "Peak", "Blue", "Stone"), ("peak", "land", "gear"))
]
_CATEGORIES = [f"category-{n:02d}" for n in range(30)]

ATTRIBUTES: dict[str, dict[str, Any]] = {
    "Title": {"field": "name", "max_length": 60},
    "ItemId": {"field": "id"},
    "ImageUrl": {"field": "image_url"},
    "Price": {"template": "{{ '%.2f' | format(item.price) }}", "default": ""},
    "Url": {"template": "https://shop.example.com/p/{{ item.id }}?utm_source=pinpoint&utm_medium=email"},
    "Category": {"field": "category"},
    "Brand": {"field": "brand"},
    "Rating": {"field": "rating"},
    "Currency": {"field": "currency"},
    "Summary": {"field": "description", "max_length": 120},
}
"""Ten attributes, as a real campaign would register: fields, truncation and two templates."""


def item_id(rank: int) -> str:
    return f"P{rank:07d}"


def product(rank: int, rng: random.Random) -> dict[str, Any]:
    name = " ".join(rng.choice(_WORDS).title() for _ in range(rng.randint(2, 6))) + " " + rng.choice(_NOUNS).title()
    description = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(30, 90))).capitalize() + "."
    return {
        "id": item_id(rank),
        "name": name,
        "brand": rng.choice(_BRANDS),
        "category": rng.choice(_CATEGORIES),
        "price": round(rng.uniform(3, 600), 2),
        "currency": "USD",
        "rating": round(rng.uniform(2.5, 5.0), 1),
        "in_stock": rng.random() < 0.9,
        "image_url": f"https://cdn.example.com/images/{rng.getrandbits(64):016x}/{item_id(rank)}-large.jpg",
        "description": description,
        "tags": rng.sample(_WORDS, rng.randint(3, 6)),
    }


def products(count: int, seed: int = SEED) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for rank in range(1, count + 1):
        yield product(rank, rng)


def jsonl_lines(count: int, seed: int = SEED) -> Iterator[str]:
    for item in products(count, seed):
        yield json.dumps(item, separators=(",", ":")) + "\n"


@dataclass
class ZipfSampler:
    """Draws item ids by Zipf popularity over a catalog of `size` items (rank 1 most popular)."""

    size: int
    rng: random.Random
    exponent: float = ZIPF_EXPONENT

    def __post_init__(self) -> None:
        self._cumulative = list(itertools.accumulate(1 / rank**self.exponent for rank in range(1, self.size + 1)))
        self._total = self._cumulative[-1]

    def rank(self) -> int:
        return bisect.bisect_left(self._cumulative, self.rng.random() * self._total) + 1

    def distinct_ids(self, count: int) -> list[str]:
        chosen: dict[str, None] = {}
        while len(chosen) < count:
            chosen[item_id(self.rank())] = None
        return list(chosen)


def endpoint(number: int, items: list[str]) -> dict[str, Any]:
    return {
        "ChannelType": "EMAIL",
        "Address": f"customer{number}@example.com",
        "EndpointStatus": "ACTIVE",
        "OptOut": "NONE",
        "EffectiveDate": "2026-11-01T10:00:00.000Z",
        "Attributes": {"Segment": ["returning"]},
        "Demographic": {"Locale": "en_US", "Timezone": "America/New_York"},
        "User": {"UserId": f"user-{number}", "UserAttributes": {"FirstName": ["Alex"]}},
        "RecommendationItems": items,
    }


class Campaign:
    """Successive Pinpoint-shaped invocation events for a campaign over endpoints numbered from 0."""

    def __init__(self, catalog_size: int, seed: int = SEED) -> None:
        self._sampler = ZipfSampler(catalog_size, random.Random(seed))
        self._next_endpoint = 0

    def event(self, endpoints: int = ENDPOINTS_PER_BATCH) -> dict[str, Any]:
        batch = {}
        for _ in range(endpoints):
            number = self._next_endpoint
            self._next_endpoint += 1
            batch[f"endpoint-{number}"] = endpoint(number, self._sampler.distinct_ids(ITEMS_PER_ENDPOINT))
        return {
            "ApplicationId": "bench-app",
            "CampaignId": "bench-campaign",
            "TreatmentId": "0",
            "Endpoints": batch,
        }
