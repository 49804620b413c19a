from __future__ import annotations

from datetime import timedelta

import pytest

from bot.duration import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("30s", timedelta(seconds=30)),
        ("90m", timedelta(minutes=90)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(minutes=90)),
        (" 6H ", timedelta(hours=6)),
    ],
)
def test_durations_are_read_as_people_write_them(text: str, span: timedelta) -> None:
    assert parse_duration(text) == span


@pytest.mark.parametrize("text", ["", "24", "h", "1.5h", "6 hours", "-1h", "0s", "1y"])
def test_anything_else_is_refused_with_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"use a number and a unit \(s, m, h, d or w\)"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=-5), "0s"),
        (timedelta(seconds=59), "59s"),
        (timedelta(minutes=45), "45m"),
        (timedelta(hours=2), "2h"),
        (timedelta(hours=26, minutes=5), "26h 5m"),
        (timedelta(hours=50), "2d 2h"),
        (timedelta(days=3, minutes=5), "3d"),
        (timedelta(seconds=3661), "1h 1m"),
    ],
)
def test_durations_are_said_in_their_two_largest_units(span: timedelta, text: str) -> None:
    assert format_duration(span) == text
