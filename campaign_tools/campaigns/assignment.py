"""Holdout and treatments: each recipient's group from a hash of (campaign id, recipient id).

The hash is SHA-256 of `<campaign id> NUL <recipient id>` (UTF-8), its first 8 bytes as a big-endian number modulo
10,000: a bucket in basis points, the same on every run, machine and Python version (never `hash()`, which is salted
per process). Buckets [0, holdout) are the holdout; then each treatment in order takes its share: the campaign's own
message first (what the holdout and the others leave), then `[[treatments]]` as written. Changing the sizes moves
only the recipients whose bucket crosses a boundary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaign_tools.campaigns.definition import HOLDOUT, CampaignDefinition

BUCKETS = 10_000
"""Basis points: sizes are whole percents, so every boundary falls on a bucket."""


def bucket(campaign_id: str, recipient_id: str) -> int:
    digest = hashlib.sha256(f"{campaign_id}\0{recipient_id}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


@dataclass(frozen=True)
class Assignment:
    """A campaign's groups: (name, upper bucket bound), in order, the holdout first."""

    campaign_id: str
    bounds: tuple[tuple[str, int], ...]
    by_user: bool = False

    @classmethod
    def of(cls, definition: CampaignDefinition) -> Assignment:
        shares = [(HOLDOUT, definition.holdout_percent), (definition.treatment_name, definition.default_share)]
        shares += [(treatment.name, treatment.size_percent) for treatment in definition.treatments]
        bounds, total = [], 0
        for name, percent in shares:
            total += percent * BUCKETS // 100
            bounds.append((name, total))
        return cls(definition.id, tuple(bounds), definition.assign_by == "user")

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.bounds)

    def group_of(self, recipient_id: str) -> str:
        """The group of a recipient id: `holdout` or a treatment's name."""
        value = bucket(self.campaign_id, recipient_id)
        return next(name for name, bound in self.bounds if value < bound)

    def recipient_id(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> str:
        """What the hash keys on: the endpoint id, or with assign_by = "user" its User.UserId when it has one."""
        if self.by_user:
            user = endpoint.get("User")
            user_id = user.get("UserId") if isinstance(user, Mapping) else None
            if isinstance(user_id, str) and user_id:
                return f"user:{user_id}"
        return endpoint_id

    def group(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> str:
        return self.group_of(self.recipient_id(endpoint_id, endpoint))
