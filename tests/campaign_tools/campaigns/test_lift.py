"""Rates and lift against published and hand-computed values.

- Wilson's interval for 81/263: 0.2553 to 0.3662 (Newcombe 1998, "Two-sided confidence intervals for the single
  proportion", Statistics in Medicine 17, table II, method 3).
- Newcombe's hybrid score interval for 56/70 - 48/80 = 0.2000: 0.0524 to 0.3339 (Newcombe 1998, "Interval estimation
  for the difference between independent proportions", Statistics in Medicine 17, table II, method 10).
- Katz's log interval for the ratio (56/70) / (48/80) = 4/3, by hand: SE(ln RR) = sqrt(1/56 - 1/70 + 1/48 - 1/80) =
  0.109109; exp(ln(4/3) -+ 1.959964 * 0.109109) = 1.07663, 1.65125.
"""

from __future__ import annotations

import builtins
import math

import pytest

from campaign_tools.campaigns import lift as lift_module
from campaign_tools.campaigns.lift import StatisticsMissing, lift, rate, require_statistics


def test_wilson_interval_of_one_rate():
    found = rate(81, 263)
    assert found.rate == pytest.approx(0.30798, abs=1e-5)
    assert found.interval == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert rate(0, 0).interval is None and rate(0, 0).rate is None


def test_newcombe_difference_and_katz_ratio():
    found = lift(rate(56, 70), rate(48, 80))
    assert found is not None
    assert found.difference == pytest.approx(0.2)
    assert found.difference_interval == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert found.relative == pytest.approx(1 / 3)
    se = math.sqrt(1 / 56 - 1 / 70 + 1 / 48 - 1 / 80)
    assert se == pytest.approx(0.109109, abs=1e-6)
    expected = (4 / 3 * math.exp(-1.959964 * se) - 1, 4 / 3 * math.exp(1.959964 * se) - 1)
    assert found.relative_interval == pytest.approx(expected, abs=1e-5)
    assert found.relative_interval == pytest.approx((0.07663, 0.65125), abs=5e-5)


def test_a_wider_confidence_gives_a_wider_interval():
    narrow = lift(rate(56, 70), rate(48, 80), confidence=0.9)
    wide = lift(rate(56, 70), rate(48, 80), confidence=0.99)
    assert narrow is not None and wide is not None
    assert wide.difference_interval[0] < narrow.difference_interval[0] < 0.2 < narrow.difference_interval[1]
    assert narrow.difference_interval[1] < wide.difference_interval[1]


def test_zero_conversions_keep_the_difference_and_drop_the_ratio():
    found = lift(rate(3, 10), rate(0, 10))
    assert found is not None and found.relative is None and found.relative_interval is None
    low, high = found.difference_interval
    assert low < 0.3 < high
    assert lift(rate(3, 10), rate(0, 0)) is None


def test_without_statsmodels_the_report_refuses_clearly(monkeypatch):
    real_import = builtins.__import__

    def no_statsmodels(name, *args, **kwargs):
        if name.startswith("statsmodels"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_statsmodels)
    with pytest.raises(StatisticsMissing, match=r"pip install 'pinrec\[stats\]'"):
        require_statistics()
    with pytest.raises(StatisticsMissing):
        lift_module.rate(1, 2)
