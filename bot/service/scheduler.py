"""Scheduled work: the lease that picks one leader, the digest, the broker reads, readiness.

Every replica reads the broker (its own `/pact status` and App Home need it) and checks its
dependencies; only the leader evaluates alerts, runs the canaries and posts the digest. The
lease is renewed every 15 s and lasts 45 s, so when the leader dies another replica takes over
within a minute. The job functions are plain coroutines: tests call them with a moved clock
instead of waiting for APScheduler.
"""

from __future__ import annotations

import contextlib
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
from bot.service.alerting import Alerter
from bot.service.canaries import TICK, Canaries
from bot.service.digest import DigestPoster
from bot.service.health import Health
from bot.service.liveness import lease_timing, say_alive
from bot.service.monitor import Monitor
from bot.service.retention import SWEEP_EVERY, Sweeper, Swept
from bot.service.rotations import Rotations
from bot.store import Store

log = logging.getLogger(__name__)

LEASE = "scheduler"
READINESS_EVERY = timedelta(seconds=30)
# How often the pairs a finished outage held up are looked at again.
ROTATIONS_WATCH_EVERY = timedelta(minutes=5)


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
        alerter: Alerter,
        rotations: Rotations,
        canaries: Canaries,
        sweeper: Sweeper,
        read_every: timedelta,
        check_every: timedelta,
    ) -> None:
        self._store = store
        self._holder = holder
        self._clock = clock
        self._monitor = monitor
        self._health = health
        self._slack = slack
        self._digest = digest
        self._digest_config = digest_config
        self._alerter = alerter
        self._rotations = rotations
        self._canaries = canaries
        self._sweeper = sweeper
        self._read_every = read_every
        self._check_every = check_every
        self._lease_every, self._lease_ttl = lease_timing(check_every)
        self._apscheduler: AsyncIOScheduler | None = None
        self.leader = False

    async def renew_lease(self) -> None:
        was = self.leader
        try:
            await say_alive(self._store, self._holder, self._lease_ttl)
            self.leader = await self._store.acquire_lease(LEASE, self._holder, self._lease_ttl)
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

    async def evaluate_alerts(self) -> None:
        """The leader's alert evaluation; it reads the broker, so readiness learns from it."""
        if not self.leader or not self._alerter.enabled:
            return
        try:
            # Slack's slowness is waited for no longer than one interval: the next evaluation
            # decides on time while the steps go on.
            await self._alerter.evaluate(patience=self._check_every.total_seconds())
        except StoreUnavailable as error:
            self._health.record("store", False, str(error))
            log.error("alert evaluation skipped, the store is unavailable: %s", error)
        except PactbotError as error:
            log.error("alert evaluation failed: %s", error)
        self._note_broker()

    async def watch_rotations(self) -> None:
        """The leader ticks off the pairs a finished outage held up as they are verified."""
        if not self.leader:
            return
        try:
            await self._rotations.watch()
        except PactbotError as error:
            log.error("the rotations' watch failed: %s", error)

    async def sweep(self) -> Swept | None:
        """The leader removes from the store what is past its retention; what went."""
        if not self.leader:
            return None
        try:
            return await self._sweeper.sweep()
        except StoreUnavailable as error:
            self._health.record("store", False, str(error))
            log.error("the retention sweep is skipped, the store is unavailable: %s", error)
            return None

    async def run_canaries(self) -> None:
        """The leader runs each canary whose time has come; a verdict that changed is judged
        at once, so that a dead token's incident does not wait for the next evaluation."""
        if not self.leader:
            return
        try:
            report = await self._monitor.current()
            changed = await self._canaries.run_due(report.canaries)
        except StoreUnavailable as error:
            self._health.record("store", False, str(error))
            log.error("the canaries did not run, the store is unavailable: %s", error)
            return
        except PactbotError as error:
            log.error("the canaries did not run: %s", error)
            return
        if not changed:
            return
        if self._alerter.enabled:
            await self.evaluate_alerts()
        else:
            await self.read_broker()

    async def read_broker(self) -> None:
        """Keep every replica's report fresh for /pact status and App Home."""
        if self.leader and self._alerter.enabled and self._check_every <= self._read_every:
            return  # the leader's evaluations read the broker often enough
        with contextlib.suppress(PactbotError):  # the monitor keeps the error for readiness
            await self._monitor.refresh()
        self._note_broker()

    def _note_broker(self) -> None:
        error = self._monitor.error
        self._health.record("broker", error is None, str(error) if error else "ok")
        if error is None and self._monitor.latest is not None:
            self._health.partial(self._monitor.latest.notes)

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
            (self.renew_lease, self._lease_every),
            (self.read_broker, self._read_every),
            (self.check_readiness, READINESS_EVERY),
            (self.evaluate_alerts, self._check_every),
            (self.watch_rotations, ROTATIONS_WATCH_EVERY),
            (self.run_canaries, TICK),
            (self.sweep, SWEEP_EVERY),
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
        await self._alerter.stop()
        if self.leader:
            await self._store.release_lease(LEASE, self._holder)
