"""Cron expressions checked field by field and rewritten for croniter.

Airbyte's Quartz form has 6 or 7 fields, seconds first and an optional year (`0 0 12 * * ?`),
day-of-week 1-7 = SUN-SAT, `?` for "no specific value", `L`, `W`, `#`. The Unix form has 5
fields (minute first), day-of-week 0-7 (0 and 7 = Sunday). `parse_cron` checks each field (so
an error names the field and says why) and rewrites the whole into croniter's own 7-field form
(`minute hour day month weekday second year`), which is what runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal


class CronError(ValueError):
    """A cron schedule that cannot run; `part` says which half of it is wrong."""

    def __init__(self, part: Literal["expression", "time_zone"], message: str) -> None:
        super().__init__(message)
        self.part = part


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


def bad_cron(message: str) -> CronError:
    return CronError("expression", message)


def _value(text: str, spec: _Field) -> int:
    """One value of a field: a number in range, or a month/weekday name."""
    if text.isdigit():
        number = int(text)
        if not spec.low <= number <= spec.high:
            raise bad_cron(f"{spec.name} value {number} is out of range {spec.low}-{spec.high}")
        return number
    if text in spec.names:
        return spec.names[text]
    raise bad_cron(f"{spec.name} value {text!r} is not a number or a known name")


_Item = tuple[str, int | None, int | None, int]  # kind ('*' or 'n'), start, end, step


def _items(text: str, spec: _Field, question: bool) -> list[_Item]:
    """Parse a plain field (`*`, values, ranges, steps, lists) into items, checking values."""
    items: list[_Item] = []
    for part in text.split(","):
        match = _ITEM.match(part)
        if match is None:
            raise bad_cron(f"{spec.name} field {text!r} has an unreadable part {part!r}")
        base, step_text = match.group("base"), match.group("step")
        step = 1
        if step_text is not None:
            step = int(step_text)
            most = spec.high - spec.low + 1
            if not 1 <= step <= most:
                raise bad_cron(f"{spec.name} step /{step} must be between 1 and {most}")
        if base in ("*", "?"):
            if base == "?" and not question:
                raise bad_cron(
                    f"'?' is only allowed in day-of-month or day-of-week, not {spec.name}"
                )
            items.append(("*", None, None, step))
            continue
        start_text, _, end_text = base.partition("-")
        start = _value(start_text, spec)
        end = _value(end_text, spec) if end_text else None
        if end is not None and end < start:
            raise bad_cron(f"{spec.name} range {base} runs backwards")
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
        raise bad_cron(
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
        raise bad_cron(f"day-of-week {text!r} is not supported: use nL or n#k alone in the field")
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
        raise bad_cron(f"day-of-week {text!r} is not supported: use Ln or n#k alone in the field")
    return _plain(text, _UNIX_DOW, question=True)


def _nth(text: str) -> int:
    number = int(text)
    if not 1 <= number <= 5:
        raise bad_cron(f"day-of-week '#{number}' must be between #1 and #5")
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
        raise bad_cron(
            f"a cron expression has 5 fields (Unix: minute hour day-of-month month day-of-week) "
            f"or 6-7 (Quartz: seconds minutes hours day-of-month month day-of-week [year]); "
            f"this one has {len(fields)}"
        )
    quartz = len(fields) != 5
    special = (dom == "L" or dom.endswith("W"), "L" in dow or "#" in dow)
    if (special[0] and not _is_any(dow)) or (special[1] and not _is_any(dom)):
        raise bad_cron(
            "L, W and # days cannot be combined with a day in the other day field: put '?' "
            f"(or '*') in it (got day-of-month {dom!r} and day-of-week {dow!r})"
        )
    minute, hour = _plain(minute, _MINUTE), _plain(hour, _HOUR)
    dom_text, month = _day_of_month(dom), _plain(month, _MONTH)
    if quartz:
        dow_text = _quartz_day_of_week(dow)
        if not (_is_any(dom) or _is_any(dow)):
            raise bad_cron(
                "Quartz cron takes a day-of-month or a day-of-week, not both: put '?' in one "
                f"of them (got {dom!r} and {dow!r})"
            )
    else:
        dow_text = _unix_day_of_week(dow)
    return " ".join([minute, hour, dom_text, month, dow_text, second, year]), quartz
