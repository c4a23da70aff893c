"""Slots with a fixed clock: DST both ways, half-hour and 45-minute offsets, quiet time over midnight (skip and hold),
endpoints without or with an invalid zone, lateness, monthly clamping; properties over every zone and date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_tools.campaigns.schedule import State, Timetable, Window
from campaign_tools.campaigns.zones import ZoneStatus, localize, recipient_zone
from tests.campaign_tools.campaigns.helpers import campaign


def zone(name: object) -> object:
    return recipient_zone({"Demographic": {"Timezone": name}}, UTC, "UTC")


def instants(schedule: dict, name: object, since: datetime, until: datetime, now: datetime | None = None) -> list:
    table = Timetable(campaign(schedule=schedule).schedule)
    return [(fire.at, fire.state, fire.held) for fire in table.fires(zone(name), Window(now or until, since, until))]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


DAILY_9 = {"start": "2027-03-01T09:00:00", "frequency": "daily", "local_time": True}


def test_local_time_reaches_each_zone_at_nine_local():
    since, until = utc(2027, 3, 1, 12), utc(2027, 3, 2, 12)
    assert [at for at, *_ in instants(DAILY_9, "Asia/Tokyo", since, until)] == [utc(2027, 3, 2, 0)]
    assert [at for at, *_ in instants(DAILY_9, "Europe/Lisbon", since, until)] == [utc(2027, 3, 2, 9)]
    assert [at for at, *_ in instants(DAILY_9, "Asia/Kolkata", since, until)] == [utc(2027, 3, 2, 3, 30)]
    assert [at for at, *_ in instants(DAILY_9, "Asia/Kathmandu", since, until)] == [utc(2027, 3, 2, 3, 15)]
    assert [at for at, *_ in instants(DAILY_9, "Australia/Eucla", since, until)] == [utc(2027, 3, 2, 0, 15)]


def test_new_york_across_both_dst_changes():
    march = instants(DAILY_9, "America/New_York", utc(2027, 3, 13), utc(2027, 3, 15, 23))
    assert [at for at, *_ in march] == [utc(2027, 3, 13, 14), utc(2027, 3, 14, 13), utc(2027, 3, 15, 13)]
    november = instants(DAILY_9, "America/New_York", utc(2027, 11, 6), utc(2027, 11, 8, 23))
    assert [at for at, *_ in november] == [utc(2027, 11, 6, 13), utc(2027, 11, 7, 14), utc(2027, 11, 8, 14)]


def test_a_time_in_the_spring_forward_gap_fires_the_gap_later_once():
    gap = {"start": "2027-03-13T02:30:00", "frequency": "daily", "local_time": True}
    fires = instants(gap, "America/New_York", utc(2027, 3, 13), utc(2027, 3, 15, 23))
    # 02:30 does not exist on 14 March: read with the offset before the gap (EST), it is 03:30 EDT = 07:30 UTC.
    assert [at for at, *_ in fires] == [utc(2027, 3, 13, 7, 30), utc(2027, 3, 14, 7, 30), utc(2027, 3, 15, 6, 30)]
    hourly = {"start": "2027-03-14T00:30:00", "frequency": "hourly", "local_time": True}
    slots = [at for at, *_ in instants(hourly, "America/New_York", utc(2027, 3, 14, 5), utc(2027, 3, 14, 8, 45))]
    assert slots == [utc(2027, 3, 14, 5, 30), utc(2027, 3, 14, 6, 30), utc(2027, 3, 14, 7, 30), utc(2027, 3, 14, 8, 30)]


def test_a_repeated_time_when_clocks_go_back_fires_once_at_its_first_occurrence():
    repeated = {"start": "2027-10-31T01:30:00", "frequency": "once", "local_time": True}
    assert [at for at, *_ in instants(repeated, "Europe/Lisbon", None, utc(2027, 11, 1))] == [utc(2027, 10, 31, 0, 30)]


def test_sydney_and_lisbon_change_in_opposite_directions():
    weekly = {"start": "2027-03-26T09:00:00", "frequency": "weekly", "local_time": True}
    sydney = instants(weekly, "Australia/Sydney", utc(2027, 3, 25), utc(2027, 4, 10))
    assert [at for at, *_ in sydney] == [utc(2027, 3, 25, 22), utc(2027, 4, 1, 22), utc(2027, 4, 8, 23)]
    lisbon = instants(weekly, "Europe/Lisbon", utc(2027, 3, 25), utc(2027, 4, 10))
    assert [at for at, *_ in lisbon] == [utc(2027, 3, 26, 9), utc(2027, 4, 2, 8), utc(2027, 4, 9, 8)]


QUIET = {"start": "22:00", "end": "07:00"}


def test_quiet_time_over_midnight_skips_with_its_reason():
    late_evening = {"start": "2027-03-01T23:00:00Z", "frequency": "daily", "quiet_time": QUIET}
    fires = instants(late_evening, "Europe/Lisbon", utc(2027, 3, 1), utc(2027, 3, 2), now=utc(2027, 3, 1, 23))
    assert fires == [(utc(2027, 3, 1, 23), State.QUIET_TIME, False)]
    tokyo = instants(late_evening, "Asia/Tokyo", utc(2027, 3, 1), utc(2027, 3, 2), now=utc(2027, 3, 1, 23))
    assert tokyo == [(utc(2027, 3, 1, 23), State.DUE, False)]  # 08:00 in Tokyo: quiet time is over


def test_quiet_time_hold_sends_when_it_ends_in_the_recipients_zone():
    held = {"start": "2027-03-01T23:00:00Z", "frequency": "once", "quiet_time": QUIET, "quiet_time_mode": "hold"}
    fires = instants(held, "Europe/Lisbon", None, utc(2027, 3, 3), now=utc(2027, 3, 2, 7, 30))
    assert fires == [(utc(2027, 3, 2, 7), State.DUE, True)]
    early = {"start": "2027-03-02T05:00:00Z", "frequency": "once", "quiet_time": QUIET, "quiet_time_mode": "hold"}
    night = {**early, "start": "2027-03-01T18:00:00Z"}  # 23:30 in Kolkata: held to 07:00 there, 01:30 UTC
    assert instants(night, "Asia/Kolkata", None, utc(2027, 3, 3), now=utc(2027, 3, 1)) == [
        (utc(2027, 3, 2, 1, 30), State.UPCOMING, True)
    ]
    # 05:00 UTC is 10:30 in Kolkata: not quiet, sent at once.
    assert instants(early, "Asia/Kolkata", None, utc(2027, 3, 3), now=utc(2027, 3, 1)) == [
        (utc(2027, 3, 2, 5), State.UPCOMING, False)
    ]


def test_quiet_time_applies_only_to_endpoints_with_a_valid_zone_of_their_own():
    late = {"start": "2027-03-01T23:00:00Z", "frequency": "once", "quiet_time": QUIET, "timezone": "Europe/Lisbon"}
    for name in (None, "", "Mars/Olympus", 42, "../../etc/passwd"):
        fires = instants(late, name, None, utc(2027, 3, 2), now=utc(2027, 3, 1, 23))
        assert fires == [(utc(2027, 3, 1, 23), State.DUE, False)]
    assert zone(None).status is ZoneStatus.NONE
    assert zone("Mars/Olympus").status is ZoneStatus.INVALID and zone(["x"]).status is ZoneStatus.INVALID


def test_invalid_zones_fall_back_to_the_campaign_zone_for_local_time():
    table = Timetable(campaign(schedule={**DAILY_9, "timezone": "Asia/Kolkata"}).schedule)
    fallback = recipient_zone({"Demographic": {"Timezone": "Nowhere/Land"}}, table.zone, "Asia/Kolkata")
    fires = table.fires(fallback, Window(utc(2027, 3, 2, 12), utc(2027, 3, 1, 12), utc(2027, 3, 2, 12)))
    assert [fire.at for fire in fires] == [utc(2027, 3, 2, 3, 30)]


def test_a_slot_past_max_lateness_is_late_never_due():
    daily = {"start": "2027-03-01T09:00:00Z", "frequency": "daily", "max_lateness": "PT30M"}
    assert instants(daily, None, utc(2027, 3, 1), utc(2027, 3, 1, 10), now=utc(2027, 3, 1, 9, 30))[0][1] is State.DUE
    assert instants(daily, None, utc(2027, 3, 1), utc(2027, 3, 1, 10), now=utc(2027, 3, 1, 9, 31))[0][1] is State.LATE


def test_end_and_expiry_bound_the_slots():
    ending = {"start": "2027-03-01T09:00:00Z", "end": "2027-03-03T09:00:00Z", "frequency": "daily"}
    assert [at for at, *_ in instants(ending, None, None, utc(2027, 3, 9))] == [utc(2027, 3, 1, 9), utc(2027, 3, 2, 9)]
    definition = campaign(schedule={"start": "2027-03-01T09:00:00Z"}, expiry="2027-03-02T09:00:00Z")
    table = Timetable(definition.schedule, definition.expiry_instant())
    states = [fire.state for fire in table.fires(zone(None), Window(utc(2027, 3, 1), None, utc(2027, 3, 3)))]
    assert states == [State.UPCOMING, State.EXPIRED]


def test_monthly_on_the_31st_runs_on_the_last_day_of_shorter_months():
    monthly = {"start": "2027-01-31T09:00:00Z", "frequency": "monthly"}
    slots = [at for at, *_ in instants(monthly, None, None, utc(2027, 5, 1))]
    assert slots == [utc(2027, 1, 31, 9), utc(2027, 2, 28, 9), utc(2027, 3, 31, 9), utc(2027, 4, 30, 9)]


def test_hourly_without_local_time_steps_in_real_time_across_dst():
    hourly = {"start": "2027-03-14T05:00:00Z", "frequency": "hourly", "timezone": "America/New_York"}
    slots = [at for at, *_ in instants(hourly, None, utc(2027, 3, 14, 5), utc(2027, 3, 14, 9))]
    assert slots == [utc(2027, 3, 14, 6), utc(2027, 3, 14, 7), utc(2027, 3, 14, 8), utc(2027, 3, 14, 9)]


def test_event_campaigns_have_no_slots():
    event = {"frequency": "event", "event_filter": {"event_type": {"values": ["cart"]}}}
    assert instants(event, None, None, utc(2028, 1, 1)) == []


ZONES = sorted(name for name in available_timezones() if "/" in name and not name.startswith(("posix/", "right/")))


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(ZONES),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2035, 12, 31)),
    minute=st.integers(0, 24 * 60 - 1),
)
def test_a_local_time_slot_fires_at_the_wall_clock_time_in_every_zone(name, day, minute):
    wall = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
    schedule = {"start": wall.isoformat(), "frequency": "once", "local_time": True}
    fires = Timetable(campaign(schedule=schedule).schedule).fires(
        zone(name), Window(utc(2036, 6, 1), None, utc(2036, 6, 1))
    )
    assert len(fires) == 1
    local = fires[0].at.astimezone(ZoneInfo(name))
    if local.replace(tzinfo=None) != wall:
        # Only a wall time in a DST gap may move: by the documented rule, forward by the gap's length.
        before = wall.replace(tzinfo=ZoneInfo(name), fold=0).utcoffset()
        after = wall.replace(tzinfo=ZoneInfo(name), fold=1).utcoffset()
        assert before is not None and after is not None and after > before
        assert local.replace(tzinfo=None) - wall == after - before
    assert fires[0].at == localize(wall, ZoneInfo(name))


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(ZONES),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    start=st.integers(0, 23),
    end=st.integers(0, 23),
    slot=st.integers(0, 23),
)
def test_hold_never_sends_in_quiet_time_and_skip_never_sends_at_all(name, day, start, end, slot):
    if start == end:
        return
    quiet = {"start": f"{start:02d}:00", "end": f"{end:02d}:00"}
    wall = datetime.combine(day, datetime.min.time()) + timedelta(hours=slot)
    base = {"start": wall.isoformat(), "frequency": "once", "local_time": True, "quiet_time": quiet}
    window = Window(utc(2031, 6, 1), None, utc(2031, 6, 1))
    held = Timetable(campaign(schedule={**base, "quiet_time_mode": "hold"}).schedule).fires(zone(name), window)[0]
    skipped = Timetable(campaign(schedule=base).schedule).fires(zone(name), window)[0]
    quiet_time = campaign(schedule=base).schedule.quiet_time
    assert quiet_time is not None
    local_at = held.at.astimezone(ZoneInfo(name)).time()
    assert held.state is not State.QUIET_TIME and (held.held or not quiet_time.covers(local_at))
    assert skipped.held is False
    assert (skipped.state is State.QUIET_TIME) == held.held
    assert held.at >= held.scheduled and held.at - held.scheduled <= timedelta(hours=25)
