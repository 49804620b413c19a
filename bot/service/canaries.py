"""The canaries, run on the leader every `canary.every`: each one's Test asks GitHub whether a
token is alive, before any publication needs it (`bot.domain.canary`).

What each found is kept in one store document, read with every broker read so that every
surface judges the webhooks a canary speaks for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.domain.canary import CanaryRun, CanaryState, CanaryView, Verdict, first_state, found
from bot.domain.canary import refused as refused_run
from bot.errors import BrokerError, BrokerForbidden, StoreUnavailable
from bot.service.runner import RecentTest, WebhookRunner
from bot.store import Document, Store

log = logging.getLogger(__name__)

CANARIES = "canaries"
BY = "pactbot-canary"  # who runs a canary's Test, as the one-Test-a-minute claim records it
# The scheduler looks every TICK: a canary is due when its last run is older than `every`
# less a tick, so that the runs come every `every` and not every `every` plus a tick.
TICK = timedelta(seconds=15)
_TRIES = 5


class Canaries:
    def __init__(
        self,
        runner: WebhookRunner,
        store: Store,
        clock: Callable[[], datetime],
        every: timedelta,
    ) -> None:
        self._runner = runner
        self._store = store
        self._clock = clock
        self._every = every

    async def states(self) -> dict[str, CanaryState]:
        """What each canary last found, by its uuid; nothing while the store cannot be read."""
        try:
            kept = await self._store.get(CANARIES)
        except StoreUnavailable as error:
            log.warning("what the canaries found cannot be read: %s", error)
            return {}
        return canary_states(kept)

    async def run_due(self, canaries: Iterable[CanaryView]) -> bool:
        """Run the Test of each canary not run for `every`; whether a verdict changed."""
        # Read now, not from the report: another replica may have run one since it was read.
        states = await self.states()
        now = self._clock()
        changed = False
        for view in canaries:
            uuid = view.canary.uuid
            state = states.get(uuid)
            last = state.last if state else None
            if last is not None and now - last.at < self._every - TICK:
                continue
            try:
                run = await self.run(view)
            except BrokerError as error:
                log.warning("a canary's Test could not run: %s", error, extra={"webhook": uuid})
                continue
            if isinstance(run, CanaryRun) and (last is None or last.verdict is not run.verdict):
                changed = True
        return changed

    async def run(self, view: CanaryView, by: str = BY) -> CanaryRun | RecentTest:
        """Run one canary's Test now and keep what it found; or the Test run within the minute
        (by another replica, or a person). Raise the broker's error when it cannot run."""
        uuid = view.canary.uuid
        recent = await self._runner.claim(uuid, by)
        if recent is not None:
            return recent
        now = self._clock()
        try:
            _, report = await self._runner.run(uuid, by)
        except BrokerForbidden:
            run = refused_run(now)
        else:
            run = found(report, now)
            if report.answer.headers:  # what GitHub said of the token is the webhooks' too
                await self._runner.remember_expiry((w.uuid for w in view.webhooks), run.expires)
        await self._keep(uuid, run)
        level = logging.WARNING if run.verdict is not Verdict.ALIVE else logging.INFO
        log.log(level, "canary: %s", run.headline, extra={"webhook": uuid})
        return run

    async def _keep(self, uuid: str, run: CanaryRun) -> None:
        try:
            for _ in range(_TRIES):
                kept = await self._store.get(CANARIES)
                value = dict(kept.value) if kept else {}
                state = _state(value[uuid]).after(run) if uuid in value else first_state(run)
                value[uuid] = _dump(state)
                if await self._store.put(CANARIES, value, expected=kept.version if kept else None):
                    return
        except StoreUnavailable as error:  # the Test ran: the log says what it found
            log.error("what the canary %s found is not kept: %s", uuid, error)
            return
        log.error("what the canary %s found is not kept: the store kept changing", uuid)


class _Kept(BaseModel):
    """One canary's state as the store keeps it."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    verdict: Verdict
    status: int | None = None
    expires: datetime | None = None
    scopes: str | None = None
    said: str = ""
    dead_since: datetime | None = None


def _dump(state: CanaryState) -> dict[str, Any]:
    last = state.last
    kept = _Kept(
        at=last.at,
        verdict=last.verdict,
        status=last.status,
        expires=last.expires,
        scopes=last.scopes,
        said=last.said,
        dead_since=state.dead_since,
    )
    return kept.model_dump(mode="json")


def canary_states(kept: Document | None) -> dict[str, CanaryState]:
    """What each canary last found, by its uuid, from the `CANARIES` document."""
    return {uuid: _state(value) for uuid, value in (kept.value if kept else {}).items()}


def _state(value: dict[str, Any]) -> CanaryState:
    kept = _Kept.model_validate(value)
    run = CanaryRun(kept.at, kept.verdict, kept.status, kept.expires, kept.scopes, kept.said)
    return CanaryState(run, kept.dead_since)
