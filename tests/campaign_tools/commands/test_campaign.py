"""`pinrec campaign validate | show | plan` over the example campaign."""

from __future__ import annotations

import json
from pathlib import Path

from campaign_tools.cli import main

EXAMPLE = Path(__file__).parents[2] / "data" / "campaigns" / "spring-sale.toml"


def test_validate_passes_the_example_and_fails_with_every_problem(tmp_path, capsys):
    assert main(["campaign", "validate", str(EXAMPLE)]) == 0
    assert "campaign spring-sale is valid" in capsys.readouterr().out
    bad = tmp_path / "campaign.toml"
    bad.write_text('id = "x"\nholdout_percent = 101\n[schedule]\nfrequency = "daily"\n', encoding="utf-8")
    assert main(["campaign", "validate", str(bad)]) == 1
    error = capsys.readouterr().err
    for expected in ("name: required", "recommendations: required", "holdout_percent:", "schedule.start: required"):
        assert expected in error


def test_show_prints_the_normalised_definition_and_next_slots(capsys):
    assert main(["campaign", "show", str(EXAMPLE), "--now", "2027-03-06T12:00:00Z", "--output", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["definition"]["schedule"]["quiet_time_mode"] == "skip"
    # 09:00 on 6 March still comes west of UTC (until 21:00 UTC); the schedule ends before 8 March.
    assert [slot["occurrence"] for slot in shown["next_slots"]] == ["2027-03-06T09:00:00", "2027-03-07T09:00:00"]
    assert shown["next_slots"][1]["first"] == "2027-03-06T19:00:00+00:00"


def test_plan_is_the_dry_run_over_the_segment(capsys):
    arguments = ["campaign", "plan", str(EXAMPLE), "--now", "2027-03-02T09:30:00Z", "--until", "2027-03-03T00:00:00Z"]
    assert main([*arguments, "--output", "json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert planned["segment"]["rows"] == 9 and planned["segment"]["skipped"] == {"no_channel": 1, "opted_out": 1}
    states = {slot["at"]: slot["state"] for slot in planned["slots"]}
    assert states["2027-03-02T09:00:00Z"] == "due" and states["2027-03-02T14:00:00Z"] == "upcoming"
    assert main(arguments) == 0
    text = capsys.readouterr().out
    assert "2027-03-02T03:15:00Z  late" in text  # Kathmandu's 09:00, UTC+05:45


def test_plan_needs_a_segment_and_a_valid_instant(tmp_path, capsys):
    data = EXAMPLE.read_text(encoding="utf-8").replace('segment = "segment.jsonl"', "")
    (tmp_path / "c.toml").write_text(data, encoding="utf-8")
    assert main(["campaign", "plan", str(tmp_path / "c.toml")]) == 1
    assert "needs a segment" in capsys.readouterr().err
