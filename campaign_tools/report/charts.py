"""The HTML report's charts: matplotlib figures written as SVG, to be inlined in the page (no script, no network).

matplotlib is the optional `pinrec[report]` extra, imported only here and only when a chart is drawn: never on a
Lambda path. The SVG is deterministic: no date in its metadata, a fixed salt for its element ids, text as text.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from campaign_tools.report.figures import SERIES_HOURS, CampaignReport, Series
from transformer.errors import PinrecError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

EXTRA_HINT = "pip install 'pinrec[report]'"
SERIES_CHARTED = (
    "delivery",
    "open",
    "click",
    "bounce",
    "complaint",
    "subscription",
    "failed",
    "blocked",
    "opt_out",
)
COLOURS = {
    "send": "#7f7f7f",
    "delivery": "#2f6fb0",
    "open": "#3a9a5b",
    "click": "#e08a1e",
    "bounce": "#b53a3a",
    "complaint": "#8e44ad",
    "subscription": "#5b6b7a",
    "failed": "#444444",
    "blocked": "#a0522d",
    "opt_out": "#c0609a",
}
OUTCOMES = ("sent", "delivered", "bounced", "complained", "opened", "clicked", "unsubscribed", "suppressed", "failed")
CHANNEL_COLOURS = ("#2f6fb0", "#e08a1e", "#3a9a5b", "#8e44ad")
LABEL_WIDTH = 40


class PlottingUnavailable(PinrecError):
    """The HTML report's plotting library is not installed."""


def require_plotting() -> None:
    """PlottingUnavailable, naming the extra, unless matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlottingUnavailable(
            f"the HTML report (--html) draws its charts with matplotlib, which is not installed: {EXTRA_HINT}"
        ) from None


def label(text: str) -> str:
    """User data as a chart label: printable, short, and never read as mathtext (`$...$`)."""
    safe = "".join(char if char.isprintable() else "?" for char in text)
    safe = safe if len(safe) <= LABEL_WIDTH else safe[: LABEL_WIDTH - 1] + "…"
    return safe.replace("$", r"\$")


@contextmanager
def _figure(name: str, width: float, height: float) -> Iterator[Figure]:
    require_plotting()
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context({"svg.hashsalt": f"pinrec-report-{name}", "svg.fonttype": "none", "font.size": 9}):
        yield Figure(figsize=(width, height), layout="constrained")


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _no_data(figure: Figure, message: str) -> str:
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.text(0.5, 0.5, message, ha="center", va="center", color="#555555")
    return _svg(figure)


def series_chart(series: Series, *, cumulative: bool) -> str:
    """Recipients by the hour of their first event of each kind (or their running total), as SVG."""
    name = "cumulative" if cumulative else "hourly"
    with _figure(name, 8.0, 3.0) as figure:
        kinds = [kind for kind in SERIES_CHARTED if any(series.counts.get(kind, ()))]
        if series.start is None or not kinds:
            return _no_data(figure, "no events yet")
        axes = figure.add_subplot()
        hours = list(range(SERIES_HOURS))
        for kind in kinds:
            counts: Sequence[int] = series.counts[kind]
            values = [sum(counts[: hour + 1]) for hour in hours] if cumulative else list(counts)
            axes.step(hours, values, where="post", label=kind, color=COLOURS.get(kind, "#000000"), linewidth=1.6)
        axes.set_xlim(0, SERIES_HOURS)
        axes.set_xticks(range(0, SERIES_HOURS + 1, 12))
        axes.set_xlabel("hours after the first send")
        axes.set_ylabel("recipients (running total)" if cumulative else "recipients (first event that hour)")
        axes.set_ylim(bottom=0)
        axes.grid(True, color="#dddddd", linewidth=0.6)
        figure.legend(loc="outside upper center", fontsize=8, ncols=len(kinds), frameon=False)
        return _svg(figure)


def outcome_chart(report: CampaignReport) -> str:
    """Each channel's main figures side by side, as SVG."""
    with _figure("outcomes", 9.0, 3.2) as figure:
        if not report.channels:
            return _no_data(figure, "nothing sent")
        axes = figure.add_subplot()
        names = list(report.channels)
        width = 0.8 / len(names)
        positions = list(range(len(OUTCOMES)))
        for index, name in enumerate(names):
            figures = report.channels[name]
            values = [figures.count(outcome) for outcome in OUTCOMES]
            offsets = [position - 0.4 + width * (index + 0.5) for position in positions]
            bars = axes.bar(
                offsets, values, width, label=label(name), color=CHANNEL_COLOURS[index % len(CHANNEL_COLOURS)]
            )
            axes.bar_label(bars, fmt="{:,.0f}", fontsize=7, padding=1)
        axes.set_xticks(positions, [outcome.replace("_", " ") for outcome in OUTCOMES])
        axes.tick_params(axis="x", labelsize=8)
        axes.set_ylabel("recipients")
        axes.set_ylim(bottom=0)
        axes.margins(y=0.12)
        axes.grid(True, axis="y", color="#dddddd", linewidth=0.6)
        figure.legend(loc="outside upper center", fontsize=8, ncols=min(len(names), 6), frameon=False)
        return _svg(figure)
