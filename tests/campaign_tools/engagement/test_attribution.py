"""The campaign report's engagement figures: clicks per recommended position per treatment, the recommendation
click-through rate against the holdout's organic rate, and the pointer to Personalize's metric attribution; a
campaign without clicks reports exactly what it did before."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign_tools.campaigns.report import campaign_lift_report
from campaign_tools.cli import main
from campaign_tools.engagement.links import tracked_url
from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from tests.campaign_tools.campaigns.test_report import SLOT, campaign, settings, unit

__all__ = ["campaign"]
ARN = "arn:aws:personalize:us-east-1:123456789012:metric-attribution/spring"


def click(number: int, send_id: str, endpoint: str, link: str | None) -> DeliveryEvent:
    return DeliveryEvent(
        f"{number:032x}", "email", EventKind.CLICK, SLOT.timestamp() + 7200 + number, None, send_id, endpoint,
        link=link,
    )  # fmt: skip


def recommended(send_id: str, position: int) -> str | None:
    return tracked_url(f"https://shop.example.com/p/P{position}", f"P{position}", position, send_id)


def add_clicks(file: Path) -> None:
    picks, bundle = unit(SLOT, "picks"), unit(SLOT, "bundle", "sms")
    ledger = SqliteLedger(file.parent / "pinrec-send.db")
    recorded = ledger.record_events(
        [
            click(1, picks, "p0", recommended(picks, 3)),
            click(2, picks, "p0", recommended(picks, 3)),  # twice: two clicks, one clicker
            click(3, picks, "p1", recommended(picks, 1)),
            click(4, picks, "p2", "https://shop.example.com/?utm_content=logo"),  # not a recommendation link
            click(5, picks, "p3", recommended(bundle, 2)),  # another unit's link: not this unit's recommendation
            click(6, bundle, "b0", recommended(bundle, 5)),
        ],
        0.0,
    )
    assert recorded.recorded == 6
    ledger.close()


def test_clicks_per_position_and_the_click_through_rate_per_treatment(campaign: Path) -> None:
    add_clicks(campaign)
    report = campaign_lift_report(settings(campaign))
    assert report.engagement is not None
    figures = {treatment.group: treatment for treatment in report.engagement.treatments}
    picks, bundle = figures["picks"], figures["bundle"]
    assert (dict(picks.clicks_by_position), picks.clickers, picks.other_clicks) == ({3: 2, 1: 1}, 2, 2)
    assert picks.recipients == 70 and picks.click_through_rate == pytest.approx(2 / 70)
    assert (dict(bundle.clicks_by_position), bundle.clickers, bundle.click_through_rate) == ({5: 1}, 1, 0.1)
    assert report.engagement.holdout_recipients == 81
    assert report.engagement.holdout_organic_rate == pytest.approx(48 / 81)
    data = report.to_dict()["engagement"]
    assert data["treatments"][0]["clicks_by_position"] == {"1": 1, "2": 0, "3": 2, "4": 0, "5": 0}
    assert data["personalize_metric_attribution"] is None
    text = "\n".join(report.lines())
    assert "picks: clicks 1:1 2:0 3:2 4:0 5:0; 2 of 70 recipients clicked a recommended item (2.86%)" in text
    assert "holdout organic rate (converted with no message): 59.26% of 81" in text


def test_the_metric_attribution_pointer_says_where_personalizes_figures_are(
    campaign: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:{campaign.parent / 'pinrec-send.db'}"
    arguments = ["campaign", "report", str(campaign), "--ledger", db, "--conversions", db]
    assert main([*arguments, "--metric-attribution", ARN]) == 0
    out = capsys.readouterr().out
    assert f"aws personalize describe-metric-attribution --metric-attribution-arn {ARN}" in out
    assert "EVENT_ATTRIBUTION_SOURCE = <campaign>/<treatment>" in out


def test_a_campaign_without_clicks_reports_what_it_did_before(campaign: Path) -> None:
    report = campaign_lift_report(settings(campaign))
    assert report.engagement is None and "engagement" not in report.to_dict()
