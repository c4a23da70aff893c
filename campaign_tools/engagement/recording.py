"""At send time, what a click needs to be forwarded: a recommendation source that, around the send's own, keeps a
recipient record (`store.Recipient`) for every endpoint it found items for: the recommender's user id, the
`recommendationId` (when the source returns one: `personalize:`), the items in order.

Wired by `send.run.SendRun` only when the send tracks recommendation clicks (its template opts in) and keeps a
ledger (not a dry run): a template that does not opt in makes a send that stores nothing more than before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from campaign_tools.engagement.store import EngagementStore, Recipient
from campaign_tools.send.recommendations.base import IdType, Lookup, RecommendationSource, recommendation_key
from campaign_tools.send.segments import SegmentEndpoint


class RecordingRecommendations:
    """The send's recommendation source, recording each recipient it found items for (one write per batch)."""

    def __init__(
        self,
        inner: RecommendationSource,
        store: EngagementStore,
        send_id: str,
        id_type: IdType,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.inner = inner
        self.store = store
        self.send_id = send_id
        self.id_type = id_type
        self._clock = clock
        self.recorded = 0

    def describe(self) -> str:
        return self.inner.describe()

    def report(self) -> list[str]:
        return [*self.inner.report(), f"  engagement: {self.recorded:,} recipient records (click forwarding)"]

    def lookup(self, endpoints: Sequence[SegmentEndpoint]) -> Lookup:
        found = self.inner.lookup(endpoints)
        recommendation_id = getattr(self.inner, "recommendation_id_of", None)
        recipients = []
        for segment_endpoint in endpoints:
            items = found.items.get(segment_endpoint.endpoint_id)
            user_id = recommendation_key(segment_endpoint, self.id_type)
            if not items or user_id is None:
                continue
            given = recommendation_id(segment_endpoint) if recommendation_id is not None else None
            recipients.append(Recipient(segment_endpoint.endpoint_id, user_id, given, tuple(items)))
        if recipients:
            self.store.record_recipients(self.send_id, recipients, self._clock())
            self.recorded += len(recipients)
        return found
