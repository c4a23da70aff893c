"""The first 72 hours, bucket by bucket, and the pure computation's indifference to order."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_tools.report.figures import (
    SERIES_HOURS,
    LedgerFacts,
    compute_report,
    compute_series,
)
from campaign_tools.send.ledgers.base import LedgerSummary, MessageEvent
from tests.campaign_tools.report.builders import HOUR, T0

KINDS = ("send", "delivery", "bounce", "complaint", "open", "click", "subscription", "failed", "blocked", "opt_out")


def message_event(number: int, kind: str, endpoint: str, at: float, **fields: str | None) -> MessageEvent:
    return MessageEvent("c", endpoint, f"event-{number}", "email", kind, at, f"m-{endpoint}", **fields)


def test_without_a_send_event_the_series_starts_at_the_earliest_event() -> None:
    series = compute_series([message_event(1, "delivery", "a", T0 + 10), message_event(2, "open", "a", T0 + 10 + HOUR)])

    assert series.start == T0 + 10
    assert series.counts["delivery"][0] == 1
    assert series.counts["open"][1] == 1
    assert series.outside == 0


def test_events_before_the_first_send_or_from_72_hours_on_are_outside() -> None:
    series = compute_series(
        [
            message_event(1, "send", "a", T0),
            message_event(2, "delivery", "b", T0 - 1),  # before the first send (a clock's skew)
            message_event(3, "open", "a", T0 + SERIES_HOURS * HOUR - 0.001),  # the last bucket
            message_event(4, "click", "a", T0 + SERIES_HOURS * HOUR),  # just past it
        ]
    )

    assert series.counts["delivery"] == (0,) * SERIES_HOURS
    assert series.counts["open"][SERIES_HOURS - 1] == 1
    assert sum(series.counts["click"]) == 0
    assert series.outside == 2


def test_no_events_no_series() -> None:
    series = compute_series([])

    assert series.start is None
    assert all(counts == (0,) * SERIES_HOURS for counts in series.counts.values())


def test_a_kind_the_report_does_not_know_is_outside_the_series_but_proves_the_send() -> None:
    facts = LedgerFacts(LedgerSummary("c"), "email", {}, frozenset())

    report = compute_report("c", facts, [message_event(1, "teleported", "a", T0)], T0)

    assert report.series.outside == 1
    assert report.total.sent == 1
    assert report.total.delivered == 0


events_strategy = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.sampled_from(["a", "b", "c", "d"]),
        st.integers(-2, 80),  # hours from T0
        st.sampled_from([None, "Permanent", "Transient", "unsubscribed", "subscribed"]),
        st.sampled_from([None, "https://x.example/1", "https://x.example/2"]),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(events=events_strategy, data=st.data())
def test_the_report_is_the_same_for_any_order_of_its_events(
    events: list[tuple[str, str, int, str, str]], data: st.DataObject
) -> None:
    stored = [
        message_event(number, kind, endpoint, T0 + hours * HOUR, subtype=subtype, link=link, detail="why")
        for number, (kind, endpoint, hours, subtype, link) in enumerate(events)
    ]
    facts = LedgerFacts(
        LedgerSummary("c", sent=3, skipped=Counter({"suppressed:bounce": 1})), "email", {}, frozenset({"a", "b"})
    )
    permuted = data.draw(st.permutations(stored))

    assert compute_report("c", facts, permuted, T0) == compute_report("c", facts, stored, T0)


@settings(max_examples=100, deadline=None)
@given(events=events_strategy)
def test_within_the_window_the_series_sums_to_the_figures(events: list[tuple[str, str, int, str, str]]) -> None:
    stored = [message_event(0, "send", "a", T0)] + [
        message_event(number + 1, kind, endpoint, T0 + (hours % SERIES_HOURS) * HOUR, subtype=subtype, link=link)
        for number, (kind, endpoint, hours, subtype, link) in enumerate(events)
    ]
    report = compute_report("c", LedgerFacts(LedgerSummary("c"), "email", {}, frozenset()), stored, T0)

    assert report.series.outside == 0
    assert sum(report.series.counts["delivery"]) == report.total.delivered
    assert sum(report.series.counts["open"]) == report.total.opened
    assert sum(report.series.counts["click"]) == report.total.clicked
    assert sum(report.series.counts["complaint"]) == report.total.complained
    assert sum(report.series.counts["bounce"]) == report.total.bounced
