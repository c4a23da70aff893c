"""campaign.toml: the example loads, every problem is reported at once by its TOML path, sizes add up."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from campaign_tools.campaigns.definition import CampaignError, load_campaign, parse_campaign
from campaign_tools.channels.email import EmailSettings
from tests.campaign_tools.campaigns.helpers import campaign
from transformer.errors import PinrecError

EXAMPLE = Path(__file__).parents[2] / "data" / "campaigns" / "spring-sale.toml"


def test_the_example_loads_with_its_segment_next_to_it():
    definition = load_campaign(EXAMPLE)
    assert definition.id == "spring-sale"
    assert definition.segment == str(EXAMPLE.parent / "segment.jsonl")
    assert definition.default_share == 45
    assert list(definition.channels.given()) == ["email", "sms", "push"]
    bundle = definition.message("bundle", "email")
    assert bundle.template == "bundle-picks"
    assert bundle.sender(definition.channel_objects()["email"]) == EmailSettings(
        from_address="shop@example.com", configuration_set="pinrec-events"
    )
    assert definition.message("picks", "sms").template == "product-picks"
    assert definition.limits.project.daily == 2
    normalised = definition.normalised()
    assert normalised["email"]["template"] == "product-picks" and "channels" not in normalised
    assert normalised["treatments"][0]["email"] == {"template": "bundle-picks"}


def test_every_field_problem_at_once_named_by_its_toml_path():
    with pytest.raises(CampaignError) as raised:
        parse_campaign(
            {
                "id": "has.dot",
                "nam": "x",
                "recommendations": "nope",
                "email": {"template": "t", "from_adress": "a@b.c"},
                "schedule": {"start": "soon", "frequency": "sometimes", "quiet_time": {"start": "25:00", "end": "7"}},
                "treatments": [{"name": "b", "size_percent": 0}],
            }
        )
    text = str(raised.value)
    for expected in (
        "id: campaign id 'has.dot'",
        "name: required",
        "recommendations: must be",
        "email.from_adress: unknown key (did you mean 'from_address'?)",
        "schedule.start:",
        "schedule.frequency:",
        "schedule.quiet_time.start:",
        "schedule.quiet_time.end:",
        "treatments[0].size_percent:",
        "nam: unknown key (did you mean 'name'?)",
    ):
        assert expected in text


def test_rules_between_keys_are_all_reported():
    with pytest.raises(CampaignError) as raised:
        campaign(
            schedule={
                "start": "2027-03-01T09:00:00+01:00",
                "local_time": True,
                "frequency": "event",
                "quiet_time": {"start": "07:00", "end": "07:00"},
            },
            email={"template": "t", "built": "b"},
            sms=None,
            holdout_percent=60,
            treatments=[
                {"name": "b", "size_percent": 30, "sms": {"template": "x"}},
                {"name": "holdout", "size_percent": 20},
            ],
        )
    problems = raised.value.violations
    assert problems == [
        "holdout_percent + treatments' size_percent = 60 + 30 + 20 is over 100",
        "email: give template or built (one of them)",
        "schedule.start: with local_time it is a wall-clock time, read in each recipient's zone: write it without an "
        "offset",
        'schedule.event_filter: frequency = "event" needs an event filter',
        'schedule.local_time: does not apply to frequency = "event"',
        "schedule.quiet_time: start and end are the same time: give a range (it may span midnight)",
        "treatments[0].sms: the campaign has no [sms] table for it to override",
        "treatments[1].name: 'holdout' is taken (treatment names differ, and not holdout)",
    ]


def test_sizes_leave_the_rest_to_the_campaigns_own_message_and_five_treatments_at_most():
    assert campaign(holdout_percent=10, treatments=[{"name": "b", "size_percent": 45}]).default_share == 45
    five = [{"name": f"t{n}", "size_percent": 18} for n in range(5)]
    assert campaign(holdout_percent=10, treatments=five).default_share == 0
    with pytest.raises(CampaignError, match="make 6; Pinpoint allowed 5"):
        campaign(treatments=[{"name": f"t{n}", "size_percent": 10} for n in range(5)])
    with pytest.raises(CampaignError, match="treatments: Tuple should have at most 5 items"):
        campaign(treatments=[{"name": f"t{n}", "size_percent": 1} for n in range(6)])


def test_zero_limits_are_no_limit_and_pinpoint_ranges_hold():
    definition = campaign(limits={"daily": 0, "total": 3, "maximum_duration": "PT5M"})
    assert definition.limits.daily is None and definition.limits.total == 3
    with pytest.raises(CampaignError) as raised:
        campaign(limits={"daily": 101, "messages_per_second": 20_001, "maximum_duration": 59})
    text = str(raised.value)
    assert "limits.daily:" in text and "limits.messages_per_second:" in text
    assert "limits.maximum_duration: must be at least 60 seconds" in text


def test_timezones_iana_or_pinpoint_offsets():
    assert campaign(schedule={"timezone": "UTC+05:45"}).schedule.zone.utcoffset(None).total_seconds() == 20700
    assert campaign(schedule={"timezone": "Asia/Kolkata"}).schedule.timezone == "Asia/Kolkata"
    with pytest.raises(CampaignError, match=r"schedule\.timezone: time zone 'Mars/Olympus'"):
        campaign(schedule={"timezone": "Mars/Olympus"})


def test_a_naive_start_is_read_in_the_campaign_zone():
    definition = campaign(schedule={"timezone": "Europe/Lisbon", "start": "2027-07-01T09:00:00"})
    assert definition.schedule.instant(definition.schedule.start) == datetime(2027, 7, 1, 8, tzinfo=UTC)


def test_load_errors_name_the_file(tmp_path):
    bad = tmp_path / "campaign.toml"
    bad.write_text('id = "x"\n', encoding="utf-8")
    with pytest.raises(CampaignError, match=f"invalid {bad}"):
        load_campaign(bad)
    bad.write_text("id = \n", encoding="utf-8")
    with pytest.raises(PinrecError, match="not valid TOML"):
        load_campaign(bad)
    with pytest.raises(PinrecError, match="cannot read"):
        load_campaign(tmp_path / "missing.toml")


def test_ledger_and_suppression_are_optional_send_specs():
    assert campaign().ledger is None and campaign().suppression is None
    given = campaign(ledger="dynamodb:pinrec-send-ledger", suppression="none")
    assert (given.ledger, given.suppression) == ("dynamodb:pinrec-send-ledger", "none")
    with pytest.raises(CampaignError) as raised:
        campaign(ledger="nowhere", suppression="s3:bucket")
    assert raised.value.violations == [
        "ledger: must be sqlite:PATH or dynamodb:TABLE, got 'nowhere'",
        "suppression: must be sqlite:PATH or dynamodb:TABLE or none, got 's3:bucket'",
    ]


def test_items_per_message_and_id_type_reach_each_units_send():
    from campaign_tools.campaigns.units import SendUnit, send_settings

    assert campaign().per_message == 5, "the send's default"
    picks = campaign(per_message=3, id_type="user")
    settings = send_settings(picks, SendUnit("c1", datetime(2027, 3, 1, 9, tzinfo=UTC), "default", "email"))
    assert (settings.per_message, settings.id_type) == (3, "user")
    with pytest.raises(CampaignError, match="per_message"):
        campaign(per_message=6)
    with pytest.raises(CampaignError, match="per_message"):
        campaign(per_message=0)
