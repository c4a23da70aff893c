"""The local story end to end, on the embedded default: sample catalog -> SQLite -> transformer -> result."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from campaign_tools.catalog.records import read_jsonl
from campaign_tools.local_lambda import invoke, read_event
from campaign_tools.templates.manifest import load_template
from campaign_tools.templates.preview import PreviewReport, preview_from_files
from transformer.config import load_config
from transformer.enrich import LeftOut
from transformer.offers.engine import OfferEngine
from transformer.stores.base import LoadOptions, LoadSummary

DEMO_FILES = ("pinrec.toml", "catalog.jsonl", "event.json")
DEMO_TEMPLATE = "recommended-for-you"
OFFER_TEMPLATE = "offer"


@dataclass
class DemoRun:
    workdir: Path
    load: LoadSummary
    event: dict[str, Any]
    response: dict[str, Any]
    left_out: dict[str, LeftOut]
    preview: PreviewReport | None = None


def copy_demo_files(workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    package = resources.files("campaign_tools") / "demo_data"
    for name in DEMO_FILES:
        with resources.as_file(package / name) as source:
            shutil.copyfile(source, workdir / name)


def run_demo(workdir: Path) -> DemoRun:
    copy_demo_files(workdir)
    config = load_config(workdir / "pinrec.toml")
    with open(workdir / "catalog.jsonl", encoding="utf-8") as lines:
        summary = config.store.load(read_jsonl(lines, config.store.key), LoadOptions(source="catalog.jsonl"))
    event = read_event(workdir / "event.json")
    with open(workdir / "transformer.log", "w", encoding="utf-8") as log:
        response, handler = invoke(event, workdir / "pinrec.toml", log=log)
    last = handler.transformer.last
    preview = preview_demo_template(workdir)
    return DemoRun(workdir, summary, event, response, dict(last.left_out) if last else {}, preview)


def preview_demo_template(workdir: Path) -> PreviewReport:
    """Render the shipped recommended-for-you template for every endpoint the transformer enriched."""
    source = load_template(DEMO_TEMPLATE, workdir / "templates")
    return preview_from_files(source, workdir / "event.json", workdir / "pinrec.toml", workdir / "preview")


OFFERS_DEMO_FILES = ("pinrec-offers.toml", "offers.jsonl", "event-offers.json")


@dataclass
class OffersDemoRun:
    workdir: Path
    event: dict[str, Any]
    response: dict[str, Any]
    left_out: dict[str, LeftOut]
    engine: OfferEngine
    preview: PreviewReport | None = None


def run_offers_demo(workdir: Path) -> OffersDemoRun:
    """The offers flow on the sample offers and event; expects `run_demo` to have built the item catalog."""
    package = resources.files("campaign_tools") / "demo_data"
    for name in OFFERS_DEMO_FILES:
        with resources.as_file(package / name) as source:
            shutil.copyfile(source, workdir / name)
    event = read_event(workdir / "event-offers.json")
    with open(workdir / "transformer-offers.log", "w", encoding="utf-8") as log:
        response, handler = invoke(event, workdir / "pinrec-offers.toml", log=log)
    transformer = handler.transformer
    assert transformer.offers is not None
    last = transformer.last
    preview = preview_from_files(
        load_template(OFFER_TEMPLATE, workdir / "templates"),
        workdir / "event-offers.json",
        workdir / "pinrec-offers.toml",
        workdir / "preview-offer",
    )
    left_out = dict(last.left_out) if last else {}
    return OffersDemoRun(workdir, event, response, left_out, transformer.offers, preview)
