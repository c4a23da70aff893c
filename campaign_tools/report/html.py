"""The report as one self-contained HTML page: figures, warnings, links and inline SVG charts, no script, nothing
loaded from anywhere (a Content-Security-Policy forbids it). Every value from the ledger (campaign id, channel,
reasons, links) is escaped by jinja2's autoescape; links are shown as text, never as clickable anchors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from campaign_tools.report import charts
from campaign_tools.report.figures import RATES, CampaignReport, Figures
from campaign_tools.report.json_report import when
from campaign_tools.report.text import FIGURE_ORDER, printable
from campaign_tools.report.thresholds import percent

LINKS_SHOWN = 100

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Campaign report: {{ report.campaign_id }}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232a; margin: 0;
  background: #f5f6f8; }
main { max-width: 980px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 0 0 8px; }
.meta { color: #555; margin: 0 0 16px; }
section, figure { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 12px 16px; margin: 0 0 16px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 12px; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid #eceff2; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td .rate { display: block; color: #666; font-size: 12px; }
.warning { border-left: 4px solid #d08a00; background: #fff8e6; padding: 8px 12px; margin: 0 0 8px; }
.warning.reached { border-left-color: #c0392b; background: #fdecea; }
.link { text-align: left; overflow-wrap: anywhere; font-family: ui-monospace, monospace; font-size: 12px; }
.bar { background: #e08a1e; height: 6px; border-radius: 3px; margin-top: 3px; }
ul { margin: 4px 0; padding-left: 20px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; color: #444; }
</style>
</head>
<body>
<main>
<h1>Campaign report: {{ report.campaign_id }}</h1>
<p class="meta">channel {{ report.channel }} · {{ "{:,}".format(report.ledger_rows) }} ledger rows ·
{{ "{:,}".format(report.events) }} events · last event {{ last_event }} · generated {{ generated }}</p>
{% if report.warnings %}
<section id="warnings"><h2>Warnings</h2>
{% for warning in report.warnings %}<div class="warning {{ warning.level.value }}">{{ warning.message() }}</div>
{% endfor %}</section>
{% endif %}
<section id="figures"><h2>Figures</h2>
<table>
<thead><tr><th>recipients</th>{% for column in columns %}<th>{{ column.name }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}<tr><td>{{ row.label }}</td>{% for cell in row.cells %}<td>{{ cell.value }}{% for note in cell.notes %}<span class="rate">{{ note }}</span>{% endfor %}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
</section>
<figure id="outcomes">{{ outcome_chart }}<figcaption>Recipients per figure and channel.</figcaption></figure>
<figure id="hourly">{{ hourly_chart }}<figcaption>Recipients by the hour of their first event of each kind, over the
first 72 hours after the first send{% if series_start %} ({{ series_start }}){% endif %}.</figcaption></figure>
<figure id="cumulative">{{ cumulative_chart }}<figcaption>The same as running totals: at 72 hours each line reaches
the figure (events later than that excepted).</figcaption></figure>
{% for column in columns %}{% if column.figures.suppressed_by_reason or column.figures.failed_by_reason %}
<section><h2>Not delivered: {{ column.name }}</h2>
{% if column.figures.suppressed_by_reason %}<p>Suppressed, by reason:</p><ul>
{% for reason, count in column.figures.suppressed_by_reason.items() %}<li>{{ reason }}: {{ "{:,}".format(count) }}</li>
{% endfor %}</ul>{% endif %}
{% if column.figures.failed_by_reason %}<p>Failed, by reason:</p><ul>
{% for reason, count in column.figures.failed_by_reason.items() %}<li>{{ reason }}: {{ "{:,}".format(count) }}</li>
{% endfor %}</ul>{% endif %}
</section>{% endif %}{% endfor %}
<section id="links"><h2>Clicks per link</h2>
{% if links %}<table>
<thead><tr><th>link</th><th>clicks</th><th>unique</th></tr></thead>
<tbody>
{% for link in links %}<tr><td class="link">{{ link.link }}<div class="bar" style="width: {{ link.width }}%"></div></td><td>{{ "{:,}".format(link.clicks) }}</td><td>{{ "{:,}".format(link.unique) }}</td></tr>
{% endfor %}</tbody></table>
{% if hidden_links %}<p>{{ "{:,}".format(hidden_links) }} more links in the JSON output (--output json).</p>{% endif %}
{% else %}<p>No clicks.</p>{% endif %}
</section>
<section id="definitions"><h2>Definitions</h2>
<p>Each recipient counts once per figure, however many events it had; only "clicks" counts events. Rates:</p>
<dl>{% for rate in rates %}<dt>{{ rate.name.replace("_", " ") }} rate</dt><dd>{{ rate.numerator.replace("_", " ") }} / {{ rate.denominator }}</dd>{% endfor %}</dl>
</section>
</main>
</body>
</html>
"""

_ENVIRONMENT = Environment(autoescape=True, keep_trailing_newline=True)


@dataclass(frozen=True)
class Column:
    name: str
    figures: Figures


def _cells(figures: Figures, name: str) -> dict[str, Any]:
    notes = [
        f"{percent(rate)} of {definition.denominator}"
        for definition in RATES
        if definition.numerator == name and (rate := figures.rate(definition.name)) is not None
    ]
    return {"value": f"{figures.count(name):,}", "notes": notes}


def render_html(report: CampaignReport) -> str:
    """The page; needs matplotlib (`pinrec[report]`) for its charts."""
    columns = [Column(name, figures) for name, figures in report.channels.items()]
    if len(columns) > 1:
        columns.append(Column("total", report.total))
    rows = [
        {"label": name.replace("_", " "), "cells": [_cells(column.figures, name) for column in columns]}
        for name in FIGURE_ORDER
    ]
    most = max((link.clicks for link in report.total.links), default=0)
    links = [
        {
            "link": printable(link.link),
            "clicks": link.clicks,
            "unique": link.unique,
            "width": round(100 * link.clicks / most),
        }
        for link in report.total.links[:LINKS_SHOWN]
    ]
    return _ENVIRONMENT.from_string(PAGE).render(
        report=report,
        last_event=when(report.last_event) or "-",
        generated=when(report.generated_at),
        series_start=when(report.series.start),
        columns=columns,
        rows=rows,
        links=links,
        hidden_links=max(0, len(report.total.links) - LINKS_SHOWN),
        rates=RATES,
        outcome_chart=Markup(charts.outcome_chart(report)),  # noqa: S704 - matplotlib's SVG; its text is escaped
        hourly_chart=Markup(charts.series_chart(report.series, cumulative=False)),  # noqa: S704
        cumulative_chart=Markup(charts.series_chart(report.series, cumulative=True)),  # noqa: S704
    )
