"""The report as JSON: a stable, documented schema (README, "Campaign report"). Fields are only ever added; a change
that removes or retypes one changes `SCHEMA`."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from campaign_tools.console import json_text
from campaign_tools.report.figures import BUCKET_SECONDS, SERIES_HOURS, CampaignReport, Figures, Series
from campaign_tools.report.thresholds import RateWarning

SCHEMA = "pinrec.campaign-report/1"
RATE_DIGITS = 6


def when(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch is not None else None


def rate_value(rate: Fraction | None) -> float | None:
    return round(float(rate), RATE_DIGITS) if rate is not None else None


def figures_dict(figures: Figures) -> dict[str, Any]:
    return {
        "sent": figures.sent,
        "delivered": figures.delivered,
        "bounced": figures.bounced,
        "hard_bounced": figures.hard_bounced,
        "soft_bounced": figures.soft_bounced,
        "complained": figures.complained,
        "rejected": figures.rejected,
        "rendering_failed": figures.rendering_failed,
        "delayed": figures.delayed,
        "opened": figures.opened,
        "clicked": figures.clicked,
        "clicks": figures.clicks,
        "unsubscribed": figures.unsubscribed,
        "suppressed": figures.suppressed,
        "suppressed_by_reason": dict(figures.suppressed_by_reason),
        "failed": figures.failed,
        "failed_by_reason": dict(figures.failed_by_reason),
        "links": [{"link": link.link, "clicks": link.clicks, "unique": link.unique} for link in figures.links],
        "rates": {name: rate_value(rate) for name, rate in figures.rates().items()},
    }


def series_dict(series: Series) -> dict[str, Any]:
    return {
        "start": when(series.start),
        "hours": SERIES_HOURS,
        "bucket_seconds": BUCKET_SECONDS,
        "first_events": {kind: list(counts) for kind, counts in series.counts.items()},
        "outside": series.outside,
    }


def warning_dict(warning: RateWarning) -> dict[str, Any]:
    threshold = warning.threshold
    return {
        "channel": warning.channel,
        "threshold": threshold.name,
        "rate": threshold.rate,
        "level": warning.level.value,
        "value": rate_value(warning.rate),
        "numerator": warning.numerator,
        "denominator": warning.denominator,
        "limit": rate_value(threshold.limit),
        "warn_from": rate_value(threshold.warn_from),
        "authority": threshold.authority,
        "message": warning.message(),
    }


def report_dict(report: CampaignReport) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "campaign_id": report.campaign_id,
        "generated_at": when(report.generated_at),
        "channel": report.channel,
        "ledger_rows": report.ledger_rows,
        "pending": report.pending,
        "events": report.events,
        "last_event": when(report.last_event),
        "warnings": [warning_dict(warning) for warning in report.warnings],
        "channels": {name: figures_dict(figures) for name, figures in report.channels.items()},
        "total": figures_dict(report.total),
        "series": series_dict(report.series),
    }


def to_json(report: CampaignReport) -> str:
    return json_text(report_dict(report))
