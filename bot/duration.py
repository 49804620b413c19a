"""Durations as people write them in config and flags: `30s`, `90m`, `24h`, `7d`, `1h30m`."""

from __future__ import annotations

import re
from datetime import timedelta

ACCEPTED = "a number and a unit (s, m, h, d or w), e.g. 30s, 90m, 24h, 7d or 1h30m"

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
# A unit and the next one down, each with its seconds.
_DAYS, _HOURS, _MINUTES = ("d", 86400, "h", 3600), ("h", 3600, "m", 60), ("m", 60, "s", 1)
_PART = re.compile(r"(\d+)([wdhms])")
_WHOLE = re.compile(r"(?:\d+[wdhms])+")


def parse_duration(text: str) -> timedelta:
    """Read `text` as a duration, or raise ValueError saying what is accepted."""
    compact = text.strip().lower()
    if not _WHOLE.fullmatch(compact):
        raise ValueError(f"{text!r} is not a duration; use {ACCEPTED}")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(compact))
    if seconds == 0:
        raise ValueError(f"{text!r} is zero; use {ACCEPTED}")
    return timedelta(seconds=seconds)


def format_duration(span: timedelta) -> str:
    """Say `span` in its largest unit and the next one: `3d 4h`, `36h`, `45m`, `1h 30m`, `20s`.

    Under two days it stays in hours, the way max_age is usually written (`24h`, not `1d`).
    """
    # Said for every pair at every reading: the units are picked without a loop.
    remaining = max(int(span.total_seconds()), 0)
    if remaining >= 2 * 86400:
        unit, size, next_unit, next_size = _DAYS
    elif remaining >= 3600:
        unit, size, next_unit, next_size = _HOURS
    elif remaining >= 60:
        unit, size, next_unit, next_size = _MINUTES
    else:
        return f"{remaining}s"
    whole, rest = divmod(remaining, size)
    tail = rest // next_size
    return f"{whole}{unit} {tail}{next_unit}" if tail else f"{whole}{unit}"
