"""The collector's youngest-generation threshold: raised for good by the handler, for the duration of a block by a
load, and put back afterwards whatever the block did."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from campaign_tools.catalog.records import read_jsonl
from campaign_tools.cli import main
from tests.campaign_tools.catalog.test_sources import items_in, jsonl
from transformer.collector import YOUNG_COLLECTION_THRESHOLD, collect_young_less_often, young_collections_less_often


@pytest.fixture(autouse=True)
def python_threshold() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_handler_raises_only_the_youngest_generation_threshold() -> None:
    gc.set_threshold(700, 11, 12)
    collect_young_less_often()
    assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 11, 12)


def test_a_block_runs_with_the_raised_threshold_and_puts_back_the_one_before() -> None:
    gc.set_threshold(650, 11, 12)
    with young_collections_less_often():
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 11, 12)
    assert gc.get_threshold() == (650, 11, 12)


def test_a_block_that_raises_puts_back_the_threshold_too() -> None:
    with pytest.raises(KeyError), young_collections_less_often():
        raise KeyError("x")
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("threshold", [0, YOUNG_COLLECTION_THRESHOLD, 50_000])
def test_collection_off_or_a_threshold_already_as_high_is_left_alone(threshold: int) -> None:
    gc.set_threshold(threshold, 10, 10)
    with young_collections_less_often():
        assert gc.get_threshold()[0] == threshold
    assert gc.get_threshold() == (threshold, 10, 10)


def test_a_threshold_the_block_set_itself_is_kept() -> None:
    with young_collections_less_often():
        gc.set_threshold(5_000, 10, 10)
    assert gc.get_threshold() == (5_000, 10, 10)


def test_a_catalog_load_reads_its_records_with_the_raised_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def watched(*arguments: object, **keywords: object) -> object:
        for record in read_jsonl(*arguments, **keywords):  # type: ignore[arg-type]
            seen.append(gc.get_threshold()[0])
            yield record

    monkeypatch.setattr("campaign_tools.catalog.load.read_jsonl", watched)
    source, catalog = tmp_path / "items.jsonl", tmp_path / "c.db"
    source.write_text(jsonl({"id": "a"}, {"id": "b"}))
    assert main(["catalog", "load", str(source), "--store", f"sqlite:{catalog}"]) == 0
    assert set(items_in(catalog)) == {"a", "b"}
    assert seen == [YOUNG_COLLECTION_THRESHOLD] * 2
    assert gc.get_threshold() == (700, 10, 10)
