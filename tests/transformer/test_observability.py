"""Every reason the transformer counts has its metric, and the README's metric lists name each one."""

from __future__ import annotations

from pathlib import Path

from transformer import observability
from transformer.enrich import LeftOut
from transformer.items import ItemReason
from transformer.offers.eligibility import Exclusion

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_left_out_and_item_reason_has_a_metric_the_readme_names() -> None:
    left_out = {**observability._LEFT_OUT_METRIC, **observability._OFFERS_LEFT_OUT_METRIC}
    assert set(left_out) == set(LeftOut)
    assert set(observability._ITEMS_MISSING_METRIC) == set(ItemReason)
    exclusions = [f"OffersExcluded{reason.value.title().replace('_', '')}" for reason in Exclusion]
    names = [*left_out.values(), *observability._ITEMS_MISSING_METRIC.values(), *exclusions, "ScheduledTimeIgnored"]
    assert [name for name in names if f"`{name}`" not in README] == []
