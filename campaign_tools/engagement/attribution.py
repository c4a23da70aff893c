"""The campaign report's engagement figures, per treatment: clicks on each recommended position (1-5), the
recommended items' click-through rate, and the holdout's organic rate to read it against; and where Personalize's
own per-source figures are, when a metric attribution is configured.

Definitions (what `pinrec campaign report` prints):
- **clicks at position N**: click events of the treatment's units whose link is a tracked recommendation link
  (`links`) of that unit naming position N; every click counts (a recipient clicking twice counts twice).
- **other clicks**: click events of the units on any other link (the logo, "see all", unsubscribe...).
- **recommendation click-through rate**: recipients with at least one click on a recommended item ÷ the treatment's
  recipients (its `sent` rows).
- **holdout organic rate**: holdout recipients with at least one conversion of the campaign's `[conversions]`
  event types within the window after their slot ÷ holdout recipients: what recipients did with no message at all
  (the lift report's holdout conversion rate). The holdout got no email, so it has no clicks: the two rates measure
  different acts (a click in the email, a conversion on the site) and are shown side by side, not subtracted; the
  like-for-like comparison is each treatment's conversion rate and lift, above them in the report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from campaign_tools.engagement.links import MAX_POSITION, parse_click
from campaign_tools.send.ledgers.base import MessageEvent

CLICK = "click"


@dataclass(frozen=True)
class TreatmentEngagement:
    group: str
    recipients: int
    clicks_by_position: Mapping[int, int]
    clickers: int
    """Recipients with at least one click on a recommended item."""
    other_clicks: int

    @property
    def click_through_rate(self) -> float | None:
        return self.clickers / self.recipients if self.recipients else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "recipients": self.recipients,
            "clicks_by_position": {str(position): self.clicks_by_position.get(position, 0) for position in POSITIONS},
            "recommendation_clickers": self.clickers,
            "recommendation_click_through_rate": self.click_through_rate,
            "other_clicks": self.other_clicks,
        }


POSITIONS = tuple(range(1, MAX_POSITION + 1))


@dataclass(frozen=True)
class EngagementFigures:
    treatments: tuple[TreatmentEngagement, ...]
    holdout_recipients: int
    holdout_organic_rate: float | None
    metric_attribution_arn: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "treatments": [treatment.to_dict() for treatment in self.treatments],
            "holdout": {"recipients": self.holdout_recipients, "organic_rate": self.holdout_organic_rate},
            "personalize_metric_attribution": metric_attribution_pointer(self.metric_attribution_arn),
        }

    def lines(self) -> list[str]:
        found = ["engagement (tracked recommendation links; clicks at positions 1-5):"]
        for treatment in self.treatments:
            positions = " ".join(f"{p}:{treatment.clicks_by_position.get(p, 0):,}" for p in POSITIONS)
            found.append(
                f"  {treatment.group}: clicks {positions}; {treatment.clickers:,} of {treatment.recipients:,} "
                f"recipients clicked a recommended item ({_percent(treatment.click_through_rate)}); "
                f"{treatment.other_clicks:,} clicks on other links"
            )
        found.append(
            f"  holdout organic rate (converted with no message): {_percent(self.holdout_organic_rate)} of "
            f"{self.holdout_recipients:,}"
        )
        pointer = metric_attribution_pointer(self.metric_attribution_arn)
        found += [f"  {line}" for line in pointer["read"]] if pointer else []
        return found


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def metric_attribution_pointer(arn: str | None) -> dict[str, Any] | None:
    """Where Personalize's per-source figures are read (its reports group the forwarded events by
    eventAttributionSource: `<campaign>/<treatment>`)."""
    if not arn:
        return None
    return {
        "metric_attribution_arn": arn,
        "read": [
            f"Personalize metric attribution {arn}: per-source figures (EVENT_ATTRIBUTION_SOURCE = "
            "<campaign>/<treatment>, as `pinrec engagement forward` sends them)",
            "  events sent with PutEvents: the metric attribution's CloudWatch metrics, one per metric and source",
            "  bulk-imported interactions: its S3 output (metricsOutputConfig.s3DataDestination):",
            f"  aws personalize describe-metric-attribution --metric-attribution-arn {arn}",
            f"  aws personalize list-metric-attribution-metrics --metric-attribution-arn {arn}",
        ],
    }


def treatment_engagement(
    group: str, recipients: int, events: Iterable[tuple[str, MessageEvent]]
) -> TreatmentEngagement:
    """The figures of one treatment from its units' events: (the unit's send id, event) pairs."""
    positions: Counter[int] = Counter()
    clickers: set[str] = set()
    other = 0
    for send_id, event in events:
        if event.kind != CLICK:
            continue
        click = parse_click(event.link)
        if click is None or click.send_id != send_id:
            other += 1
            continue
        positions[click.position] += 1
        clickers.add(event.endpoint_id)
    return TreatmentEngagement(group, recipients, dict(positions), len(clickers), other)
