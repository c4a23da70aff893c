"""A `file:` source reads its file once into a temporary index: a later line of an id replaces an earlier one,
lookups of more ids than one query holds still find them all, and the index is gone once the source is closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from campaign_tools.send.recommendations import file as file_source
from campaign_tools.send.recommendations.base import IdType
from campaign_tools.send.recommendations.file import FileRecommendations
from tests.campaign_tools.send.recommendations.test_sources import seg


def test_the_last_line_of_an_id_wins_and_every_id_is_found(tmp_path: Path) -> None:
    lines = [{"id": f"u-{n}", "items": [f"P{n}", f"Q{n}"]} for n in range(1200)]
    lines.append({"id": "u-7", "items": ["LATER"]})
    path = tmp_path / "recs.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    source = FileRecommendations(str(path), IdType.USER, 2)
    assert source.stats.ids == 1200 and source.stats.lines == 1201
    endpoints = [seg(f"ep-{n}", f"u-{n}") for n in range(0, 1300, 1)]
    found = source.lookup(endpoints)
    assert found.items["ep-7"] == ["LATER"]
    assert found.items["ep-1199"] == ["P1199", "Q1199"]
    assert len(found.items) == 1200 and set(found.missing.values()) == {"no_recommendations"}
    folder = Path(source._folder.name)
    assert (folder / "index.db").exists()
    source.close()
    assert not folder.exists()
    source.close()


def test_the_index_is_removed_when_reading_fails(tmp_path: Path) -> None:
    path = tmp_path / "recs.jsonl"
    path.write_text("not json\n", encoding="utf-8")
    before = set(Path(file_source.tempfile.gettempdir()).glob("pinrec-recommendations-*"))
    with pytest.raises(file_source.RecommendationError, match="no usable recommendation line"):
        FileRecommendations(str(path), IdType.ENDPOINT, 2)
    assert set(Path(file_source.tempfile.gettempdir()).glob("pinrec-recommendations-*")) == before
