"""Connection schedules: reading them, checking cron expressions, and computing when syncs are due.

Pure functions, no I/O; `server.scheduler` applies them to stored facts.

Cron comes in two forms. Airbyte's Quartz form has 6 or 7 fields, seconds first and an optional
year (`0 0 12 * * ?`), day-of-week 1-7 = SUN-SAT, `?` for "no specific value", `L`, `W`, `#`.
The Unix form has 5 fields (minute first), day-of-week 0-7 (0 and 7 = Sunday). Both are
checked field by field here (so an error names the field and says why) and rewritten into
croniter's own 7-field form (`minute hour day month weekday second year`), which is what runs.

Times are reckoned in the schedule's IANA zone by wall clock: a slot is a local date and time.
A slot that does not exist (skipped by a DST jump forward) fires at the first instant after the
jump; a slot that exists twice (the repeated hour of a DST jump back) fires once, at its first
occurrence. So a daily 02:30 job runs exactly once on both transition days.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, available_timezones

from cron_descriptor import DescriptionTypeEnum, ExpressionDescriptor, Options
from croniter import CroniterBadDateError, CroniterError, croniter

# Airbyte's interval per unit; a "month" is 30 days there, so it is here.
TIME_UNIT_SECONDS = {
    "minutes": 60,
    "hours": 3600,
    "days": 86400,
    "weeks": 7 * 86400,
    "months": 30 * 86400,
}

_MAX_YEARS = 200  # croniter gives up after 50 years without a match; allow any year to 2099


class CronError(ValueError):
    """A cron schedule that cannot run; `part` says which half of it is wrong."""

    def __init__(self, part: Literal["expression", "time_zone"], message: str) -> None:
        super().__init__(message)
        self.part = part


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


# ---- Checking cron expressions --------------------------------------------------------------

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] = field(default_factory=dict)


_SECOND = _Field("seconds", 0, 59)
_MINUTE = _Field("minutes", 0, 59)
_HOUR = _Field("hours", 0, 23)
_DOM = _Field("day-of-month", 1, 31)
_MONTH = _Field("month", 1, 12, {n: i + 1 for i, n in enumerate(_MONTHS)})
_QUARTZ_DOW = _Field("day-of-week", 1, 7, {n: i + 1 for i, n in enumerate(_DAYS)})
_UNIX_DOW = _Field("day-of-week", 0, 7, {n: i for i, n in enumerate(_DAYS)})
_YEAR = _Field("year", 1970, 2099)

_ITEM = re.compile(r"^(?P<base>\*|\?|[A-Z0-9]+(?:-[A-Z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


def _bad(message: str) -> CronError:
    return CronError("expression", message)


def _value(text: str, spec: _Field) -> int:
    """One value of a field: a number in range, or a month/weekday name."""
    if text.isdigit():
        number = int(text)
        if not spec.low <= number <= spec.high:
            raise _bad(f"{spec.name} value {number} is out of range {spec.low}-{spec.high}")
        return number
    if text in spec.names:
        return spec.names[text]
    raise _bad(f"{spec.name} value {text!r} is not a number or a known name")


_Item = tuple[str, int | None, int | None, int]  # kind ('*' or 'n'), start, end, step


def _items(text: str, spec: _Field, question: bool) -> list[_Item]:
    """Parse a plain field (`*`, values, ranges, steps, lists) into items, checking values."""
    items: list[_Item] = []
    for part in text.split(","):
        match = _ITEM.match(part)
        if match is None:
            raise _bad(f"{spec.name} field {text!r} has an unreadable part {part!r}")
        base, step_text = match.group("base"), match.group("step")
        step = 1
        if step_text is not None:
            step = int(step_text)
            most = spec.high - spec.low + 1
            if not 1 <= step <= most:
                raise _bad(f"{spec.name} step /{step} must be between 1 and {most}")
        if base in ("*", "?"):
            if base == "?" and not question:
                raise _bad(f"'?' is only allowed in day-of-month or day-of-week, not {spec.name}")
            items.append(("*", None, None, step))
            continue
        start_text, _, end_text = base.partition("-")
        start = _value(start_text, spec)
        end = _value(end_text, spec) if end_text else None
        if end is not None and end < start:
            raise _bad(f"{spec.name} range {base} runs backwards")
        if end is None and step_text is not None:
            end = spec.high  # `5/15` means from 5 to the end, every 15
        items.append(("n", start, end, step))
    return items


def _render(items: list[_Item], shift: int = 0) -> str:
    """Write parsed items back in croniter's syntax, moving numbers by `shift`."""
    parts = []
    for kind, start, end, step in items:
        if kind == "*":
            text = "*"
        else:
            assert start is not None
            text = str(start + shift) if end is None else f"{start + shift}-{end + shift}"
        parts.append(text if step == 1 else f"{text}/{step}")
    return ",".join(parts)


def _plain(text: str, spec: _Field, question: bool = False) -> str:
    return _render(_items(text, spec, question))


