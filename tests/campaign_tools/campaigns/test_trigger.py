"""`campaign trigger`: an event sends the campaign's message only to the endpoints whose events match, honouring the
limits; replays send nothing twice; the CLI reads the event file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.campaigns.run import CampaignRunSettings
from campaign_tools.campaigns.trigger import trigger_campaign
from campaign_tools.cli import main
from tests.campaign_tools.campaigns.test_run import CLOCK, outbox_files, rows, settings, write_campaign

FILTER = (
    'frequency = "event"\n[schedule.event_filter.event_type]\nvalues = ["cart.abandoned"]\n'
    '[schedule.event_filter.metrics.cart_value]\ncomparison_operator = "GREATER_THAN_OR_EQUAL"\nvalue = 50'
)


def event_campaign(folder: Path, campaign_id: str = "cart", **fields: Any) -> Path:
    file = write_campaign(folder, campaign_id, 9, **fields)
    text = file.read_text().replace(
        'start = 2027-03-01T09:00:00Z\nfrequency = "once"', "start = 2027-01-01T00:00:00Z\n" + FILTER
    )
    file.write_text(text)
    return file


def event(
    endpoint_id: str | None = None, value: float = 80, kind: str = "cart.abandoned", **extra: Any
) -> dict[str, Any]:
    found: dict[str, Any] = {"event_type": kind, "timestamp": "2027-03-01T09:05:00Z", "metrics": {"cart_value": value}}
    if endpoint_id is not None:
        found["endpoint_id"] = endpoint_id
    return found | extra


def fire(folder: Path, file: Path, payload: object, clock: float = CLOCK) -> Any:
    run_settings: CampaignRunSettings = settings(folder, file)
    return trigger_campaign(run_settings, payload, clock=lambda: clock)


def test_only_matching_events_send_and_only_to_the_endpoint_they_name(tmp_path: Path) -> None:
    file = event_campaign(tmp_path)
    assert fire(tmp_path, file, event("ep-0", value=10)).status == "no_match"
    assert fire(tmp_path, file, event("ep-0", kind="page.view")).reason == "event_type"
    assert fire(tmp_path, file, ["not", "an", "event"]).status == "invalid_event"
    assert fire(tmp_path, file, event("ep-unknown")).status == "no_endpoint"
    assert not outbox_files(tmp_path)
    result = fire(tmp_path, file, event("ep-0"))
    assert (result.status, result.sent) == ("sent", 1)
    assert list(outbox_files(tmp_path)) == ["ep-0"]
    (unit,) = result.units
    assert unit.unit_id == "cart.20270301T090500Z.default.email"
    replay = fire(tmp_path, file, event("ep-0"), CLOCK + 30)
    assert replay.sent == 0 and list(outbox_files(tmp_path)) == ["ep-0"], "a replayed event sends nothing twice"


def test_a_users_event_reaches_each_of_the_users_endpoints_with_its_channels_message(tmp_path: Path) -> None:
    file = event_campaign(tmp_path)
    segment = tmp_path / "segment.jsonl"
    records = [json.loads(line) for line in segment.read_text().splitlines()]
    for record in records[:3]:
        record["User"] = {"UserId": "u-1"}
    segment.write_text("".join(json.dumps(record) + "\n" for record in records))
    result = fire(tmp_path, file, {**event(), "user_id": "u-1"})
    assert result.sent == 3
    assert sorted(outbox_files(tmp_path)) == ["ep-0", "ep-1", "ep-2"]
    assert sorted(unit.channel for unit in result.units) == ["email", "push", "sms"]


def test_triggered_messages_honour_the_daily_cap(tmp_path: Path) -> None:
    file = event_campaign(tmp_path, limits={"daily": 1})
    assert fire(tmp_path, file, event("ep-0")).sent == 1
    later = event("ep-0", timestamp="2027-03-01T15:00:00Z")
    capped = fire(tmp_path, file, later, CLOCK + 6 * 3600)
    assert capped.sent == 0 and capped.units[0].skipped["cap_daily"] == 1
    assert rows(tmp_path, "reason = 'cap_daily'") == [
        ("cart.20270301T150000Z.default.email", "ep-0", "skipped", "cap_daily")
    ]
    next_day = event("ep-0", timestamp="2027-03-02T10:00:00Z")
    assert fire(tmp_path, file, next_day, CLOCK + 25 * 3600).sent == 1
    assert len(outbox_files(tmp_path)["ep-0"]) == 2


def test_a_scheduled_campaign_cannot_be_triggered(tmp_path: Path) -> None:
    from transformer.errors import PinrecError

    file = write_campaign(tmp_path, "sched", 3)
    with pytest.raises(PinrecError, match="not event-triggered"):
        fire(tmp_path, file, event("ep-0"))


def test_the_cli_reads_the_event_file_and_prints_what_it_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = event_campaign(tmp_path)
    file.write_text(file.read_text().replace("start = 2027-01-01", "start = 2020-01-01"))  # the real clock
    (tmp_path / "event.json").write_text(json.dumps(event("ep-1", timestamp="2099-01-01T00:00:00Z")))
    common = ["--ledger", f"sqlite:{tmp_path / 'l.db'}", "--outbox", str(tmp_path / "out"), "--suppression", "none"]
    common += ["--stage-dir", str(tmp_path / "units"), "--output", "json"]
    assert main(["campaign", "trigger", str(file), "--event", str(tmp_path / "event.json"), *common]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["status"], printed["sent"]) == ("sent", 1)
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["campaign", "trigger", str(file), "--event", str(tmp_path / "bad.json"), *common]) == 1
    assert "not JSON" in capsys.readouterr().err
