"""The HTML report: one self-contained page, user data escaped, the same bytes for the same ledger, and a clear
error naming the extra when matplotlib is missing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from markupsafe import escape

from campaign_tools.report import charts
from campaign_tools.report.html import render_html
from campaign_tools.report.run import ReportSettings, campaign_report
from campaign_tools.report.text import printable
from tests.campaign_tools.report.builders import EMAIL, EMAIL_EVENTS, HOSTILE_LINK, NOW, Campaign, K, event, write
from tests.campaign_tools.report.test_figures import read

HOSTILE_CAMPAIGN = "<b>spring</b>&<script>x()</script>"


@pytest.fixture
def page(tmp_path: Path) -> str:
    write(tmp_path / "ledger.db", EMAIL, EMAIL_EVENTS)
    return render_html(read(tmp_path / "ledger.db", "spring"))


def test_the_page_needs_nothing_from_outside(page: str) -> None:
    assert "<script" not in page.lower()
    # No attribute loads or points anywhere: the only references are the SVGs' own (#id).
    references = re.findall(r"""\b(?:src|href|xlink:href|action|data)\s*=\s*["']([^"']*)""", page)
    assert all(reference.startswith("#") for reference in references), references
    assert "url(http" not in page and "@import" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_a_hostile_link_is_shown_as_text(page: str) -> None:
    assert str(escape(printable(HOSTILE_LINK))) in page  # markup escaped, control characters shown escaped
    assert "\x1b" not in page
    assert "onerror=alert(2)>" not in page
    assert "<img" not in page


def test_a_hostile_campaign_id_and_channel_are_escaped(tmp_path: Path) -> None:
    campaign = Campaign(HOSTILE_CAMPAIGN, channel='"><svg onload=alert(1)>$x$', sent=["a"])
    write(tmp_path / "ledger.db", campaign, [event("d", K.DELIVERY, "a", 0)])

    page = render_html(read(tmp_path / "ledger.db", HOSTILE_CAMPAIGN))

    assert str(escape(HOSTILE_CAMPAIGN)) in page
    assert "<b>" not in page and "<script" not in page and "<svg onload" not in page
    assert page.count("&lt;svg onload=alert(1)&gt;$x$") == 3  # heading, table, and the chart's legend (as text)


def test_the_page_has_three_charts_as_inline_svg(page: str) -> None:
    assert page.count("<svg") == 3
    for chart in ("outcomes", "hourly", "cumulative"):
        assert re.search(rf'<figure id="{chart}"><svg[^>]*>.*?<path', page, re.S), chart


def test_the_same_ledger_gives_the_same_page(tmp_path: Path, page: str) -> None:
    write(tmp_path / "again.db", EMAIL, list(reversed(EMAIL_EVENTS)))

    assert render_html(read(tmp_path / "again.db", "spring")) == page


def test_without_matplotlib_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", EMAIL, EMAIL_EVENTS)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    settings = ReportSettings(campaign_id="spring", ledger=f"sqlite:{tmp_path / 'ledger.db'}", html=tmp_path / "r.html")

    with pytest.raises(charts.PlottingUnavailable, match=r"pip install 'pinrec\[report\]'"):
        campaign_report(settings, now=NOW)
    assert not (tmp_path / "r.html").exists()


def test_the_report_core_never_imports_matplotlib() -> None:
    code = (
        "import sys\n"
        "import campaign_tools.report.figures, campaign_tools.report.run, campaign_tools.report.text\n"
        "import campaign_tools.report.json_report, campaign_tools.report.html, campaign_tools.commands.send\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_campaign_report_writes_the_page(tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", EMAIL, EMAIL_EVENTS)
    target = tmp_path / "out" / "report.html"

    result = campaign_report(
        ReportSettings(campaign_id="spring", ledger=f"sqlite:{tmp_path / 'ledger.db'}", html=target), now=NOW
    )

    assert result.html == target
    assert target.read_text(encoding="utf-8") == render_html(result.report)
