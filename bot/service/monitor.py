"""The latest report of the broker, shared by every Slack surface and the metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.domain.model import Webhook
from bot.domain.report import Report
from bot.errors import PactbotError

Read = Callable[[datetime], Awaitable[Report]]


class Monitor:
    """Keeps the last report and the last error; concurrent readers share one broker read."""

    def __init__(self, read: Read, clock: Callable[[], datetime], max_age: timedelta) -> None:
        self._read = read
        self._clock = clock
        self._max_age = max_age
        self._lock = asyncio.Lock()
        self.latest: Report | None = None
        self.error: PactbotError | None = None
        self._reads = 0  # finished reads: a waiter that sees it move reuses that read

    async def refresh(self) -> Report:
        """Read the broker now (or share the read already under way); raise its error."""
        seen = self._reads
        async with self._lock:
            if self._reads == seen:
                await self._read_once()
            if self.error is not None:
                raise self.error
            assert self.latest is not None  # a read either failed or left a report
            return self.latest

    async def _read_once(self) -> None:
        try:
            report = await self._read(self._clock())
        except PactbotError as error:
            self.error = error
        else:
            self.latest, self.error = report, None
        finally:
            self._reads += 1

    async def current(self) -> Report:
        """The last report if it is younger than `max_age`, else a new one."""
        if self.fresh and self.latest is not None:
            return self.latest
        return await self.refresh()

    @property
    def fresh(self) -> bool:
        """Whether `current()` answers without reading the broker."""
        latest = self.latest
        return latest is not None and self._clock() - latest.taken_at <= self._max_age

    def webhook(self, uuid: str) -> Webhook | None:
        """The webhook `uuid` as the last report saw it."""
        views = self.latest.webhooks if self.latest else ()
        return next((view.webhook for view in views if view.webhook.uuid == uuid), None)
