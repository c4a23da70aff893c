"""`pinrec migrate`'s campaigns in their edge cases, over a small hand-written project: an EVENT campaign with an
EventFilter (and fields pinrec has no equivalent for), a local-time campaign with quiet time in a UTC offset zone, a
campaign whose segment cannot be evaluated, one whose schedule cannot be carried over, and inline messages."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.campaigns.definition import load_campaign
from campaign_tools.campaigns.event_filter import AppEvent, matches
from campaign_tools.channels import registry as channel_registry
from campaign_tools.cli import main
from campaign_tools.templates.prebuilt import load_prebuilt

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "migrate" / "project"
ZONES = {"tokyo": "Asia/Tokyo", "lisbon": "Europe/Lisbon", "york": "America/New_York", "mars": "Mars/Base"}
SEGMENTS = [
    {
        "Id": "all-email",
        "Name": "all email",
        "SegmentType": "DIMENSIONAL",
        "Version": 1,
        "Dimensions": {"Demographic": {"Channel": {"DimensionType": "INCLUSIVE", "Values": ["EMAIL"]}}},
    },
    {
        "Id": "odd-seg",
        "Name": "odd",
        "SegmentType": "DIMENSIONAL",
        "Dimensions": {"Attributes": {"Since": {"AttributeType": "BETWEEN", "Values": ["2025-01-01T00:00:00Z"]}}},
    },
]
BASE = {"ApplicationId": "app-1", "LastModifiedDate": "2025-03-01T10:00:00.000Z", "SegmentId": "all-email"}
CAMPAIGNS = [
    {
        **BASE,
        "Id": "ev1",
        "Name": "cart nudge",
        "Schedule": {
            "Frequency": "EVENT",
            "StartTime": "2025-05-01T00:00:00Z",
            "EndTime": "2025-06-01T00:00:00Z",
            "IsLocalTime": True,
            "EventFilter": {
                "FilterType": "ENDPOINT",
                "Dimensions": {
                    "EventType": {"DimensionType": "INCLUSIVE", "Values": ["cart.abandoned"]},
                    "Attributes": {"category": {"AttributeType": "INCLUSIVE", "Values": ["shoes"]}},
                    "Metrics": {"cart_value": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": 50}},
                },
            },
        },
        "TemplateConfiguration": {
            "EmailTemplate": {"Name": "welcome-email", "Version": "1"},
            "VoiceTemplate": {"Name": "call-me"},
        },
        "MessageConfiguration": {"InAppMessage": {"Body": "hi"}, "EmailMessage": {"FromAddress": "shop@example.com"}},
        "Limits": {"Daily": 2, "Session": 1, "MaximumDuration": 600},
        "Hook": {"LambdaFunctionName": "filter-fn", "Mode": "FILTER"},
        "CustomDeliveryConfiguration": {"DeliveryUri": "https://hooks.example.com", "EndpointTypes": ["CUSTOM"]},
        "Priority": 3,
        "IsPaused": True,
        "tags": {"team": "growth"},
    },
    {
        **BASE,
        "Id": "lt1",
        "Name": "evening local",
        "Schedule": {
            "Frequency": "DAILY",
            "IsLocalTime": True,
            "Timezone": "UTC+02",
            "StartTime": "2025-05-01T19:30:00Z",
            "EndTime": "2025-05-08T19:30:00Z",
            "QuietTime": {"Start": "21:00", "End": "08:00"},
        },
        "TemplateConfiguration": {"EmailTemplate": {"Name": "welcome-email"}},
    },
    {
        **BASE,
        "Id": "od1",
        "Name": "odd audience",
        "SegmentId": "odd-seg",
        "Schedule": {"Frequency": "ONCE", "StartTime": "2025-05-01T09:00:00Z"},
        "TemplateConfiguration": {"EmailTemplate": {"Name": "welcome-email"}},
    },
    {
        **BASE,
        "Id": "bad1",
        "Name": "fortnightly",
        "Schedule": {"Frequency": "FORTNIGHTLY", "StartTime": "2025-05-01T09:00:00Z"},
        "TemplateConfiguration": {"EmailTemplate": {"Name": "welcome-email"}},
    },
    {
        **BASE,
        "Id": "in1",
        "Name": "inline",
        "Schedule": {"Frequency": "ONCE", "StartTime": "2025-05-01T09:00:00Z"},
        "MessageConfiguration": {
            "EmailMessage": {"FromAddress": "news@example.com", "Title": "Hi {{User.UserId}}", "HtmlBody": "<p>Hi</p>"},
            "SMSMessage": {
                "Body": "Hi",
                "OriginationNumber": "+15555550100",
                "SenderId": "SHOP",
                "MessageType": "transactional",
                "EntityId": "x",
            },
        },
    },
]


def endpoints() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for number in range(40):
        record: dict[str, Any] = {
            "Id": f"e{number}",
            "ChannelType": "SMS" if number % 10 == 9 else "EMAIL",
            "Address": f"u{number}@example.com",
            "EndpointStatus": "INACTIVE" if number == 7 else "ACTIVE",
            "OptOut": "ALL" if number == 8 else "NONE",
        }
        zone = list(ZONES.values())[number % 5] if number % 5 < 4 else None
        if zone:
            record["Demographic"] = {"Timezone": zone}
        records.append(record)
    return records


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("edge") / "export"
    shutil.copytree(FIXTURES / "templates", folder / "templates")
    shutil.copy(FIXTURES / "recommenders.json", folder)
    (folder / "segments.json").write_text(json.dumps({"SegmentsResponse": {"Item": SEGMENTS}}))
    (folder / "campaigns.json").write_text(json.dumps({"CampaignsResponse": {"Item": CAMPAIGNS}}))
    (folder / "export-part").write_text("".join(json.dumps(record) + "\n" for record in endpoints()))
    out = folder.parent / "out"
    assert main(["migrate", "--from", str(folder), "--out", str(out), "--now", "2025-04-01T00:00:00Z"]) == 0
    return out


def section(report: str, title: str) -> str:
    return report.split(f"## campaign {title}", 1)[1].split("\n## ", 1)[0]


def test_an_event_campaign_keeps_its_filter_and_lists_what_has_no_equivalent(migrated: Path) -> None:
    path = migrated / "campaigns" / "cart-nudge-ev1" / "campaign.toml"
    assert main(["campaign", "validate", str(path)]) == 0
    campaign = load_campaign(path)
    schedule = campaign.schedule
    assert (schedule.frequency, schedule.local_time) == ("event", False)
    assert (schedule.start, schedule.end) == (datetime(2025, 5, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC))
    assert schedule.event_filter is not None
    event = AppEvent("cart.abandoned", datetime(2025, 5, 2, tzinfo=UTC), "e1", None, {"category": ("shoes",)}, {})
    assert matches(schedule.event_filter, event).reason == "metrics"  # no cart_value metric
    assert matches(schedule.event_filter, replace(event, metrics={"cart_value": 50.0})).matched
    assert campaign.limits.daily == 2 and campaign.limits.maximum_duration is not None
    email = campaign.message("default", "email")
    assert email.sender(channel_registry.channel("email")).model_dump()["from_address"] == "shop@example.com"
    report = section((migrated / "MIGRATION.md").read_text(), "cart nudge (ev1)")
    for expected in (
        "Schedule.IsLocalTime: does not apply to an EVENT campaign",
        "TemplateConfiguration.VoiceTemplate: pinrec has no voice channel",
        "MessageConfiguration.InAppMessage: in-app messages are shown by the Pinpoint SDK",
        "Limits.Session = 1: messages per app session; pinrec has no app sessions",
        'Hook = {"LambdaFunctionName": "filter-fn", "Mode": "FILTER"}: pinrec has no campaign hook',
        "CustomDeliveryConfiguration = ",
        "Priority = 3: pinrec runs each campaign on its own",
        "IsPaused = true: campaign.toml has no paused state; after `pinrec campaign deploy`, run `pinrec campaign pause`",
        'tags = {"team": "growth"}: campaign.toml has no tags',
    ):
        assert expected in report, expected


def test_a_local_time_campaign_keeps_wall_clock_times_and_skips_quiet_time(
    migrated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = migrated / "campaigns" / "evening-local-lt1" / "campaign.toml"
    assert main(["campaign", "validate", str(path)]) == 0
    schedule = load_campaign(path).schedule
    # 19:30Z in Pinpoint's "starting UTC offset" UTC+02 is 21:30 on each recipient's clock.
    assert (schedule.start, schedule.end, schedule.timezone) == (
        datetime(2025, 5, 1, 21, 30),
        datetime(2025, 5, 8, 21, 30),
        "UTC+02",
    )
    assert schedule.local_time and schedule.quiet_time_mode == "skip" and schedule.quiet_time is not None
    assert (schedule.quiet_time.start, schedule.quiet_time.end) == (time(21), time(8))
    capsys.readouterr()
    window = ["--now", "2025-05-01T19:40:00Z", "--since", "2025-05-01T00:00:00Z", "--until", "2025-05-02T06:00:00Z"]
    assert main(["campaign", "plan", str(path), "--output", "json", *window]) == 0
    plan = json.loads(capsys.readouterr().out)
    records = endpoints()
    selected = [record for record in records if record["ChannelType"] == "EMAIL"]
    assert plan["segment"]["rows"] == len(selected)
    assert plan["segment"]["skipped"] == {"inactive": 1, "opted_out": 1}
    eligible = [record for record in selected if record["Id"] not in ("e7", "e8")]
    own = [
        record
        for record in eligible
        if record.get("Demographic", {}).get("Timezone") in set(ZONES.values()) - {"Mars/Base"}
    ]
    others = len(eligible) - len(own)
    # Pinpoint's campaigns skip a recipient in quiet time (21:30 local is in 21:00-08:00); endpoints without a valid
    # zone of their own get the campaign's (UTC+02: 19:30Z) and no quiet time.
    assert plan["skipped_in_slots"] == {"quiet_time": len(own)}
    due = [slot for slot in plan["slots"] if slot["state"] == "due"]
    assert [(slot["at"], slot["recipients"]) for slot in due] == [
        ("2025-05-01T19:30:00Z", {"default": {"email": others}})
    ]
    assert plan["segment"]["time_zones"] == {
        "invalid_timezone": sum(1 for r in eligible if r.get("Demographic", {}).get("Timezone") == "Mars/Base"),
        "no_timezone": sum(1 for r in eligible if "Demographic" not in r),
    }
    assert len(own) + others == len(selected) - 2


def test_a_campaign_whose_segment_cannot_be_built_is_written_without_one(migrated: Path) -> None:
    path = migrated / "campaigns" / "odd-audience-od1" / "campaign.toml"
    assert main(["campaign", "validate", str(path)]) == 0
    assert load_campaign(path).segment is None
    report = section((migrated / "MIGRATION.md").read_text(), "odd audience (od1)")
    assert "its audience: segment odd-seg has no migrated audience (the definition uses what pinrec cannot" in report
    assert "BETWEEN takes 2 value(s), got 1" in report and "give `--segment`" in report


def test_a_campaign_without_an_equivalent_schedule_is_not_written_and_every_field_is_listed(migrated: Path) -> None:
    assert not (migrated / "campaigns" / "fortnightly-bad1").exists()
    report = (migrated / "MIGRATION.md").read_text()
    assert (
        "| campaign **fortnightly (bad1)** | `campaigns.json Item[3]` | — | the campaign: Schedule.Frequency" in report
    )
    assert 'Schedule.Frequency = "FORTNIGHTLY"' in section(report, "fortnightly (bad1)")


def test_inline_messages_become_built_templates_with_their_senders(migrated: Path) -> None:
    path = migrated / "campaigns" / "inline-in1" / "campaign.toml"
    assert main(["campaign", "validate", str(path)]) == 0
    campaign = load_campaign(path)
    email, sms = campaign.message("default", "email"), campaign.message("default", "sms")
    assert email.built == "campaigns/inline-in1/templates/email/default"
    template = load_prebuilt(migrated / str(email.built))
    assert {part.key: text for part, text in template.parts.items()} == {
        "email-subject": "Hi {{User.UserId}}",
        "email-html": "<p>Hi</p>",
    }
    assert sms.sender(channel_registry.channel("sms")).model_dump()["origination_identity"] == "+15555550100"
    assert sms.sender(channel_registry.channel("sms")).model_dump()["message_type"] == "TRANSACTIONAL"
    report = section((migrated / "MIGRATION.md").read_text(), "inline (in1)")
    assert "SenderId SHOP: one origination identity per send; OriginationNumber is used" in report
    assert "MessageConfiguration.SMSMessage.EntityId: campaign.toml's sms table has no such setting" in report
