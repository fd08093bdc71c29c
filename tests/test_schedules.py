"""Schedules as pure functions: parsing cron (Quartz and Unix), time zones, DST, basic intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.models.connections import (
    BasicSchedule,
    ConnectionSchedule,
    ConnectionScheduleData,
    CronSchedule,
)
from server.scheduling.schedules import (
    BasicInterval,
    CronError,
    CronSpec,
    describe_cron,
    latest_slot,
    next_fires,
    next_run,
    schedule_of,
    validate_cron,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def fires(expression: str, start: datetime, count: int, zone: str = "UTC") -> list[datetime]:
    spec = validate_cron(expression, zone)
    return [moment.astimezone(spec.zone) for moment in next_fires(spec, start, count)]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# ---- Cron forms ------------------------------------------------------------------------------


def test_quartz_daily_noon() -> None:
    got = fires("0 0 12 * * ?", utc(2024, 5, 1, 13), 2)
    assert got == [utc(2024, 5, 2, 12), utc(2024, 5, 3, 12)]


def test_quartz_seconds_field() -> None:
    got = fires("*/2 * * * * ?", utc(2024, 5, 1, 12, 0, 0), 3)
    assert got == [utc(2024, 5, 1, 12, 0, 2), utc(2024, 5, 1, 12, 0, 4), utc(2024, 5, 1, 12, 0, 6)]
    got = fires("15,45 * * * * ?", utc(2024, 5, 1, 12, 0, 20), 2)
    assert got == [utc(2024, 5, 1, 12, 0, 45), utc(2024, 5, 1, 12, 1, 15)]


def test_unix_five_fields_have_no_seconds() -> None:
    got = fires("*/15 * * * *", utc(2024, 5, 1, 12, 7, 30), 3)
    assert got == [utc(2024, 5, 1, 12, 15), utc(2024, 5, 1, 12, 30), utc(2024, 5, 1, 12, 45)]


@pytest.mark.parametrize(
    ("quartz", "unix", "weekdays"),
    [
        ("0 0 12 ? * 2", "0 12 * * 1", {0}),  # Quartz 2 = Monday = Unix 1
        ("0 0 12 ? * 1", "0 12 * * 0", {6}),  # Sunday
        ("0 0 12 ? * 7", "0 12 * * 6", {5}),  # Saturday
        ("0 0 12 ? * 2-6", "0 12 * * 1-5", {0, 1, 2, 3, 4}),
        ("0 0 12 ? * MON-FRI", "0 12 * * MON-FRI", {0, 1, 2, 3, 4}),
        ("0 0 12 ? * SUN,SAT", "0 12 * * 0,6", {5, 6}),
        ("0 0 12 ? * 1/2", "0 12 * * 0-6/2", {6, 1, 3, 5}),  # Sun, Tue, Thu, Sat
    ],
)
def test_quartz_weekdays_count_from_sunday_as_one(
    quartz: str, unix: str, weekdays: set[int]
) -> None:
    start = utc(2024, 5, 1)
    quartz_days = fires(quartz, start, 14)
    assert {d.weekday() for d in quartz_days} == weekdays
    assert quartz_days == fires(unix, start, 14)


def test_quartz_last_and_nth_weekday_and_last_day() -> None:
    # 6L: the last Friday of the month; 6#3: the third Friday; L: the last day.
    assert fires("0 15 10 ? * 6L", utc(2024, 5, 1), 2) == [
        utc(2024, 5, 31, 10, 15),
        utc(2024, 6, 28, 10, 15),
    ]
    assert fires("0 0 12 ? * 6#3", utc(2024, 5, 1), 2) == [
        utc(2024, 5, 17, 12),
        utc(2024, 6, 21, 12),
    ]
    assert fires("0 0 12 L * ?", utc(2024, 2, 1), 2) == [utc(2024, 2, 29, 12), utc(2024, 3, 31, 12)]
    # 15W: the weekday nearest the 15th (15 June 2024 is a Saturday -> Friday 14th).
    assert fires("0 0 12 15W * ?", utc(2024, 6, 1), 1) == [utc(2024, 6, 14, 12)]


def test_quartz_year_field() -> None:
    assert fires("0 0 12 1 1 ? 2030", utc(2024, 5, 1), 2) == [utc(2030, 1, 1, 12)]
    assert fires("0 0 12 1 1 ? 2030-2031", utc(2024, 5, 1), 3) == [
        utc(2030, 1, 1, 12),
        utc(2031, 1, 1, 12),
    ]


def test_schedule_in_a_time_zone() -> None:
    got = fires("0 0 9 * * ?", utc(2024, 7, 1), 1, "America/New_York")
    assert got[0] == datetime(2024, 7, 1, 9, tzinfo=NEW_YORK)
    assert got[0].astimezone(UTC) == utc(2024, 7, 1, 13)  # EDT is UTC-4


@pytest.mark.parametrize(
    ("expression", "zone", "part", "says"),
    [
        ("0 0 25 * * ?", "UTC", "expression", "hours value 25 is out of range 0-23"),
        ("0 0 12 * *  * * *", "UTC", "expression", "this one has 8"),
        ("", "UTC", "expression", "this one has 0"),
        ("0 0 12 15 * MON", "UTC", "expression", "not both"),
        ("0 0 12 30 2 ?", "UTC", "expression", "no date ever matches"),
        ("0 0 12 ? * 8", "UTC", "expression", "day-of-week value 8 is out of range 1-7"),
        ("*/0 * * * *", "UTC", "expression", "step /0"),
        ("5-2 * * * *", "UTC", "expression", "runs backwards"),
        ("? * * * *", "UTC", "expression", "'?' is only allowed"),
        ("0 0 12 LW * ?", "UTC", "expression", "not supported"),
        ("59 * 29 * 5#3", "UTC", "expression", "cannot be combined"),
        ("0 0 12 15W * MON", "UTC", "expression", "cannot be combined"),
        ("0 0 12 * FOO ?", "UTC", "expression", "month value 'FOO'"),
        ("0 0 12 * * ? 1800", "UTC", "expression", "year value 1800"),
        ("0 0 12 * * ?", "Mars/Olympus_Mons", "time_zone", "Unknown time zone"),
        ("0 0 12 * * ?", "../../etc/passwd", "time_zone", "Unknown time zone"),
        # Files of the zone database that are not zones (ZoneInfo loads them all the same).
        ("0 0 12 * * ?", "localtime", "time_zone", "Unknown time zone"),
        ("0 0 12 * * ?", "posixrules", "time_zone", "Unknown time zone"),
        ("0 0 12 * * ?", "right/UTC", "time_zone", "Unknown time zone"),
        ("0 0 12 * * ?", "posix/Europe/Berlin", "time_zone", "Unknown time zone"),
        ("0 0 12 * * ?", "Factory", "time_zone", "Unknown time zone"),
        ("0 0 12 * * ?", "", "time_zone", "Unknown time zone"),
    ],
)
def test_bad_schedules_say_which_part_and_why(
    expression: str, zone: str, part: str, says: str
) -> None:
    with pytest.raises(CronError) as caught:
        validate_cron(expression, zone)
    assert caught.value.part == part
    assert says in str(caught.value)


def test_any_iana_zone_is_accepted() -> None:
    for zone in ("UTC", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "Etc/GMT+5"):
        assert validate_cron("0 0 12 * * ?", zone).zone == ZoneInfo(zone)


# ---- DST -------------------------------------------------------------------------------------


def test_daily_slot_in_the_skipped_hour_runs_once_right_after_the_jump() -> None:
    # Berlin jumps from 02:00 CET to 03:00 CEST on 31 March 2024: 02:30 does not exist.
    got = fires("0 30 2 * * ?", datetime(2024, 3, 30, 12, tzinfo=BERLIN), 3, "Europe/Berlin")
    assert got == [
        datetime(2024, 3, 31, 3, 0, tzinfo=BERLIN),
        datetime(2024, 4, 1, 2, 30, tzinfo=BERLIN),
        datetime(2024, 4, 2, 2, 30, tzinfo=BERLIN),
    ]


def test_daily_slot_in_the_repeated_hour_runs_once() -> None:
    # Berlin goes back from 03:00 CEST to 02:00 CET on 27 October 2024: 02:30 happens twice.
    got = fires("30 2 * * *", datetime(2024, 10, 26, 12, tzinfo=BERLIN), 3, "Europe/Berlin")
    assert [g.astimezone(UTC) for g in got] == [
        utc(2024, 10, 27, 0, 30),  # 02:30 CEST, the first occurrence only
        utc(2024, 10, 28, 1, 30),  # 02:30 CET
        utc(2024, 10, 29, 1, 30),
    ]


def test_hourly_follows_the_wall_clock_across_both_changes() -> None:
    spring = fires("0 * * * *", datetime(2024, 3, 31, 0, 30, tzinfo=BERLIN), 3, "Europe/Berlin")
    assert [g.strftime("%H:%M%z") for g in spring] == ["01:00+0100", "03:00+0200", "04:00+0200"]
    autumn = fires("0 * * * *", datetime(2024, 10, 27, 0, 30, tzinfo=BERLIN), 3, "Europe/Berlin")
    assert [g.strftime("%H:%M%z") for g in autumn] == ["01:00+0200", "02:00+0200", "03:00+0100"]


def test_second_pass_of_the_repeated_hour_fires_nothing_until_it_ends() -> None:
    in_second_pass = datetime(2024, 10, 27, 2, 15, tzinfo=BERLIN).replace(fold=1)
    got = fires("*/20 * * * *", in_second_pass, 2, "Europe/Berlin")
    assert [g.strftime("%H:%M%z") for g in got] == ["03:00+0100", "03:20+0100"]
    spec = validate_cron("*/20 * * * *", "Europe/Berlin")
    last = latest_slot(spec, in_second_pass)
    assert last is not None
    assert last.astimezone(BERLIN).strftime("%H:%M%z") == "02:40+0200"


def test_new_york_spring_forward_keeps_one_run_per_day() -> None:
    # 10 March 2024: 02:00 EST -> 03:00 EDT; 02:15 does not exist that day.
    got = fires("15 2 * * *", datetime(2024, 3, 9, 12, tzinfo=NEW_YORK), 3, "America/New_York")
    assert [g.strftime("%d %H:%M%z") for g in got] == [
        "10 03:00-0400",
        "11 02:15-0400",
        "12 02:15-0400",
    ]


@pytest.mark.parametrize(
    ("expression", "zone", "start", "count"),
    [
        ("*/20 * * * *", "Europe/Berlin", datetime(2024, 10, 26, 23, tzinfo=UTC), 12),
        ("*/20 * * * *", "Europe/Berlin", datetime(2024, 3, 30, 23, tzinfo=UTC), 12),
        ("0 30 2 * * ?", "Europe/Berlin", datetime(2024, 3, 30, 12, tzinfo=UTC), 2),
        ("30 1 * * *", "America/New_York", datetime(2024, 11, 2, 12, tzinfo=UTC), 2),
        ("0 */7 * * * ?", "Australia/Lord_Howe", datetime(2024, 4, 6, 13, tzinfo=UTC), 40),
    ],
)
def test_latest_slot_agrees_with_next_fires_minute_by_minute(
    expression: str, zone: str, start: datetime, count: int
) -> None:
    """Walking through a DST change a minute at a time, the latest slot is always the last of
    the fires listed from the start: no slot is skipped, doubled or out of order."""
    spec = validate_cron(expression, zone)
    listed = next_fires(spec, start, count)
    assert listed == sorted(set(listed))
    end = listed[-1]
    moment = start + timedelta(seconds=30)
    while moment < end:
        expected = max((f for f in listed if f <= moment), default=None)
        got = latest_slot(spec, moment)
        if expected is not None:
            assert got == expected, moment
        else:
            assert got is None or got <= start
        moment += timedelta(minutes=1)


# ---- next_run --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "unit", "seconds"),
    [
        (15, "minutes", 900),
        (2, "hours", 7200),
        (1, "days", 86400),
        (1, "weeks", 604800),
        (1, "months", 30 * 86400),  # Airbyte's month is 30 days
    ],
)
def test_basic_is_the_last_job_plus_the_interval(units: int, unit: str, seconds: int) -> None:
    interval = BasicInterval(units=units, time_unit=unit)
    now = utc(2024, 5, 1, 12)
    created = int(now.timestamp()) - 60
    assert next_run(interval, now, created) == datetime.fromtimestamp(created + seconds, UTC)


def test_basic_without_a_previous_job_is_due_now() -> None:
    now = utc(2024, 5, 1, 12)
    assert next_run(BasicInterval(units=1, time_unit="hours"), now, None) == now


def test_cron_next_run_is_strictly_after() -> None:
    spec = validate_cron("0 0 12 * * ?", "UTC")
    assert next_run(spec, utc(2024, 5, 1, 12), None) == utc(2024, 5, 2, 12)
    assert next_run(spec, utc(2024, 5, 1, 11, 59, 59), 0) == utc(2024, 5, 1, 12)


def test_cron_that_has_ended_has_no_next_run() -> None:
    spec = validate_cron("0 0 12 1 1 ? 2030", "UTC")
    assert next_run(spec, utc(2031, 1, 1), None) is None
    assert latest_slot(spec, utc(2029, 12, 31)) is None


# ---- A connection's fields -------------------------------------------------------------------


def test_schedule_of_reads_every_shape() -> None:
    assert schedule_of("manual", None, None) is None
    assert schedule_of(None, None, None) is None
    basic = ConnectionScheduleData(basic_schedule=BasicSchedule(time_unit="hours", units=3))
    assert schedule_of("basic", basic, None) == BasicInterval(units=3, time_unit="hours")
    assert schedule_of(None, basic, None) == BasicInterval(units=3, time_unit="hours")
    legacy = ConnectionSchedule(units=5, time_unit="minutes")
    assert schedule_of(None, None, legacy) == BasicInterval(units=5, time_unit="minutes")
    cron = ConnectionScheduleData(
        cron=CronSchedule(cron_expression="0 0 12 * * ?", cron_time_zone="Europe/Berlin")
    )
    spec = schedule_of("cron", cron, None)
    assert isinstance(spec, CronSpec)
    assert (spec.expression, spec.time_zone) == ("0 0 12 * * ?", "Europe/Berlin")
    assert schedule_of(None, cron, None) == spec
    # A manual connection may keep its old data; it does not run.
    assert schedule_of("manual", cron, legacy) is None


def test_schedule_keys_change_with_the_schedule() -> None:
    a = validate_cron("0 0 12 * * ?", "UTC")
    assert a.key == validate_cron("0  0 12 * * ?", "UTC").key
    assert a.key != validate_cron("0 0 12 * * ?", "Europe/Berlin").key
    assert a.key != validate_cron("0 0 13 * * ?", "UTC").key
    assert BasicInterval(60, "minutes").key == BasicInterval(1, "hours").key
    assert BasicInterval(1, "hours").key != BasicInterval(2, "hours").key


# ---- Descriptions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "zone", "text"),
    [
        ("0 0 12 * * ?", "UTC", "At 12:00 PM"),
        ("*/2 * * * * ?", "UTC", "Every 2 seconds"),
        ("0 0 12 ? * MON-FRI", "UTC", "At 12:00 PM, Monday through Friday"),
        ("0 0 12 ? * 2-6", "UTC", "At 12:00 PM, Monday through Friday"),
        ("0 15 10 ? * 6L", "UTC", "At 10:15 AM, on the last Friday of the month"),
        ("0 9 * * 1-5", "UTC", "At 09:00 AM, Monday through Friday"),
        ("0 0 9 * * ?", "Europe/Berlin", "At 09:00 AM (Europe/Berlin)"),
    ],
)
def test_describe(expression: str, zone: str, text: str) -> None:
    assert describe_cron(validate_cron(expression, zone)) == text


def test_a_schedule_being_set_must_fire_again() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(CronError) as caught:
        validate_cron("0 0 0 ? * * 2020", "UTC", now)
    assert caught.value.part == "expression" and "never fires again" in str(caught.value)
    # Without `now` (a stored schedule read back) it is still a valid, finished schedule.
    assert next_fires(validate_cron("0 0 0 ? * * 2020", "UTC"), now, 1) == []
    assert validate_cron("0 0 0 ? * * 2027", "Europe/Berlin", now).time_zone == "Europe/Berlin"
