"""Warnings at the boundaries of the SES and mailbox-provider thresholds, counted exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest

from campaign_tools.report.figures import Figures
from campaign_tools.report.thresholds import THRESHOLDS, Level, RateWarning, percent, warnings_for


def levels(channel: str, figures: Figures) -> dict[str, Level]:
    return {warning.threshold.name: warning.level for warning in warnings_for(channel, figures.rate_terms())}


@pytest.mark.parametrize(
    ("hard_bounced", "expected"),
    [
        (24, {}),  # 2.4 % of 1,000 sent: below the first warning
        (25, {"ses_bounce_review": Level.APPROACHING}),  # 2.5 %: warned from here
        (49, {"ses_bounce_review": Level.APPROACHING}),
        (50, {"ses_bounce_review": Level.REACHED, "ses_bounce_pause": Level.APPROACHING}),  # 5 %: review
        (99, {"ses_bounce_review": Level.REACHED, "ses_bounce_pause": Level.APPROACHING}),
        (100, {"ses_bounce_review": Level.REACHED, "ses_bounce_pause": Level.REACHED}),  # 10 %: pause
    ],
)
def test_hard_bounce_rate_of_sent(hard_bounced: int, expected: dict[str, Level]) -> None:
    figures = Figures(sent=1000, delivered=900, bounced=hard_bounced + 30, hard_bounced=hard_bounced, soft_bounced=30)

    assert levels("email", figures) == expected


def test_soft_bounces_do_not_count_towards_ses_bounce_thresholds() -> None:
    figures = Figures(sent=100, delivered=50, bounced=50, soft_bounced=50)

    assert levels("email", figures) == {}


@pytest.mark.parametrize(
    ("complained", "expected"),
    [
        (4, {}),  # 0.04 % of 10,000 delivered
        (5, {"ses_complaint_review": Level.APPROACHING}),  # 0.05 %
        (9, {"ses_complaint_review": Level.APPROACHING}),
        (10, {"ses_complaint_review": Level.REACHED, "mailbox_spam_rate": Level.APPROACHING}),  # 0.1 %
        (24, {"ses_complaint_review": Level.REACHED, "mailbox_spam_rate": Level.APPROACHING}),
        (
            25,  # 0.25 %
            {
                "ses_complaint_review": Level.REACHED,
                "mailbox_spam_rate": Level.APPROACHING,
                "ses_complaint_pause": Level.APPROACHING,
            },
        ),
        (
            30,  # 0.3 %: Gmail, Yahoo and Microsoft
            {
                "ses_complaint_review": Level.REACHED,
                "mailbox_spam_rate": Level.REACHED,
                "ses_complaint_pause": Level.APPROACHING,
            },
        ),
        (
            50,  # 0.5 %
            {
                "ses_complaint_review": Level.REACHED,
                "mailbox_spam_rate": Level.REACHED,
                "ses_complaint_pause": Level.REACHED,
            },
        ),
    ],
)
def test_complaint_rate_of_delivered(complained: int, expected: dict[str, Level]) -> None:
    figures = Figures(sent=20_000, delivered=10_000, complained=complained)

    assert levels("email", figures) == expected


def test_no_warning_without_a_denominator_or_outside_email() -> None:
    assert levels("email", Figures()) == {}
    assert levels("sms", Figures(sent=10, delivered=1, bounced=9, hard_bounced=9, complained=1)) == {}
    assert levels("push", Figures(sent=10, delivered=1, complained=1)) == {}


def test_thresholds_are_the_published_numbers() -> None:
    limits = {threshold.name: (threshold.limit, threshold.warn_from) for threshold in THRESHOLDS}

    assert limits == {
        "ses_bounce_review": (Fraction(5, 100), Fraction(25, 1000)),
        "ses_bounce_pause": (Fraction(10, 100), Fraction(5, 100)),
        "ses_complaint_review": (Fraction(1, 1000), Fraction(5, 10000)),
        "mailbox_spam_rate": (Fraction(3, 1000), Fraction(1, 1000)),
        "ses_complaint_pause": (Fraction(5, 1000), Fraction(25, 10000)),
    }
    assert all(threshold.warn_from < threshold.limit for threshold in THRESHOLDS)


def test_messages_name_the_rate_the_limit_and_who_acts() -> None:
    (review,) = [
        warning
        for warning in warnings_for("email", Figures(sent=1000, delivered=1000, complained=1).rate_terms())
        if warning.threshold.name == "ses_complaint_review"
    ]

    assert isinstance(review, RateWarning)
    assert review.message() == (
        "email complaint rate 0.1 % has reached 0.1 %, where SES places the account under review (Amazon SES)"
    )
    assert percent(Fraction(1, 3)) == "33.333 %"
    assert percent(Fraction(0)) == "0 %"
