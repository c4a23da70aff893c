from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.channels.registry import channel
from campaign_tools.cli import main
from campaign_tools.segments.build import SegmentBuildSettings, build_segment
from campaign_tools.send.segments import SegmentStats, read_segment
from transformer.errors import PinrecError


def record(endpoint_id: str, tier: str, **fields: Any) -> dict[str, Any]:
    return {
        "Id": endpoint_id,
        "ChannelType": "EMAIL",
        "Address": f"{endpoint_id}@example.com",
        "Attributes": {"tier": [tier]},
        **fields,
    }


def write_export(path: Path, lines: list[str]) -> Path:
    path.write_bytes(gzip.compress("".join(line + "\n" for line in lines).encode()))
    return path


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


GOLD = {"Id": "gold", "Name": "Gold", "Dimensions": {"Attributes": {"tier": {"Values": ["gold"]}}}}


def test_members_stream_from_gzipped_exports_into_a_segment_send_reads(tmp_path: Path) -> None:
    exports = tmp_path / "export"
    exports.mkdir()
    write_export(exports / "part-0000", [json.dumps(record("a", "gold")), json.dumps(record("b", "silver")), "{bad"])
    write_export(exports / "part-0001", [json.dumps(record("c", "gold")), json.dumps({"Id": 5})])
    out = tmp_path / "audience" / "gold.jsonl"
    report = build_segment(
        SegmentBuildSettings(
            definition=str(write_json(tmp_path / "g.json", GOLD)), endpoints=(str(exports),), out=str(out)
        )
    )
    assert (report.rows, report.members, report.malformed) == (3, 2, 2)
    assert report.malformed_examples[0].endswith(
        "part-0000 line 3: not JSON (Expecting property name enclosed in double quotes at column 2)"
    )
    assert "part-0001 line 2: Id must be a string" in report.malformed_examples[1]
    stats = SegmentStats()
    sent = list(read_segment(str(out), channel("email"), stats))
    assert [item.endpoint_id for item in sent] == ["a", "c"]
    assert sent[0].endpoint == {key: value for key, value in record("a", "gold").items() if key != "Id"}


def test_an_unsupported_definition_is_refused_before_reading_and_nothing_is_written(tmp_path: Path) -> None:
    bad = write_json(
        tmp_path / "bad.json", {"Dimensions": {"Attributes": {"x": {"AttributeType": "NEAR", "Values": []}}}}
    )
    out = tmp_path / "out.jsonl"
    with pytest.raises(PinrecError, match="AttributeType: must be one of"):
        build_segment(SegmentBuildSettings(definition=str(bad), endpoints=(str(tmp_path / "absent"),), out=str(out)))
    assert not out.exists()


def test_base_segments_come_from_their_definitions_and_imported_files(tmp_path: Path) -> None:
    imported = write_export(tmp_path / "imported-list", [json.dumps(record("b", "silver"))])
    top = {
        "Id": "top",
        "SegmentGroups": {"Groups": [{"SourceSegments": [{"Id": "gold"}, {"Id": "imp"}], "SourceType": "ANY"}]},
    }
    export = write_export(
        tmp_path / "export", [json.dumps(record(n, t)) for n, t in (("a", "gold"), ("b", "x"), ("c", "y"))]
    )
    definition = str(write_json(tmp_path / "top.json", top))
    out = tmp_path / "top.jsonl"
    with pytest.raises(PinrecError, match="base segment imp is unknown"):
        build_segment(
            SegmentBuildSettings(
                definition=definition,
                endpoints=(str(export),),
                out=str(out),
                sources=(str(write_json(tmp_path / "gold.json", GOLD)),),
            )
        )
    report = build_segment(
        SegmentBuildSettings(
            definition=definition,
            endpoints=(str(export),),
            out=str(out),
            sources=(str(tmp_path / "gold.json"),),
            imported=(f"imp={imported}",),
        )
    )
    assert report.members == 2
    assert [json.loads(line)["Id"] for line in out.read_text().splitlines()] == ["a", "b"]


def test_recency_is_measured_from_now(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recent = {"Dimensions": {"Behavior": {"Recency": {"Duration": "DAY_7", "RecencyType": "ACTIVE"}}}}
    export = write_export(
        tmp_path / "export",
        [
            json.dumps(record("new", "x", EffectiveDate="2026-06-10T00:00:00Z")),
            json.dumps(record("old", "x", EffectiveDate="2026-05-01T00:00:00Z")),
            json.dumps(record("none", "x")),
        ],
    )
    out = tmp_path / "active.jsonl"
    argv = ["segment", "build", str(write_json(tmp_path / "r.json", recent)), "--endpoints", str(export)]
    assert main([*argv, "--out", str(out), "--now", "2026-06-15T00:00:00Z", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["members"] == 1
    assert [json.loads(line)["Id"] for line in out.read_text().splitlines()] == ["new"]
    assert main([*argv, "--out", str(out), "--now", "soon"]) == 1
    assert "--now 'soon' is not an ISO-8601 instant" in capsys.readouterr().err
