"""`pinrec campaign report`: recipients from a real SQLite ledger (treatment units' sent rows, the holdout's skipped
rows), conversions from a real store, attribution within the window, and the lift numbers of Newcombe's example
(56/70 against 48/80)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from campaign_tools.campaigns.ledger_units import UnitId, campaign_units, parse_unit
from campaign_tools.campaigns.report import CampaignReportSettings, campaign_lift_report
from campaign_tools.cli import main
from campaign_tools.conversions.model import Conversion
from campaign_tools.conversions.sqlite import SqliteConversions
from campaign_tools.send.ledgers.base import ClaimPolicy
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from transformer.errors import PinrecError

SLOT = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
SLOT2 = SLOT + timedelta(days=1)
HOUR = 3600.0
CAMPAIGN_TOML = """
id = "spring"
name = "Spring"
recommendations = "segment"
treatment_name = "picks"
holdout_percent = 40
segment = "segment.jsonl"

[email]
template = "product-picks"

[schedule]
start = 2027-03-01T09:00:00Z
frequency = "daily"

[conversions]
window = "2d"
event_types = ["purchase"]

[[treatments]]
name = "bundle"
size_percent = 20
"""


def unit(at: datetime, group: str, channel: str = "email") -> str:
    return f"spring.{at:%Y%m%dT%H%M%SZ}.{group}.{channel}"


def send(ledger: SqliteLedger, send_id: str, endpoints: list[str], at: float) -> None:
    ledger.bind_campaign(send_id, "{}", at)
    for endpoint in endpoints:
        assert ledger.claim(send_id, endpoint, at, ClaimPolicy("run")) == "claimed"
        ledger.mark_sent(send_id, endpoint, f"m-{send_id}-{endpoint}", at)


def hold_out(ledger: SqliteLedger, send_id: str, endpoints: list[str], at: float) -> None:
    for endpoint in endpoints:
        ledger.mark_skipped(send_id, endpoint, "holdout", at)


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    """picks: 70 recipients, 56 convert; holdout: 80, 48 convert; bundle: 10 with edge cases."""
    file = tmp_path / "spring.toml"
    file.write_text(CAMPAIGN_TOML, encoding="utf-8")
    sent_at = SLOT.timestamp() + HOUR  # the message goes an hour after the slot
    ledger = SqliteLedger(tmp_path / "pinrec-send.db")
    picks = [f"p{i}" for i in range(70)]
    holdout = [f"h{i}" for i in range(80)]
    bundle = [f"b{i}" for i in range(10)]
    send(ledger, unit(SLOT, "picks"), picks[:50], sent_at)
    send(ledger, unit(SLOT2, "picks"), picks[50:], sent_at + 86400)
    send(ledger, unit(SLOT, "bundle", "sms"), bundle, sent_at)
    hold_out(ledger, unit(SLOT, "holdout"), holdout[:60], sent_at)
    hold_out(ledger, unit(SLOT2, "holdout"), holdout[60:], sent_at + 86400)
    hold_out(ledger, unit(SLOT, "holdout", "sms"), ["h-sms"], sent_at)
    ledger.mark_skipped(unit(SLOT, "holdout"), "not-holdout", "suppressed:bounce", sent_at)
    ledger.bind_campaign("spring-other.20270302T090000Z.picks.email", "{}", sent_at)  # another campaign's prefix
    ledger.close()
    store = SqliteConversions(tmp_path / "pinrec-send.db")
    conversions = [
        Conversion(f"cp{i}", endpoint, None, "purchase", sent_at + 10 * HOUR, 10.0)
        for i, endpoint in enumerate(picks[:40])
    ]
    conversions += [
        Conversion(f"cq{i}", e, None, "purchase", sent_at + 86400 + HOUR, 10.0) for i, e in enumerate(picks[50:66])
    ]
    conversions.append(
        Conversion("again", "p0", None, "purchase", sent_at + 20 * HOUR, 5.0)
    )  # converted once, 2 events
    conversions += [
        Conversion(f"ch{i}", e, None, "purchase", SLOT.timestamp() + 30 * HOUR, 1.0) for i, e in enumerate(holdout[:36])
    ]
    conversions += [
        Conversion(f"cj{i}", e, None, "purchase", SLOT2.timestamp() + 1, 1.0) for i, e in enumerate(holdout[60:72])
    ]
    conversions += [
        Conversion("before", "b0", None, "purchase", sent_at - 1, 100.0),  # before its message
        Conversion("late", "b1", None, "purchase", sent_at + 2 * 86400 + 1, 100.0),  # after the 2-day window
        Conversion("signup", "b2", None, "signup", sent_at + HOUR, 100.0),  # not a counted event type
        Conversion("by-user", None, "user-b3", "purchase", sent_at + HOUR, 7.0),  # through the segment
        Conversion("stranger", "x1", None, "purchase", sent_at + HOUR, 1.0),
    ]
    store.add(conversions, now=0)
    store.close()
    segment = [{"Id": "b3", "ChannelType": "SMS", "Address": "+14155550123", "User": {"UserId": "user-b3"}}]
    segment.append({"Id": "b4", "ChannelType": "SMS", "Address": "+14155550124", "User": {"UserId": "user-b3"}})
    (tmp_path / "segment.jsonl").write_text("\n".join(map(json.dumps, segment)) + "\nnot json\n", encoding="utf-8")
    return file


def settings(file: Path, **extra: object) -> CampaignReportSettings:
    db = f"sqlite:{file.parent / 'pinrec-send.db'}"
    return CampaignReportSettings(file=file, ledger=db, conversions=db, **extra)  # type: ignore[arg-type]


def test_unit_ids_are_parsed_and_listed_with_the_holdout_of_every_slot_and_channel(campaign):
    assert parse_unit("spring", unit(SLOT, "picks")) == UnitId(SLOT, "picks", "email")
    for other in (
        "spring-other.20270302T090000Z.picks.email",
        "spring.2027.picks.email",
        "spring.20271302T090000Z.a.b",
    ):
        assert parse_unit("spring", other) is None
    ledger = SqliteLedger(campaign.parent / "pinrec-send.db", read_only=True)
    units = campaign_units(ledger, "spring")
    ledger.close()
    assert [(u.at, u.group, u.channel) for u in units] == [
        (SLOT, "bundle", "sms"),
        (SLOT, "holdout", "email"),
        (SLOT, "holdout", "sms"),
        (SLOT, "picks", "email"),
        (SLOT2, "holdout", "email"),
        (SLOT2, "picks", "email"),
    ]


def test_report_per_group_with_newcombes_numbers(campaign):
    report = campaign_lift_report(settings(campaign))
    groups = {group.name: group for group in report.groups}
    assert [group.name for group in report.groups] == ["holdout", "picks", "bundle"]
    holdout, picks, bundle = groups["holdout"], groups["picks"], groups["bundle"]
    assert (holdout.recipients, holdout.rate.converted, holdout.conversions) == (81, 48, 48)
    assert holdout.by_channel == {"email": 80, "sms": 1}
    # 56 of 70 in picks: p0 converted twice (one recipient, two conversions)
    assert (picks.recipients, picks.rate.converted, picks.conversions, picks.rate.value) == (70, 56, 57, 565.0)
    # user-b3's conversion converts both its recipient endpoints (b3, b4); the group counts the conversion once
    assert (bundle.recipients, bundle.rate.converted, bundle.conversions, bundle.rate.value) == (10, 2, 1, 7.0)
    assert report.units == 3 and report.slots == (SLOT, SLOT2)
    assert report.unattributed == {"not_a_recipient_in_window": 3}  # before, late, stranger; signup is filtered out


def test_lift_matches_the_published_interval_when_the_groups_are_newcombes(campaign, tmp_path):
    # Drop the one SMS holdout recipient: 56/70 against 48/80 exactly.
    ledger = SqliteLedger(tmp_path / "pinrec-send.db")
    ledger._connection.execute("DELETE FROM messages WHERE endpoint_id = 'h-sms'")
    ledger.close()
    report = campaign_lift_report(settings(campaign))
    picks = next(group for group in report.groups if group.name == "picks")
    assert picks.lift is not None
    assert picks.lift.difference == pytest.approx(0.2)
    assert picks.lift.difference_interval == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert picks.lift.relative == pytest.approx(1 / 3)
    assert picks.lift.relative_interval == pytest.approx((0.07663, 0.65125), abs=5e-5)
    holdout = next(group for group in report.groups if group.name == "holdout")
    assert holdout.lift is None and holdout.rate.rate == pytest.approx(0.6)


def test_without_a_segment_user_conversions_are_counted_unattributed(campaign):
    text = campaign.read_text(encoding="utf-8").replace('segment = "segment.jsonl"\n', "")
    campaign.write_text(text, encoding="utf-8")
    report = campaign_lift_report(settings(campaign))
    assert report.unattributed["user_id_without_segment"] == 1
    assert next(group for group in report.groups if group.name == "bundle").rate.converted == 0


def test_the_command_prints_text_and_json(campaign, capsys):
    db = f"sqlite:{campaign.parent / 'pinrec-send.db'}"
    assert main(["campaign", "report", str(campaign), "--ledger", db, "--conversions", db]) == 0
    text = capsys.readouterr().out
    assert "conversions of purchase within 2d after the message" in text
    assert "picks: 70 recipients, 56 converted (80.00% [" in text
    assert "lift over holdout: +20.74 points" in text  # 0.8 - 48/81
    assert main(["campaign", "report", str(campaign), "--ledger", db, "--conversions", db, "--output", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    picks = printed["groups"][1]
    assert picks["group"] == "picks" and picks["conversion_rate"] == pytest.approx(0.8)
    assert picks["lift"]["difference"] == pytest.approx(0.8 - 48 / 81)
    assert printed["window_seconds"] == 2 * 86400 and printed["event_types"] == ["purchase"]


def test_a_campaign_without_units_and_a_bad_confidence_are_clear_errors(campaign, tmp_path, capsys):
    other = tmp_path / "other.toml"
    other.write_text(CAMPAIGN_TOML.replace('id = "spring"', 'id = "autumn"'), encoding="utf-8")
    with pytest.raises(PinrecError, match="campaign autumn has no units"):
        campaign_lift_report(settings(other))
    assert main(["campaign", "report", str(campaign), "--confidence", "1.5"]) == 1
    assert "confidence" in capsys.readouterr().err


def test_dynamodb_units_are_the_bound_records_with_the_prefix_and_their_holdout(moto_module_endpoint):
    import boto3

    from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger, create_ledger_table

    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=moto_module_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    create_ledger_table(client, "units-ledger")
    ledger = DynamoDbLedger("units-ledger", client)
    send(ledger, unit(SLOT, "picks"), ["p1"], SLOT.timestamp())  # type: ignore[arg-type]
    send(ledger, unit(SLOT2, "bundle", "push"), ["b1"], SLOT2.timestamp())  # type: ignore[arg-type]
    hold_out(ledger, unit(SLOT, "holdout"), ["h1"], SLOT.timestamp())  # type: ignore[arg-type]
    ledger.bind_campaign("spring-other.20270302T090000Z.picks.email", "{}", 0)
    ledger.bind_campaign("spring", "{}", 0)  # a plain send named like the campaign: not a unit
    assert [(u.at, u.group, u.channel) for u in campaign_units(ledger, "spring")] == [
        (SLOT, "holdout", "email"),
        (SLOT, "picks", "email"),
        (SLOT2, "bundle", "push"),
        (SLOT2, "holdout", "push"),
    ]
