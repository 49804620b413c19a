"""Scheduled work: the lease that picks one leader, the digest, the broker reads, readiness.

Every replica reads the broker (its own `/pact status` and App Home need it) and checks its
dependencies; only the leader posts the digest. The lease is renewed every 15 s and lasts 45 s,
so when the leader dies another replica takes over within a minute. The job functions are
plain coroutines: tests call them with a moved clock instead of waiting for APScheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Digest
from bot.cron import cron_trigger
from bot.errors import PactbotError, SlackError, StoreUnavailable
from bot.service.digest import DigestPoster
from bot.service.health import Health
from bot.service.monitor import Monitor
from bot.store import Store

log = logging.getLogger(__name__)

LEASE = "scheduler"
LEASE_TTL = timedelta(seconds=45)
LEASE_EVERY = timedelta(seconds=15)
READINESS_EVERY = timedelta(seconds=30)


def due_today(schedule: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """Today's scheduled time, where the digest is read, if it has passed; else None."""
    trigger = cron_trigger(schedule, zone)
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    first: datetime | None = trigger.get_next_fire_time(None, midnight)
    if first is None or first.date() != local.date() or first > local:
        return None
    return first


class Scheduler:
    def __init__(
        self,
        *,
        store: Store,
        holder: str,
        clock: Callable[[], datetime],
        monitor: Monitor,
        health: Health,
        slack: AsyncWebClient,
        digest: DigestPoster,
        digest_config: Digest | None,
        read_every: timedelta,
    ) -> None:
        self._store = store
        self._holder = holder
        self._clock = clock
        self._monitor = monitor
        self._health = health
        self._slack = slack
        self._digest = digest
        self._digest_config = digest_config
        self._read_every = read_every
        self._apscheduler: AsyncIOScheduler | None = None
        self.leader = False

    async def renew_lease(self) -> None:
        was = self.leader
        try:
            self.leader = await self._store.acquire_lease(LEASE, self._holder, LEASE_TTL)
        except StoreUnavailable as error:
            self.leader = False
            self._health.record("store", False, str(error))
            return
        if self.leader and not was:
            log.info("%s leads the scheduled jobs", self._holder)
            await self.catch_up()

    async def catch_up(self) -> None:
        """Post today's digest now if its time passed while no leader was running."""
        config = self._digest_config
        if config is not None and due_today(config.schedule, config.zone, self._clock()):
            await self.run_digest()

    async def run_digest(self) -> None:
        if not self.leader:
            return
        try:
            outcome = await self._digest.daily()
        except PactbotError as error:
            log.error("the digest failed: %s", error)
            return
        log.info("digest: %s", outcome.said)
        if outcome.retry_at is not None and self._apscheduler is not None:
            self._apscheduler.add_job(
                self.run_digest,
                "date",
                run_date=outcome.retry_at,
                id="digest-retry",
                replace_existing=True,
            )

    async def read_broker(self) -> None:
        try:
            await self._monitor.refresh()
        except PactbotError as error:
            self._health.record("broker", False, str(error))
        else:
            self._health.record("broker", True)

    async def check_readiness(self) -> None:
        try:
            await self._store.ping()
            self._health.record("store", True)
        except StoreUnavailable as error:
            self._health.record("store", False, str(error))
        try:
            await self._slack.auth_test()
            self._health.record("slack", True)
        except SlackError as error:
            self._health.record("slack", False, str(error))

    def start(self) -> None:
        """Run the jobs on the running event loop until `stop`."""
        jobs = AsyncIOScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        now = self._clock()
        every: list[tuple[Any, timedelta]] = [
            (self.renew_lease, LEASE_EVERY),
            (self.read_broker, self._read_every),
            (self.check_readiness, READINESS_EVERY),
        ]
        for job, interval in every:
            jobs.add_job(job, "interval", seconds=interval.total_seconds(), next_run_time=now)
        config = self._digest_config
        if config is not None:
            trigger = cron_trigger(config.schedule, config.zone)
            jobs.add_job(self.run_digest, trigger, id="digest", misfire_grace_time=3600)
        jobs.start()
        self._apscheduler = jobs

    async def stop(self) -> None:
        if self._apscheduler is not None:
            self._apscheduler.shutdown(wait=False)
        if self.leader:
            await self._store.release_lease(LEASE, self._holder)
