"""The report's figures from a real SQLite ledger, against counts made by hand from the scenarios in builders.py."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_tools.report.figures import NO_LINK, SERIES_HOURS, SERIES_KINDS, CampaignReport, Figures, LinkClicks
from campaign_tools.report.json_report import report_dict
from campaign_tools.report.run import read_report
from campaign_tools.send.ledgers.base import ClaimPolicy, RecordedEvents
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from tests.campaign_tools.report.builders import (
    EMAIL,
    EMAIL_EVENTS,
    HOSTILE_LINK,
    LINK_A,
    LINK_B,
    NOW,
    SMS,
    SMS_EVENTS,
    T0,
    Campaign,
    K,
    event,
    write,
)
from transformer.errors import PinrecError

EMAIL_FIGURES = Figures(
    sent=11,  # e01..e10 marked sent, and p1: still pending, but its events prove the provider accepted it
    delivered=8,  # e01..e07 and p1; e01's second delivery event counts once
    bounced=3,  # e08, e09, e10
    hard_bounced=2,  # e08, and e10 (a transient bounce, then a permanent one)
    soft_bounced=1,  # e09
    complained=1,  # e02, twice
    rejected=0,
    rendering_failed=0,
    delayed=1,  # e05
    opened=3,  # e01 (three opens), e02, e03
    clicked=3,  # e01, e02, e03
    clicks=5,
    unsubscribed=1,  # e03; e04 subscribed
    suppressed=3,
    suppressed_by_reason={"complaint": 2, "bounce": 1},
    failed=1,
    failed_by_reason={"throttled": 1},
    links=(LinkClicks(LINK_A, 3, 2), LinkClicks(LINK_B, 1, 1), LinkClicks(HOSTILE_LINK, 1, 1)),
)
SMS_FIGURES = Figures(
    sent=4,
    delivered=2,  # n1, n4
    unsubscribed=1,  # n4's opt-out keyword
    failed=3,  # n2 (its first failure's reason), n3 blocked, n5 refused at send (the ledger's row)
    failed_by_reason={"blocked:SPAM": 1, "failed:UNREACHABLE": 1, "throttled": 1},
)


def report_of(path: Path, campaign_id: str) -> dict[str, object]:
    ledger = SqliteLedger(path, read_only=True)
    try:
        return report_dict(read_report(ledger, campaign_id, NOW, 900.0))
    finally:
        ledger.close()


def read(path: Path, campaign_id: str) -> CampaignReport:
    ledger = SqliteLedger(path, read_only=True)
    try:
        return read_report(ledger, campaign_id, NOW, 900.0)
    finally:
        ledger.close()


def test_email_figures_are_the_hand_counted_ones(tmp_path: Path) -> None:
    recorded = write(tmp_path / "ledger.db", EMAIL, EMAIL_EVENTS)
    assert recorded == RecordedEvents(recorded=len(EMAIL_EVENTS) - 1, duplicates=0, unknown=1)

    report = read(tmp_path / "ledger.db", "spring")

    assert report.channel == "email"
    assert list(report.channels) == ["email"]
    assert report.channels["email"] == EMAIL_FIGURES
    assert report.total == EMAIL_FIGURES
    assert (report.ledger_rows, report.pending, report.events) == (16, 1, len(EMAIL_EVENTS) - 1)
    assert report.last_event == T0 + 80 * 3600


def test_email_rates_use_the_documented_denominators(tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", EMAIL, EMAIL_EVENTS)

    rates = report_of(tmp_path / "ledger.db", "spring")["total"]["rates"]  # type: ignore[index]

    assert rates == {
        "delivery": round(8 / 11, 6),
        "bounce": round(3 / 11, 6),
        "hard_bounce": round(2 / 11, 6),
        "soft_bounce": round(1 / 11, 6),
        "complaint": 0.125,  # 1 / 8 delivered
        "reject": 0.0,
        "open": 0.375,  # 3 / 8 delivered
        "click": 0.375,
        "click_to_open": 1.0,  # 3 / 3 opened
        "unsubscribe": 0.125,
    }


def test_email_series_counts_each_recipients_first_event_by_hour(tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", EMAIL, EMAIL_EVENTS)

    series = read(tmp_path / "ledger.db", "spring").series

    expected = {kind: [0] * SERIES_HOURS for kind in SERIES_KINDS}
    expected["send"][0] = 11
    expected["delivery"][0] = 7  # e01..e07 a minute in
    expected["delivery"][1] = 1  # p1 at exactly one hour: the second bucket
    expected["bounce"][0] = 3  # e10's later permanent bounce is not its first
    expected["complaint"][2] = 1
    expected["open"][0] = 1  # e01 at 59:59
    expected["open"][24] = 1  # e02; e03 at exactly 72 h is outside
    expected["click"][1] = 1
    expected["click"][25] = 1  # e02; e03 at 80 h is outside
    expected["subscription"][10] = 1
    expected["subscription"][11] = 1
    expected["delivery_delay"][0] = 1
    assert series.start == T0
    assert {kind: list(counts) for kind, counts in series.counts.items()} == expected
    assert series.outside == 2


def test_sms_failures_blocks_and_opt_outs(tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", SMS, SMS_EVENTS)

    report = read(tmp_path / "ledger.db", "sms-sale")

    assert report.channel == "sms"
    assert report.channels == {"sms": SMS_FIGURES}
    assert report.warnings == ()  # the thresholds are email's


def test_a_channel_of_the_events_other_than_the_campaigns_is_reported_apart(tmp_path: Path) -> None:
    campaign = Campaign("mixed", sent=["a", "b"])
    events = [
        event("a-delivery", K.DELIVERY, "a", 0),
        event("b-delivery", K.DELIVERY, "b", 0, channel="push"),
    ]
    write(tmp_path / "ledger.db", campaign, events)

    report = read(tmp_path / "ledger.db", "mixed")

    assert list(report.channels) == ["email", "push"]
    # Both rows are the campaign's (email) sends; each channel counts its own events.
    assert (report.channels["email"].sent, report.channels["email"].delivered) == (2, 1)
    assert (report.channels["push"].sent, report.channels["push"].delivered) == (0, 1)
    assert (report.total.sent, report.total.delivered) == (2, 2)


def test_a_click_without_a_link_is_counted_under_no_link(tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", Campaign("c", sent=["a"]), [event("click", K.CLICK, "a", 1)])

    assert read(tmp_path / "ledger.db", "c").total.links == (LinkClicks(NO_LINK, 1, 1),)


def test_a_campaign_without_a_binding_takes_its_events_channel(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.db")
    ledger.claim("old", "n1", T0, ClaimPolicy("run"))
    ledger.mark_sent("old", "n1", "m-n1", T0)
    ledger.record_events([event("d", K.DELIVERY, "n1", 0, channel="sms")], NOW)
    ledger.close()

    report = read(tmp_path / "ledger.db", "old")

    assert report.channel == "sms"
    assert report.channels["sms"].sent == 1


def test_a_campaign_the_ledger_does_not_know_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", EMAIL, EMAIL_EVENTS)

    with pytest.raises(PinrecError, match="campaign nope has no rows in ledger"):
        read(tmp_path / "ledger.db", "nope")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), batches=st.integers(1, 5), repeats=st.lists(st.integers(0, 40), max_size=15))
def test_duplicates_reordering_and_batching_change_nothing(seed: int, batches: int, repeats: list[int]) -> None:
    """The same events in any order, in any batches, with any of them delivered again, give the same report."""
    shuffled = list(EMAIL_EVENTS) + [EMAIL_EVENTS[index % len(EMAIL_EVENTS)] for index in repeats]
    random.Random(seed).shuffle(shuffled)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.db"
        recorded = write(path, EMAIL, shuffled, batches=batches)
        assert recorded.recorded == len(EMAIL_EVENTS) - 1
        assert recorded.duplicates == len(shuffled) - len(EMAIL_EVENTS) - sum(
            1 for index in repeats if EMAIL_EVENTS[index % len(EMAIL_EVENTS)].event_id == "unknown-message"
        )
        assert read(path, "spring").total == EMAIL_FIGURES
        assert report_of(path, "spring") == _reference()


_REFERENCE: dict[str, object] = {}


def _reference() -> dict[str, object]:
    if not _REFERENCE:
        with tempfile.TemporaryDirectory() as folder:
            write(Path(folder) / "ledger.db", EMAIL, EMAIL_EVENTS)
            _REFERENCE.update(report_of(Path(folder) / "ledger.db", "spring"))
    return _REFERENCE
