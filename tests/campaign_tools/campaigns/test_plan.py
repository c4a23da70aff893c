"""The dry run over a mixed segment: each endpoint its own channel's message, per slot, treatment and holdout;
skips with reasons; the segment streamed once; the send units phase 2 runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from campaign_tools.campaigns.plan import due_units, plan
from campaign_tools.campaigns.schedule import State
from campaign_tools.campaigns.units import SendUnit, UnitFilter, send_settings
from tests.campaign_tools.campaigns.helpers import campaign, endpoint

NOW = datetime(2027, 3, 2, 9, 30, tzinfo=UTC)
LOCAL_NINE = {"start": "2027-03-01T09:00:00", "frequency": "daily", "local_time": True, "timezone": "Europe/Lisbon"}


def rows(records: list[object]) -> Iterator[tuple[int, object]]:
    yield from enumerate(records, start=1)


def test_a_mixed_segment_gets_each_channel_its_own_message_per_slot():
    definition = campaign(schedule=LOCAL_NINE)
    segment = [
        endpoint("a", "Europe/Lisbon"),
        endpoint("b", "Europe/London", "SMS"),
        endpoint("c", "Europe/Lisbon", "APNS"),
        endpoint("d", "Asia/Kolkata"),
        endpoint("e", None),
        endpoint("f", "Nowhere/Land"),
        endpoint("g", "Europe/Lisbon", "VOICE"),
        endpoint("h", "Europe/Lisbon", OptOut="ALL"),
        {"Id": "i", "ChannelType": "EMAIL", "Address": "not an address"},
        "not an endpoint",
    ]
    result = plan(definition, rows(segment), NOW)
    assert (result.rows, result.eligible, result.malformed) == (10, 6, 1)
    assert result.skipped == {"no_channel": 1, "opted_out": 1, "invalid_address": 1}
    assert result.zones == {"no_timezone": 1, "invalid_timezone": 1}
    due = {key.at: counts for key, counts in result.slots.items() if key.state is State.DUE}
    assert list(due) == [datetime(2027, 3, 2, 9, tzinfo=UTC)]
    assert due[datetime(2027, 3, 2, 9, tzinfo=UTC)].recipients == {
        ("default", "email"): 3,
        ("default", "sms"): 1,
        ("default", "push"): 1,
    }
    late = [key for key in result.slots if key.state is State.LATE]
    # Looking back one day before the lateness window: yesterday's 09:00 and Kolkata's 09:00 today were missed.
    assert sorted(key.at for key in late) == [
        datetime(2027, 3, 1, 9, tzinfo=UTC),
        datetime(2027, 3, 2, 3, 30, tzinfo=UTC),
    ]
    assert result.slot_skips() == {"late": 6}
    units = list(due_units(result))
    assert [(group, channel, n) for _, group, channel, n in units] == [
        ("default", "email", 3),
        ("default", "push", 1),
        ("default", "sms", 1),
    ]


def test_holdout_and_treatments_are_counted_and_only_treatments_get_units():
    definition = campaign(
        schedule={"start": "2027-03-02T09:00:00Z", "frequency": "once"},
        holdout_percent=20,
        treatments=[{"name": "b", "size_percent": 40, "email": {"template": "other"}}],
    )
    segment = [endpoint(f"e{n}") for n in range(2000)]
    result = plan(definition, rows(segment), NOW)
    groups = {group: n for (group, _), n in result.groups.items()}
    assert sum(groups.values()) == 2000 and all(
        abs(groups[g] / 2000 - p) < 0.05 for g, p in (("holdout", 0.2), ("default", 0.4), ("b", 0.4))
    )
    ((_, counts),) = result.slots.items()
    assert counts.total(holdout=True) == groups["holdout"]
    assert {group for _, group, _, _ in due_units(result)} == {"default", "b"}


def test_the_segment_is_read_once_as_a_stream():
    consumed = []

    def stream() -> Iterator[tuple[int, object]]:
        for n in range(1000):
            consumed.append(n)
            yield n + 1, endpoint(f"e{n}", "Europe/Lisbon")

    result = plan(campaign(schedule=LOCAL_NINE), stream(), NOW)
    assert len(consumed) == 1000 and result.eligible == 1000
    assert len(result.slots) == 2  # counters per slot, not per endpoint


def test_quiet_time_skips_are_counted_per_slot():
    definition = campaign(
        schedule={
            "start": "2027-03-02T09:00:00Z",
            "frequency": "once",
            "quiet_time": {"start": "22:00", "end": "07:00"},
        }
    )
    result = plan(definition, rows([endpoint("a", "Pacific/Honolulu"), endpoint("b", "Asia/Tokyo")]), NOW)
    assert result.slot_skips() == {"quiet_time": 1}  # 23:00 in Honolulu; 18:00 in Tokyo is fine
    assert "quiet_time 1" in "\n".join(result.lines())
    assert result.to_dict()["skipped_in_slots"] == {"quiet_time": 1}


def test_event_campaigns_have_no_slots_but_count_their_recipients():
    definition = campaign(schedule={"frequency": "event", "event_filter": {"event_type": {"values": ["cart"]}}})
    result = plan(definition, rows([endpoint("a")]), NOW)
    assert result.slots == {} and result.eligible == 1 and result.event_triggered


def test_a_unit_maps_to_send_settings_and_filters_its_endpoints():
    definition = campaign(
        schedule=LOCAL_NINE,
        email={"template": "picks", "from_address": "shop@example.com"},
        treatments=[{"name": "b", "size_percent": 50, "email": {"template": "other"}}],
    )
    unit = SendUnit(definition.id, datetime(2027, 3, 2, 9, tzinfo=UTC), "b", "email")
    settings = send_settings(definition, unit, ledger="sqlite:x.db")
    assert settings.campaign_id == "c1.20270302T090000Z.b.email"
    assert settings.template == "other" and settings.sender.model_dump()["from_address"] == "shop@example.com"
    from campaign_tools.campaigns.plan import Planner, window_of

    keep = UnitFilter(Planner(definition, window_of(definition, NOW)), unit)
    members = [
        n
        for n in range(200)
        if keep(f"e{n}", {k: v for k, v in endpoint(f"e{n}", "Europe/Lisbon").items() if k != "Id"})
    ]
    assert 60 < len(members) < 140
    assert not keep("e1", {"ChannelType": "SMS", "Address": "+14155550123"})
