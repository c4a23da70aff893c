"""The events function's forwarding step (`handlers/events.py`, when `PINREC_PERSONALIZE_TRACKER` names a tracking
id): after a batch's events are recorded, its tracked clicks are forwarded once each, within a small time budget and
with one attempt per call. A throttled or failing call leaves its events queued (not marked): `pinrec engagement
forward` forwards them from the ledger. Recording never waits for Personalize: this step runs after it, and any
error here is counted, never raised."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from campaign_tools.engagement.forward import DEFAULT_CLICK_EVENT_TYPE, Forwarder, ForwardReport, click_interactions
from campaign_tools.engagement.store import EngagementStore
from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.send.ledgers.base import MessageEvent
from campaign_tools.send.pacing import Backoff

TRACKER_ENV = "PINREC_PERSONALIZE_TRACKER"
CLICK_EVENT_TYPE_ENV = "PINREC_CLICK_EVENT_TYPE"
BUDGET_SECONDS = 5.0
"""Longest the step may take in one invocation."""
MARGIN_SECONDS = 3.0
"""Time left to the invocation's end that the step never uses."""


def clicks_of(events: Iterable[DeliveryEvent]) -> Iterator[MessageEvent]:
    """The click events that name their message by its tags (what the ledger stores them under)."""
    for event in events:
        if event.kind is EventKind.CLICK and event.campaign_id and event.endpoint_id:
            yield MessageEvent(
                event.campaign_id,
                event.endpoint_id,
                event.event_id,
                str(event.channel),
                str(event.kind),
                event.occurred_at,
                event.message_id,
                link=event.link,
            )


def forward_recorded(
    events: Iterable[DeliveryEvent],
    store: EngagementStore,
    client: Any,
    tracking_id: str,
    *,
    event_type: str = DEFAULT_CLICK_EVENT_TYPE,
    remaining_seconds: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ForwardReport:
    """Forward the recorded batch's tracked clicks: one attempt per call, within the budget."""
    report = ForwardReport()
    budget = BUDGET_SECONDS if remaining_seconds is None else min(BUDGET_SECONDS, remaining_seconds - MARGIN_SECONDS)
    if budget <= 0:
        return report
    try:
        interactions = click_interactions(clicks_of(events), store, report, event_type)
        if interactions:
            forwarder = Forwarder(
                client, tracking_id, store, concurrency=4, backoff=Backoff(max_attempts=1), deadline=clock() + budget
            )
            forwarder.forward(interactions, report)
    except Exception as error:  # forwarding must never cost the recorded batch
        report.rejected[f"error_{type(error).__name__}"] += 1
    return report