def _is_any(text: str) -> bool:
    return text in ("*", "?")


def _day_of_month(text: str) -> str:
    """Day-of-month: plain, or `L` (last day) or `15W` (weekday nearest the 15th)."""
    if text == "L":
        return "L"
    if text.endswith("W") and text[:-1].isdigit():
        _value(text[:-1], _DOM)
        return text
    if "L" in text or "W" in text:
        raise _bad(
            f"day-of-month {text!r} is not supported: use L (last day), nW (weekday nearest "
            "day n) or plain values"
        )
    return _plain(text, _DOM, question=True)


def _quartz_day_of_week(text: str) -> str:
    """Quartz day-of-week (1-7 = SUN-SAT) to croniter's (0-6 = SUN-SAT)."""
    if text == "L":  # alone it means the last day of the week: Saturday
        return "6"
    last = re.fullmatch(r"([A-Z0-9]+)L", text)
    if last:  # `6L`: the last Friday of the month
        return f"L{_value(last.group(1), _QUARTZ_DOW) - 1}"
    nth = re.fullmatch(r"([A-Z0-9]+)#([0-9]+)", text)
    if nth:  # `6#3`: the third Friday of the month
        return f"{_value(nth.group(1), _QUARTZ_DOW) - 1}#{_nth(nth.group(2))}"
    if "L" in text or "#" in text:
        raise _bad(f"day-of-week {text!r} is not supported: use nL or n#k alone in the field")
    return _render(_items(text, _QUARTZ_DOW, question=True), shift=-1)


def _unix_day_of_week(text: str) -> str:
    """Unix day-of-week (0-7, 0 and 7 = Sunday), plus croniter's `L5` and `5#3`."""
    last = re.fullmatch(r"L([0-7])", text)
    if last:
        return text
    nth = re.fullmatch(r"([A-Z0-9]+)#([0-9]+)", text)
    if nth:
        return f"{_value(nth.group(1), _UNIX_DOW) % 7}#{_nth(nth.group(2))}"
    if "L" in text or "#" in text:
        raise _bad(f"day-of-week {text!r} is not supported: use Ln or n#k alone in the field")
    return _plain(text, _UNIX_DOW, question=True)


def _nth(text: str) -> int:
    number = int(text)
    if not 1 <= number <= 5:
        raise _bad(f"day-of-week '#{number}' must be between #1 and #5")
    return number


def parse_cron(expression: str) -> tuple[str, bool]:
    """Check a cron expression; return (croniter's 7-field form, written in Quartz form)."""
    fields = expression.upper().split()
    if len(fields) == 5:
        second, year = "0", "*"
        minute, hour, dom, month, dow = fields
    elif len(fields) in (6, 7):
        second = _plain(fields[0], _SECOND)
        minute, hour, dom, month, dow = fields[1:6]
        year = _plain(fields[6], _YEAR) if len(fields) == 7 else "*"
    else:
        raise _bad(
            f"a cron expression has 5 fields (Unix: minute hour day-of-month month day-of-week) "
            f"or 6-7 (Quartz: seconds minutes hours day-of-month month day-of-week [year]); "
            f"this one has {len(fields)}"
        )
    quartz = len(fields) != 5
    special = (dom == "L" or dom.endswith("W"), "L" in dow or "#" in dow)
    if (special[0] and not _is_any(dow)) or (special[1] and not _is_any(dom)):
        raise _bad(
            "L, W and # days cannot be combined with a day in the other day field: put '?' "
            f"(or '*') in it (got day-of-month {dom!r} and day-of-week {dow!r})"
        )
    minute, hour = _plain(minute, _MINUTE), _plain(hour, _HOUR)
    dom_text, month = _day_of_month(dom), _plain(month, _MONTH)
    if quartz:
        dow_text = _quartz_day_of_week(dow)
        if not (_is_any(dom) or _is_any(dow)):
            raise _bad(
                "Quartz cron takes a day-of-month or a day-of-week, not both: put '?' in one "
                f"of them (got {dom!r} and {dow!r})"
            )
    else:
        dow_text = _unix_day_of_week(dow)
    return " ".join([minute, hour, dom_text, month, dow_text, second, year]), quartz


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
        raise _bad(f"Invalid cron expression {text!r}: {exc}") from None
    try:
        # The fields may each be fine and still never meet (30 February).
        croniter(native, datetime(1970, 1, 1), max_years_between_matches=_MAX_YEARS).get_next(
            datetime
        )
    except CroniterBadDateError:
        raise _bad(f"Invalid cron expression {text!r}: no date ever matches it") from None
    except (CroniterError, ValueError, KeyError) as exc:
        raise _bad(f"Invalid cron expression {text!r}: {exc}") from None
    spec = CronSpec(
        expression=text,
        time_zone=time_zone or "UTC",
        croniter_expression=native,
        quartz=quartz,
        zone=zone,
    )
    if now is not None and not next_fires(spec, now, 1):
        raise _bad(f"Invalid cron expression {text!r}: it never fires again")
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
