from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.cron import cron_trigger, first_of_its_week

UTC_ZONE = ZoneInfo("UTC")


def fires(expression: str, start: datetime, count: int = 7) -> list[str]:
    trigger = cron_trigger(expression, UTC_ZONE)
    found, previous, now = [], None, start
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, now)
        found.append(previous.strftime("%a"))
        now = previous
    return found


def test_weekdays_are_counted_from_sunday_as_cron_does() -> None:
    monday = datetime(2026, 11, 30, tzinfo=UTC)

    assert fires("0 9 * * 1-5", monday, 5) == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert fires("0 9 * * 0", monday, 1) == ["Sun"]
    assert fires("0 9 * * 7", monday, 1) == ["Sun"]
    assert fires("0 9 * * 5-7", monday, 3) == ["Fri", "Sat", "Sun"]
    assert fires("0 9 * * mon,wed", monday, 2) == ["Mon", "Wed"]
    assert fires("0 9 * * */3", monday, 3) == ["Wed", "Sat", "Sun"]


@pytest.mark.parametrize(
    "expression", ["0 9 * *", "0 9 * * 1 2", "0 9 * * 8", "61 9 * * *", "0 9 * * someday"]
)
def test_what_is_not_a_five_field_cron_expression_is_refused(expression: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every malformed field raises its own text
        cron_trigger(expression, UTC_ZONE)


def test_the_first_day_of_the_iso_week_a_schedule_fires_on_is_found() -> None:
    monday, tuesday, sunday = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 6)

    assert first_of_its_week("0 9 * * 1-5", UTC_ZONE, monday)
    assert not first_of_its_week("0 9 * * 1-5", UTC_ZONE, tuesday)
    assert first_of_its_week("0 9 * * 2,4", UTC_ZONE, tuesday)
    assert first_of_its_week("0 9 * * 0", UTC_ZONE, sunday)  # cron's Sunday ends the ISO week
    assert not first_of_its_week("0 9 * * 0", UTC_ZONE, monday)
