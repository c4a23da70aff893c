"""A preview opened in real headless Chromium: what a reader sees, and item markup that never runs."""

from __future__ import annotations

import base64
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from campaign_tools.demo import copy_demo_files
from campaign_tools.templates.manifest import load_template
from campaign_tools.templates.preview import preview_from_files
from tests.chromium import dump_dom, screenshot
from tests.conftest import write_catalog

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "templates"
# Names fit the demo configuration's Title max_length (60), so they reach the email whole.
SCRIPT_NAME = "<script>document.title='pwned'</script>Lantern"
IMG_NAME = "Mug <img src=x onerror=\"document.title='pwned'\">"


def _svg(label: str, colour: str) -> str:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400"><rect width="600" height="400" '
        f'fill="{colour}"/><text x="300" y="220" font-size="64" text-anchor="middle" fill="#fff">{label}</text></svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


ITEMS = [
    {"id": "B1", "name": "Trail Runner 2 Shoes", "price": 89.0, "image_url": _svg("Shoes", "#2f5d8a"), "category": "a"},
    {"id": "B2", "name": SCRIPT_NAME, "price": 19.5, "image_url": _svg("Lantern", "#6b4f9e"), "category": "a"},
    {"id": "B3", "name": IMG_NAME, "price": 12.0, "image_url": _svg("Mug", "#3c7a4a"), "category": "a"},
    {
        "id": "B4",
        "name": "Ultralight Rain Jacket",
        "price": 149.99,
        "image_url": _svg("Jacket", "#8a4b2f"),
        "category": "a",
    },
]


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.images: list[dict[str, str]] = []
        self.links: list[str] = []
        self.scripts = 0
        self.body: dict[str, str] = {}
        self.title = ""
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "img":
            self.images.append(attributes)
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "script":
            self.scripts += 1
        elif tag == "body":
            self.body = attributes
        if tag not in ("img", "br", "meta", "link"):
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            while self._in and self._in.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "title":
            self.title += data
        elif "head" not in self._in and "style" not in self._in:
            self.text.append(data)


@pytest.fixture
def preview_email(tmp_path: Path) -> Path:
    workdir = tmp_path / "demo"
    copy_demo_files(workdir)
    write_catalog(workdir / "catalog.db", ITEMS)
    event = {
        "Endpoints": {
            "ep-browser": {
                "ChannelType": "EMAIL",
                "Address": "reader@example.com",
                "User": {"UserAttributes": {"FirstName": ["Robin"]}},
                "RecommendationItems": ["B1", "B2", "B3", "B4"],
            }
        }
    }
    (workdir / "event.json").write_text(json.dumps(event), encoding="utf-8")
    report = preview_from_files(
        load_template("recommended-for-you"), workdir / "event.json", workdir / "pinrec.toml", tmp_path / "out"
    )
    return report.endpoints[0].folder / "email.html"


def test_preview_in_chromium_shows_items_as_text_and_runs_none_of_their_markup(
    chromium: str, preview_email: Path, tmp_path: Path
) -> None:
    url = preview_email.resolve().as_uri()
    dumped = dump_dom(chromium, tmp_path / "profile", url)
    dom = _Dom()
    dom.feed(dumped.stdout)
    text = " ".join(" ".join(dom.text).split())

    assert "Hi Robin, these are for you" in text
    for name, price in (("Trail Runner 2 Shoes", "$89.00"), ("Ultralight Rain Jacket", "$149.99")):
        assert name in text and price in text
    # Item markup is shown as text, and none of it ran: no script element, no injected image, title untouched.
    assert SCRIPT_NAME in text and IMG_NAME in text
    assert dom.scripts == 0
    assert "pwned" not in dom.title and dom.title == "Picked for you"
    assert all(image.get("src") != "x" for image in dom.images)
    # Every image has alt text; the product images' alt is the product name.
    assert dom.images and all(image.get("alt", "").strip() for image in dom.images)
    assert {image["alt"] for image in dom.images} >= {"Trail Runner 2 Shoes", SCRIPT_NAME, IMG_NAME}
    # Every link to the shop carries the UTM parameters.
    shop_links = [link for link in dom.links if urlsplit(link).hostname == "shop.example.com"]
    assert len(shop_links) >= 10
    for link in shop_links:
        query = parse_qs(urlsplit(link).query)
        assert {"utm_source", "utm_medium", "utm_campaign"} <= set(query), link

    screenshot(chromium, tmp_path / "profile", url, ARTIFACTS / "recommended-for-you-email.png", "640,1600")
    shutil.copyfile(preview_email, ARTIFACTS / "recommended-for-you-email.html")
