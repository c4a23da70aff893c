"""Lift over the holdout, with confidence intervals from statsmodels (the `pinrec[stats]` extra).

Why statsmodels: `statsmodels.stats.proportion` implements exactly the intervals a holdout comparison needs, each
from its paper and tested against it there: Wilson's score interval for one rate (`proportion_confint`, method
"wilson"), Newcombe's hybrid score interval for the difference of two independent rates (Newcombe 1998, method 10:
`confint_proportions_2indep`, method "newcomb", compare "diff"), and Katz's log interval for their ratio (method
"log", compare "ratio"). scipy alone has the Wilson interval but neither two-sample interval, and hand-writing them
is what a maintained library is for. It is heavy (numpy, scipy, pandas, patsy), so it is an optional extra, imported
only here and only when a report is computed; without it the report refuses with a clear error, never a
home-made approximation.

- `rate` = converted / recipients, with its Wilson interval;
- `difference` (absolute lift) = rate(treatment) - rate(holdout), with Newcombe's interval (defined for any counts,
  zero included);
- `relative` (relative lift) = rate(treatment) / rate(holdout) - 1, with Katz's interval minus 1; None when either
  group has no conversion (the ratio or its log interval is undefined then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transformer.errors import PinrecError

DEFAULT_CONFIDENCE = 0.95
EXTRA = "pip install 'pinrec[stats]'"


class StatisticsMissing(PinrecError):
    """statsmodels is not installed."""


def _proportion() -> Any:
    try:
        from statsmodels.stats import proportion
    except ImportError:
        raise StatisticsMissing(
            f"the campaign report's confidence intervals need statsmodels: {EXTRA} (or pip install statsmodels)"
        ) from None
    return proportion


def require_statistics() -> None:
    """Fail at once, before reading a ledger, when statsmodels is missing."""
    _proportion()


Interval = tuple[float, float]


@dataclass(frozen=True)
class Rate:
    converted: int
    recipients: int
    value: float
    interval: Interval | None
    """Wilson's interval; None without recipients."""

    @property
    def rate(self) -> float | None:
        return self.converted / self.recipients if self.recipients else None


@dataclass(frozen=True)
class Lift:
    difference: float
    difference_interval: Interval
    relative: float | None
    relative_interval: Interval | None


def rate(converted: int, recipients: int, value: float = 0.0, confidence: float = DEFAULT_CONFIDENCE) -> Rate:
    if not recipients:
        return Rate(converted, recipients, value, None)
    low, high = _proportion().proportion_confint(converted, recipients, alpha=1 - confidence, method="wilson")
    return Rate(converted, recipients, value, (float(low), float(high)))


def lift(treatment: Rate, holdout: Rate, confidence: float = DEFAULT_CONFIDENCE) -> Lift | None:
    """The treatment's lift over the holdout; None when either group has no recipients."""
    if not treatment.recipients or not holdout.recipients:
        return None
    proportion = _proportion()
    counts = (treatment.converted, treatment.recipients, holdout.converted, holdout.recipients)
    alpha = 1 - confidence
    low, high = proportion.confint_proportions_2indep(*counts, method="newcomb", compare="diff", alpha=alpha)
    difference = treatment.converted / treatment.recipients - holdout.converted / holdout.recipients
    relative: float | None = None
    relative_interval: Interval | None = None
    if treatment.converted and holdout.converted:
        ratio = (treatment.converted / treatment.recipients) / (holdout.converted / holdout.recipients)
        ratio_low, ratio_high = proportion.confint_proportions_2indep(
            *counts, method="log", compare="ratio", alpha=alpha
        )
        relative, relative_interval = ratio - 1, (float(ratio_low) - 1, float(ratio_high) - 1)
    return Lift(difference, (float(low), float(high)), relative, relative_interval)
