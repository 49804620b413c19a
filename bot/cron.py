"""Cron expressions as people write them, read for APScheduler 3.

APScheduler numbers weekdays from Monday (0) where cron numbers them from Sunday (0 or 7), and
its `from_crontab` passes the numbers through: "0 9 * * 1-5" would run Tuesday to Saturday. The
weekday field is read the cron way and handed over as day names.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NUMBERS = {name: number for number, name in enumerate(_DAYS)}


def cron_trigger(expression: str, zone: ZoneInfo) -> CronTrigger:
    """The trigger of a five-field cron expression; ValueError when it is not one."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r} has {len(fields)} fields, not 5")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekdays(weekday),
        timezone=zone,
    )


def first_of_its_week(expression: str, zone: ZoneInfo, day: date) -> bool:
    """Whether `day` is the first day of its ISO week (Monday to Sunday, in `zone`) on which
    `expression` fires: Mondays for "0 9 * * 1-5", Tuesdays for "0 9 * * 2,4"."""
    monday = datetime.combine(day - timedelta(days=day.weekday()), time(), zone)
    fires = cron_trigger(expression, zone).get_next_fire_time(None, monday)
    return fires is not None and fires.date() == day


def _weekdays(field: str) -> str:
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        spec, _, step = part.partition("/")
        first, _, last = spec.partition("-")
        if spec == "*":
            first, last = "0", "6"
        start, end = _day(first), _day(last or first)
        if last in ("7", "sun") and start > 0:
            end = 7
        days.update(day % 7 for day in range(start, end + 1, int(step or 1)))
    return ",".join(_DAYS[day] for day in sorted(days))


def _day(text: str) -> int:
    text = text.strip().lower()
    if text in _NUMBERS:
        return _NUMBERS[text[:3]]
    number = int(text)
    if not 0 <= number <= 7:
        raise ValueError(f"{text!r} is not a weekday (0-7 or sun-sat)")
    return number % 7 if number != 7 else 7
