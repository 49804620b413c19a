"""Which GitHub Actions run a `repository_dispatch` started: matched by time alone.

A run does not carry the dispatch's `event_type` or any id of it (shared/broker-api/README.md,
section 9), so the run a re-test started is the first dispatch run created after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

DISPATCH_EVENT = "repository_dispatch"

# `created_at` is GitHub's clock, `dispatched_at` ours (or the broker's): they may disagree by
# some seconds, and a run created a little "before" the dispatch is still the one it started.
CLOCK_SKEW = timedelta(minutes=1)


class Run(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def event(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


AnyRun = TypeVar("AnyRun", bound=Run)


def run_started_by(runs: Iterable[AnyRun], dispatched_at: datetime) -> AnyRun | None:
    """The earliest dispatch run created at or after `dispatched_at` (less `CLOCK_SKEW`)."""
    earliest = dispatched_at - CLOCK_SKEW
    candidates = [run for run in runs if run.event == DISPATCH_EVENT and run.created_at >= earliest]
    return min(candidates, key=lambda run: (run.created_at, run.id), default=None)
