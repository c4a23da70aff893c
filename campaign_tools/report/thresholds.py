"""The bounce and complaint rates SES and the mailbox providers act on, and the warnings a report gives before a
campaign's email rates reach them.

Sources: the SES Developer Guide's reputation metrics pages (an account is placed under review at a bounce rate of
5 % and may be paused at 10 %; under review at a complaint rate of 0.1 % and may be paused at 0.5 %; SES's bounce
rate counts hard bounces only), and the Gmail and Yahoo bulk-sender rules of 2024, which Microsoft followed in 2025
(a user-reported spam rate that must stay below 0.3 %, Google recommending below 0.1 %: see
shared/reference/after-pinpoint.md). A level is *approaching* from its `warn_from` and *reached* at its `limit`;
comparisons are exact (fractions), so 1 complaint in 1,000 deliveries reaches 0.1 %.

SES and the providers measure an account's or a domain's recent traffic, not one campaign; a campaign's rates are the
early signal of where those measures are heading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

EMAIL = "email"


class Level(StrEnum):
    APPROACHING = "approaching"
    REACHED = "reached"


@dataclass(frozen=True)
class Threshold:
    name: str
    rate: str
    """The `figures.RATES` name it applies to."""
    limit: Fraction
    warn_from: Fraction
    authority: str
    consequence: str


THRESHOLDS: tuple[Threshold, ...] = (
    Threshold(
        "ses_bounce_review",
        "hard_bounce",
        Fraction("0.05"),
        Fraction("0.025"),
        "Amazon SES",
        "SES places the account under review",
    ),
    Threshold(
        "ses_bounce_pause",
        "hard_bounce",
        Fraction("0.10"),
        Fraction("0.05"),
        "Amazon SES",
        "SES may pause the account's sending",
    ),
    Threshold(
        "ses_complaint_review",
        "complaint",
        Fraction("0.001"),
        Fraction("0.0005"),
        "Amazon SES",
        "SES places the account under review",
    ),
    Threshold(
        "mailbox_spam_rate",
        "complaint",
        Fraction("0.003"),
        Fraction("0.001"),
        "Gmail, Yahoo and Microsoft bulk-sender rules",
        "mailbox providers filter or reject the sender's mail",
    ),
    Threshold(
        "ses_complaint_pause",
        "complaint",
        Fraction("0.005"),
        Fraction("0.0025"),
        "Amazon SES",
        "SES may pause the account's sending",
    ),
)
"""Email only: SMS and push have no such published rates."""


@dataclass(frozen=True)
class RateWarning:
    channel: str
    threshold: Threshold
    level: Level
    numerator: int
    denominator: int

    @property
    def rate(self) -> Fraction:
        return Fraction(self.numerator, self.denominator)

    def message(self) -> str:
        rate = percent(self.rate)
        limit = percent(self.threshold.limit)
        if self.level is Level.REACHED:
            return (
                f"{self.channel} {self.threshold.rate.replace('_', ' ')} rate {rate} has reached {limit}, where "
                f"{self.threshold.consequence} ({self.threshold.authority})"
            )
        return (
            f"{self.channel} {self.threshold.rate.replace('_', ' ')} rate {rate} is approaching {limit}, where "
            f"{self.threshold.consequence} ({self.threshold.authority}; warned from {percent(self.threshold.warn_from)})"
        )


def percent(value: Fraction) -> str:
    """A rate as a percentage with up to three decimals, e.g. 0.1 %, 2.5 %, 33.333 %."""
    text = f"{float(value) * 100:.3f}".rstrip("0").rstrip(".")
    return f"{text} %"


def warnings_for(channel: str, rates: Mapping[str, tuple[int, int]]) -> list[RateWarning]:
    """The warnings of one channel's rates, given as rate name -> (numerator, denominator); none for a rate whose
    denominator is 0 or for a channel other than email."""
    if channel != EMAIL:
        return []
    found: list[RateWarning] = []
    for threshold in THRESHOLDS:
        numerator, denominator = rates.get(threshold.rate, (0, 0))
        if denominator <= 0:
            continue
        rate = Fraction(numerator, denominator)
        if rate >= threshold.limit:
            found.append(RateWarning(channel, threshold, Level.REACHED, numerator, denominator))
        elif rate >= threshold.warn_from:
            found.append(RateWarning(channel, threshold, Level.APPROACHING, numerator, denominator))
    return found
