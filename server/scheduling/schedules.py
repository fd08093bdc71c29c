"""Connection schedules: reading them, checking cron expressions, and computing when syncs are due.

Pure functions, no I/O; `server.scheduling.loop` applies them to stored facts.

Cron comes in two forms, Airbyte's Quartz form and the Unix one; `server.scheduling.cron`
checks them field by field and rewrites them for croniter, which is what runs.

Times are reckoned in the schedule's IANA zone by wall clock: a slot is a local date and time.
A slot that does not exist (skipped by a DST jump forward) fires at the first instant after the
jump; a slot that exists twice (the repeated hour of a DST jump back) fires once, at its first
occurrence. So a daily 02:30 job runs exactly once on both transition days.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from cron_descriptor import DescriptionTypeEnum, ExpressionDescriptor, Options
from croniter import CroniterBadDateError, CroniterError, croniter

from server.scheduling.cron import CronError as CronError
from server.scheduling.cron import bad_cron, parse_cron

# Airbyte's interval per unit; a "month" is 30 days there, so it is here.
TIME_UNIT_SECONDS = {
    "minutes": 60,
    "hours": 3600,
    "days": 86400,
    "weeks": 7 * 86400,
    "months": 30 * 86400,
}

_MAX_YEARS = 200  # croniter gives up after 50 years without a match; allow any year to 2099


@dataclass(frozen=True)
class BasicInterval:
    """Every `units` `time_unit` after the previous job was created."""

    units: int
    time_unit: str

    @property
    def seconds(self) -> int:
        return self.units * TIME_UNIT_SECONDS[self.time_unit]

    @property
    def key(self) -> str:
        return f"basic {self.seconds}"


@dataclass(frozen=True)
class CronSpec:
    """A checked cron schedule: what the user wrote, and what croniter runs."""

    expression: str
    time_zone: str
    croniter_expression: str  # minute hour day month weekday second year
    quartz: bool  # written in Quartz form (seconds first, weekdays 1-7)
    zone: ZoneInfo = field(compare=False, repr=False)

    @property
    def key(self) -> str:
        """Identifies the schedule: a change of it restarts the slot count."""
        return f"cron {self.croniter_expression} {self.time_zone}"


Schedule = BasicInterval | CronSpec


# ---- Reading a connection's schedule --------------------------------------------------------


def schedule_of(schedule_type: str | None, schedule_data: Any, schedule: Any) -> Schedule | None:
    """The schedule a connection's fields describe, or None for a manual connection.

    `schedule_data` is a ConnectionScheduleData (or None), `schedule` the 2020 ConnectionSchedule
    (or None). With no `scheduleType`, the fields present decide: cron, basic, else manual.
    Raises CronError for a cron schedule that cannot run.
    """
    basic = getattr(schedule_data, "basic_schedule", None)
    cron = getattr(schedule_data, "cron", None)
    if schedule_type is None:
        schedule_type = "cron" if cron else "basic" if (basic or schedule) else "manual"
    if schedule_type == "basic":
        interval = basic or schedule
        if interval is None:
            return None
        return BasicInterval(units=int(interval.units), time_unit=str(interval.time_unit))
    if schedule_type == "cron" and cron is not None:
        return validate_cron(cron.cron_expression, cron.cron_time_zone)
    return None


# In the zone database but not zones: the host's own zone under another name, tzdata's
# placeholder, the file POSIX TZ strings borrow rules from, and the leap-second variants.
_NOT_ZONES = {"localtime", "Factory", "posixrules"}


@functools.cache
def zone_names() -> frozenset[str]:
    """The IANA zone names a schedule may use (read from the zone database once)."""
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    )


def zone_of(time_zone: str | None) -> ZoneInfo:
    """The IANA zone named (UTC when none is given). Only real zone names pass: ZoneInfo
    alone would also load `localtime`, `right/UTC` or any file path under the zone database."""
    name = "UTC" if time_zone is None else time_zone
    if name in zone_names() or name == "UTC":
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError, OSError):
            pass
    raise CronError(
        "time_zone", f"Unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin'"
    )


def validate_cron(
    expression: str, time_zone: str | None = "UTC", now: datetime | None = None
) -> CronSpec:
    """Check a cron schedule; raise CronError saying which part is wrong and why.

    Accepted: 5-field Unix cron (`*/15 * * * *`) and Airbyte's 6/7-field Quartz cron, seconds
    first, `?` allowed, optional year (`0 0 12 * * ?`); any IANA time zone. Unlike Airbyte,
    schedules more often than once a minute are allowed. With `now` (a schedule being set),
    one that never fires after `now` (`0 0 0 ? * * 2020`) is refused too.
    """
    zone = zone_of(time_zone)
    text = " ".join(expression.split())
    try:
        native, quartz = parse_cron(text)
    except CronError as exc:
        raise bad_cron(f"Invalid cron expression {text!r}: {exc}") from None
    try:
        # The fields may each be fine and still never meet (30 February).
        croniter(native, datetime(1970, 1, 1), max_years_between_matches=_MAX_YEARS).get_next(
            datetime
        )
    except CroniterBadDateError:
        raise bad_cron(f"Invalid cron expression {text!r}: no date ever matches it") from None
    except (CroniterError, ValueError, KeyError) as exc:
        raise bad_cron(f"Invalid cron expression {text!r}: {exc}") from None
    spec = CronSpec(
        expression=text,
        time_zone=time_zone or "UTC",
        croniter_expression=native,
        quartz=quartz,
        zone=zone,
    )
    if now is not None and not next_fires(spec, now, 1):
        raise bad_cron(f"Invalid cron expression {text!r}: it never fires again")
    return spec


# ---- Wall-clock time in a zone --------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant (UTC) a local wall-clock slot fires at.

    A repeated time takes its first occurrence; a skipped time the first instant after the
    jump. This map never goes backwards, so slots keep their order as instants.
    """
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first
    # In a gap fold=0 reads the time with the offset before the jump (landing after it) and
    # fold=1 with the one after (landing before it): the jump lies between the two.
    low = int(local.replace(tzinfo=zone, fold=1).timestamp())
    high = int(first.timestamp())
    after = first.astimezone(zone).utcoffset()
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == after:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def _wall(moment: datetime, zone: ZoneInfo) -> tuple[datetime, timedelta]:
    """The local wall-clock time of an instant, and how long the clock repeats after it.

    In the second pass of a repeated hour, every slot of that hour, also those later on the
    clock, fired in the first pass: a backwards search must start that much later.
    """
    local = _utc(moment).astimezone(zone)
    repeat = timedelta(0)
    if local.fold == 1:
        early, late = local.replace(fold=0).utcoffset(), local.utcoffset()
        if early is not None and late is not None and early > late:
            repeat = early - late
    return local.replace(tzinfo=None), repeat


