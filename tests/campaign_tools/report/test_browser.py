"""The HTML report opened in real headless Chromium with the network cut off: the charts render, nothing is
refused or logged to the console, a hostile link stays text; a screenshot goes to test-artifacts/report/."""

from __future__ import annotations

import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image

from campaign_tools.report.charts import COLOURS
from campaign_tools.report.run import ReportSettings, campaign_report
from tests.campaign_tools.report.builders import EMAIL, EMAIL_EVENTS, HOSTILE_LINK, NOW, write
from tests.chromium import console_lines, dump_dom, screenshot

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "report"


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.svgs = 0
        self.svg_shapes: Counter[int] = Counter()
        self.scripts = 0
        self.images = 0
        self.title = ""
        self.text: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.svgs += 1
        elif tag in ("path", "rect", "polyline", "line") and "svg" in self._open:
            self.svg_shapes[self.svgs] += 1
        elif tag == "script":
            self.scripts += 1
        elif tag == "img":
            self.images += 1
        self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] == "title":
            self.title += data
        elif "svg" not in self._open and "style" not in self._open:
            self.text.append(data)


def _share_of(image: Image.Image, colour: str) -> float:
    """The share of the screenshot's pixels within a small distance of `colour` (#rrggbb)."""
    target = tuple(int(colour[index : index + 2], 16) for index in (1, 3, 5))
    rgb = image.convert("RGB")
    near = sum(
        count
        for count, pixel in rgb.getcolors(maxcolors=rgb.width * rgb.height) or []
        if all(abs(a - b) <= 12 for a, b in zip(pixel, target, strict=True))
    )
    return near / (rgb.width * rgb.height)


def test_the_report_renders_its_charts_offline_in_chromium(chromium: str, tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", EMAIL, EMAIL_EVENTS)
    page = tmp_path / "report.html"
    campaign_report(ReportSettings(campaign_id="spring", ledger=f"sqlite:{tmp_path / 'ledger.db'}", html=page), now=NOW)
    url = page.resolve().as_uri()

    dumped = dump_dom(chromium, tmp_path / "profile", url)
    dom = _Dom()
    dom.feed(dumped.stdout)

    assert console_lines(dumped.stderr) == []  # no script error, nothing refused by the page's policy
    assert dom.title == "Campaign report: spring"
    assert dom.svgs == 3 and all(dom.svg_shapes[chart] >= 10 for chart in (1, 2, 3)), dom.svg_shapes
    assert dom.scripts == 0 and dom.images == 0
    assert HOSTILE_LINK.split("\n")[0] in "".join(dom.text)  # the link's markup is text on the page

    picture = ARTIFACTS / "campaign-report.png"
    screenshot(chromium, tmp_path / "profile", url, picture, "1000,3300")
    with Image.open(picture) as image:
        # The charts are drawn: the bars (and delivery lines) in blue, the bounce and complaint lines of the two
        # series charts (only there) in their colours.
        assert _share_of(image, COLOURS["delivery"]) > 0.01
        assert _share_of(image, COLOURS["bounce"]) > 0.0003
        assert _share_of(image, COLOURS["complaint"]) > 0.0003
    shutil.copyfile(page, ARTIFACTS / "campaign-report.html")


def test_the_console_check_sees_what_chromium_refuses(chromium: str, tmp_path: Path) -> None:
    """The check above is not vacuous: a page that loads from the network and runs a script is reported."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        '</head><body><img src="http://example.com/x.png"><script>console.error("boom")</script></body></html>',
        encoding="utf-8",
    )

    dumped = dump_dom(chromium, tmp_path / "profile", page.as_uri(), budget_ms=2000)

    assert len(console_lines(dumped.stderr)) == 2
