"""The report as text, for a terminal."""

from __future__ import annotations

from campaign_tools.report.figures import RATES, SERIES_HOURS, CampaignReport, Figures, Series
from campaign_tools.report.json_report import when
from campaign_tools.report.thresholds import Level, percent

LINKS_SHOWN = 20
LINK_WIDTH = 100
SERIES_MARKS = (1, 6, 24, SERIES_HOURS)
"""Hours after the first send at which the text shows the running count."""
SERIES_SHOWN = (
    "send",
    "delivery",
    "bounce",
    "complaint",
    "open",
    "click",
    "subscription",
    "failed",
    "blocked",
    "opt_out",
)
FIGURE_ORDER = (
    "sent",
    "delivered",
    "bounced",
    "hard_bounced",
    "soft_bounced",
    "complained",
    "rejected",
    "rendering_failed",
    "delayed",
    "opened",
    "clicked",
    "clicks",
    "unsubscribed",
    "suppressed",
    "failed",
)


def printable(text: str, width: int | None = None) -> str:
    """User data (a link, a reason) made safe for a terminal: control characters escaped, long text shortened."""
    safe = "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)
    return safe if width is None or len(safe) <= width else safe[: width - 1] + "…"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{printable(name, 60)} {count:,}" for name, count in counts.items())


def describe_figures(figures: Figures) -> list[str]:
    lines: list[str] = []
    for name in FIGURE_ORDER:
        value = figures.count(name)
        notes = [
            f"{percent(rate)} of {definition.denominator}"
            for definition in RATES
            if definition.numerator == name and (rate := figures.rate(definition.name)) is not None
        ]
        if name == "suppressed" and figures.suppressed_by_reason:
            notes.append(_counts(dict(figures.suppressed_by_reason)))
        if name == "failed" and figures.failed_by_reason:
            notes.append(_counts(dict(figures.failed_by_reason)))
        label = name.replace("_", " ")
        lines.append(f"  {label:<17}{value:>10,}" + (f"   {'; '.join(notes)}" if notes else ""))
    if figures.links:
        lines.append(
            f"  links (clicks, unique clickers){'' if len(figures.links) <= LINKS_SHOWN else f', top {LINKS_SHOWN}'}:"
        )
        lines += [
            f"    {link.clicks:>8,} {link.unique:>8,}  {printable(link.link, LINK_WIDTH)}"
            for link in figures.links[:LINKS_SHOWN]
        ]
    return lines


def describe_series(series: Series) -> list[str]:
    if series.start is None:
        return ["first 72 hours: no events yet"]
    lines = [
        f"first {SERIES_HOURS} hours after the first send ({when(series.start)}): recipients by their first event, "
        "running total",
        "  " + f"{'after':<14}" + "".join(f"{f'{hours}h':>9}" for hours in SERIES_MARKS),
    ]
    for kind in SERIES_SHOWN:
        counts = series.counts.get(kind, ())
        if not any(counts):
            continue
        lines.append("  " + f"{kind:<14}" + "".join(f"{sum(counts[:hours]):>9,}" for hours in SERIES_MARKS))
    if series.outside:
        lines.append(f"  outside the window: {series.outside:,}")
    return lines


def describe_report(report: CampaignReport) -> str:
    lines = [
        f"campaign {report.campaign_id} ({report.channel}): {report.ledger_rows:,} ledger rows, "
        f"{report.events:,} events, last event {when(report.last_event) or '-'}"
    ]
    if report.pending:
        lines.append(
            f"  pending rows (in progress or in doubt): {report.pending:,}; each counts as sent once an event of its "
            "message is recorded"
        )
    for warning in report.warnings:
        mark = "!!" if warning.level is Level.REACHED else "! "
        lines.append(f"{mark} {warning.message()}")
    for name, figures in report.channels.items():
        lines += [name, *describe_figures(figures)]
    if len(report.channels) > 1:
        lines += ["total", *describe_figures(report.total)]
    lines += describe_series(report.series)
    return "\n".join(lines)