def next_fires(spec: CronSpec, after: datetime, count: int) -> list[datetime]:
    """The next `count` instants (UTC) the schedule fires strictly after `after`."""
    start = _utc(after)
    found: list[datetime] = []
    wall, _ = _wall(start, spec.zone)
    it = croniter(spec.croniter_expression, wall, max_years_between_matches=_MAX_YEARS)
    # Only the second pass of a repeated hour skips slots (they fired in the first): one hour.
    for _ in range(100_000):
        if len(found) >= count:
            break
        try:
            local = it.get_next(datetime)
        except CroniterBadDateError:
            break
        moment = _instant(local, spec.zone)
        if moment > start and (not found or moment > found[-1]):
            found.append(moment)
    return found


def latest_slot(spec: CronSpec, at: datetime) -> datetime | None:
    """The last instant (UTC) at or before `at` that the schedule fired, if any."""
    end = _utc(at)
    wall, repeat = _wall(end, spec.zone)
    # croniter's get_prev is strict; slots fall on whole seconds, so start one second on.
    start = wall.replace(microsecond=0) + repeat + timedelta(seconds=1)
    it = croniter(spec.croniter_expression, start, max_years_between_matches=_MAX_YEARS)
    for _ in range(100_000):
        try:
            local = it.get_prev(datetime)
        except CroniterBadDateError:
            return None
        moment = _instant(local, spec.zone)
        if moment <= end:
            return moment
    return None


def next_run(
    schedule: Schedule, after: datetime, last_job_created_at: int | None
) -> datetime | None:
    """When the next sync is due (UTC), or None if the schedule never fires again.

    basic: the previous job's creation plus the interval (possibly already past: due now);
    with no previous job, due at once (`after`). cron: the first slot strictly after `after`.
    """
    if isinstance(schedule, BasicInterval):
        if last_job_created_at is None:
            return _utc(after)
        return datetime.fromtimestamp(last_job_created_at + schedule.seconds, UTC)
    fires = next_fires(schedule, after, 1)
    return fires[0] if fires else None


def epoch(moment: datetime) -> int:
    """Whole epoch seconds of an instant (slots fall on whole seconds)."""
    return math.floor(_utc(moment).timestamp())


# ---- Describing -----------------------------------------------------------------------------


def describe_cron(spec: CronSpec) -> str:
    """A human description, e.g. "At 12:00 PM" for `0 0 12 * * ?` (cron-descriptor)."""
    options = Options()
    options.day_of_week_start_index_zero = not spec.quartz
    try:
        text = ExpressionDescriptor(spec.expression, options).get_description(
            DescriptionTypeEnum.FULL
        )
    except Exception:  # an exotic form the describer does not know: say what it is
        text = f"Cron expression {spec.expression}"
    return str(text) if spec.time_zone in ("UTC", "Etc/UTC") else f"{text} ({spec.time_zone})"
