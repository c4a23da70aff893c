"""`campaign run` end to end on the outbox: a mixed email / SMS / push segment gets each endpoint exactly its
channel's message, the holdout is recorded, a re-run sends nothing twice, and the limits hold across campaigns."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.campaigns.run import CampaignRunSettings, run_campaign
from campaign_tools.send.outbox import file_name
from tests.campaign_tools.send.test_on_aws import write_config

NOW = datetime(2027, 3, 1, 9, 10, tzinfo=UTC)
CLOCK = NOW.timestamp()
CHANNELS = {"EMAIL": "email", "SMS": "sms", "GCM": "push"}


def endpoint(n: int) -> dict[str, Any]:
    channel = ("EMAIL", "SMS", "GCM")[n % 3]
    address = {"EMAIL": f"user{n}@example.com", "SMS": f"+1415555{n:04d}", "GCM": f"token-{n}"}[channel]
    return {"Id": f"ep-{n}", "ChannelType": channel, "Address": address, "RecommendationItems": ["P1"]}


def toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def write_campaign(folder: Path, campaign_id: str, count: int, **fields: Any) -> Path:
    write_config(folder)
    segment = folder / "segment.jsonl"
    if not segment.exists():
        segment.write_text("".join(json.dumps(endpoint(n)) + "\n" for n in range(count)))
    lines = [
        f'id = "{campaign_id}"',
        f'name = "{campaign_id}"',
        'segment = "segment.jsonl"',
        'recommendations = "segment"',
        f'config = "{folder / "pinrec.toml"}"',
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in fields.items() if not isinstance(value, dict)]
    lines += [
        '[email]\ntemplate = "recommended-for-you"\nfrom_address = "shop@example.com"',
        '[sms]\ntemplate = "recommended-for-you"\norigination_identity = "+15555550100"',
        '[push]\ntemplate = "recommended-for-you"\napplication_id = "0123456789abcdef0123456789abcdef"',
        '[schedule]\nstart = 2027-03-01T09:00:00Z\nfrequency = "once"',
    ]
    for table, values in fields.items():
        if isinstance(values, dict):
            lines.append(f"[{table}]\n" + "\n".join(f"{k} = {toml_value(v)}" for k, v in values.items()))
    path = folder / f"{campaign_id}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def settings(folder: Path, file: Path, **values: Any) -> CampaignRunSettings:
    fields: dict[str, Any] = {
        "file": file,
        "now": NOW,
        "ledger": f"sqlite:{folder / 'ledger.db'}",
        "outbox": str(folder / "outbox"),
        "suppression": "none",
        "stage_dir": folder / "units",
    }
    return CampaignRunSettings(**(fields | values))


def outbox_files(folder: Path) -> dict[str, list[str]]:
    """Endpoint id -> the outbox files written for it (every unit folder)."""
    found: dict[str, list[str]] = {}
    for path in sorted((folder / "outbox").glob("*/*")):
        found.setdefault(path.stem, []).append(f"{path.parent.name}/{path.name}")
    return found


def rows(folder: Path, where: str = "1") -> list[tuple[str, str, str, str | None]]:
    connection = sqlite3.connect(folder / "ledger.db")
    try:
        query = f"SELECT campaign_id, endpoint_id, state, reason FROM messages WHERE {where} ORDER BY 1, 2"
        return list(connection.execute(query))
    finally:
        connection.close()


def test_a_mixed_segment_gets_each_endpoint_exactly_its_channels_message_and_a_rerun_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    file = write_campaign(tmp_path, "mixed", 12)
    result = run_campaign(settings(tmp_path, file), clock=lambda: CLOCK)
    assert result.sent == 12
    files = outbox_files(tmp_path)
    assert sorted(files) == sorted(f"ep-{n}" for n in range(12))
    for n in range(12):
        record = endpoint(n)
        (only,) = files[f"ep-{n}"]
        channel = CHANNELS[record["ChannelType"]]
        assert only.startswith(file_name(f"mixed.20270301T090000Z.default.{channel}") + "/"), only
        content = (tmp_path / "outbox" / only).read_text()
        assert record["Address"] in content
        if channel == "email":
            assert only.endswith(".eml") and "From: shop@example.com" in content
        elif channel == "sms":
            assert json.loads(content)["SendTextMessage"]["OriginationIdentity"] == "+15555550100"
        else:
            assert "GCMMessage" in json.loads(content)["SendMessages"]["MessageRequest"]["MessageConfiguration"]
    again = run_campaign(settings(tmp_path, file), clock=lambda: CLOCK + 60)
    assert again.sent == 0 and sum(unit.skipped["already_sent"] for unit in again.units) == 12
    assert outbox_files(tmp_path) == files


def test_the_holdout_is_recorded_as_skipped_holdout_and_gets_nothing(tmp_path: Path) -> None:
    file = write_campaign(tmp_path, "held", 60, holdout_percent=50)
    result = run_campaign(settings(tmp_path, file), clock=lambda: CLOCK)
    holdout = rows(tmp_path, "reason = 'holdout'")
    assert len(holdout) == sum(result.holdout.values()) and 10 < len(holdout) < 50
    assert {campaign.split(".")[2] for campaign, *_ in holdout} == {"holdout"}
    assert result.sent == 60 - len(holdout)
    held = {endpoint_id for _, endpoint_id, _, _ in holdout}
    assert not held & set(outbox_files(tmp_path))


def test_a_daily_cap_skips_the_second_campaign_and_a_dry_run_records_nothing(tmp_path: Path) -> None:
    first = write_campaign(tmp_path, "first", 9, limits={"project": {"daily": 1}})
    second = write_campaign(tmp_path, "second", 9, limits={"daily": 1, "project": {"daily": 1}})
    assert run_campaign(settings(tmp_path, first), clock=lambda: CLOCK).sent == 9
    dry = run_campaign(settings(tmp_path, second, dry_run=True), clock=lambda: CLOCK)
    assert dry.dry_run and len(rows(tmp_path)) == 9
    result = run_campaign(settings(tmp_path, second), clock=lambda: CLOCK + 3600)
    assert result.sent == 0
    assert sum(unit.skipped["cap_daily"] for unit in result.units) == 9
    assert len(rows(tmp_path, "reason = 'cap_daily'")) == 9
    later = run_campaign(settings(tmp_path, second, now=NOW), clock=lambda: CLOCK + 86_400)
    assert later.sent == 9, "24 hours after the first message: the rolling day is over"


def test_two_campaigns_racing_on_shared_endpoints_with_a_daily_cap_of_1_send_each_endpoint_one_message(
    tmp_path: Path,
) -> None:
    files = [write_campaign(tmp_path, name, 60, limits={"project": {"daily": 1}}) for name in ("east", "west")]
    errors: list[BaseException] = []

    def run(file: Path) -> None:
        try:
            run_campaign(settings(tmp_path, file), clock=lambda: CLOCK)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(file,)) for file in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    received = outbox_files(tmp_path)
    assert sorted(received) == sorted(f"ep-{n}" for n in range(60))
    assert all(len(messages) == 1 for messages in received.values()), "no endpoint gets two messages in 24 hours"
    capped = rows(tmp_path, "reason = 'cap_daily'")
    assert len(capped) == 60


@pytest.mark.parametrize("frequency", ["event"])
def test_an_event_campaign_has_nothing_to_run(tmp_path: Path, frequency: str) -> None:
    file = write_campaign(tmp_path, "evt", 3)
    text = file.read_text().replace(
        'frequency = "once"', 'frequency = "event"\n[schedule.event_filter.event_type]\nvalues = ["x"]'
    )
    file.write_text(text)
    from transformer.errors import PinrecError

    with pytest.raises(PinrecError, match="event-triggered"):
        run_campaign(settings(tmp_path, file))


def test_the_campaign_files_ledger_and_suppression_apply_unless_the_run_names_its_own(tmp_path: Path) -> None:
    own = tmp_path / "own.db"
    file = write_campaign(tmp_path, "filed", 3, ledger=f"sqlite:{own}", suppression="none")
    chosen = settings(tmp_path, file, ledger=None, suppression=None)
    assert run_campaign(chosen, clock=lambda: CLOCK).sent == 3
    assert own.exists() and not (tmp_path / "ledger.db").exists(), "the file's ledger, not the default"
    again = run_campaign(settings(tmp_path, file), clock=lambda: CLOCK + 60)
    assert again.sent == 3, "--ledger names another ledger: it has sent nothing of this campaign yet"
    assert (tmp_path / "ledger.db").exists()
