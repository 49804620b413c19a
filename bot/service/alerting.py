"""Alert evaluations on the leader: read, decide (`bot.domain.alerts`), then say it in Slack.

Exactly once, across replicas and restarts: the decision and its Slack steps (the outbox) are
written in one compare-and-set; only the writer performs them, and marks each message it posts.
A replica that finds an outbox left by a leader that died performs what is left, after asking
Slack whether a marked message already arrived, so nothing is sent twice or lost.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.blocks.alert import build_alert, build_reminder, build_resolution
from bot.config import Config
from bot.domain.alerts import (
    Action,
    Alert,
    AlertState,
    Route,
    Rules,
    Setup,
    Silence,
    Step,
    acknowledge,
    evaluate,
    route_for,
    silence_for,
)
from bot.domain.model import PairKey
from bot.domain.report import Report
from bot.errors import BrokerError, PactbotError, SlackError
from bot.service.alert_records import (
    ALERTS,
    SILENCES,
    AlertRecord,
    SilenceRecord,
    load_alerts,
    load_silences,
)
from bot.service.monitor import Monitor
from bot.service.poster import SlackPoster
from bot.store import Document, Store

log = logging.getLogger(__name__)

_TRIES = 5


def routes_of(config: Config) -> tuple[list[Route], Route | None]:
    """The config's routes, and the default one: the digest channel's, else the last route
    (the config makes sure it matches every pair). None: alerts have nowhere to go.

    A route that names no on-call group is for the `access` on-call groups, like the default.
    """
    oncall = config.access.oncall_usergroups
    routes = [
        Route(route.channel, route.provider, route.consumer, route.oncall_usergroups or oncall)
        for route in config.routes
    ]
    if config.digest:
        return routes, Route(config.digest.channel, oncall_usergroups=oncall)
    return routes, routes[-1] if routes else None


class Alerter:
    def __init__(
        self,
        *,
        config: Config,
        monitor: Monitor,
        poster: SlackPoster,
        store: Store,
        clock: Callable[[], datetime],
    ) -> None:
        self._routes, self._default = routes_of(config)
        if self._default is None:
            log.warning("alerts are off: pactbot.yml sets no digest.channel and no routes")
        self._oncall = config.access.oncall_usergroups
        self._rules = Rules(config.alerts.sustain, config.alerts.repeat_interval)
        self._monitor = monitor
        self._poster = poster
        self._store = store
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self._default is not None

    def oncall_of(self, channel: str) -> tuple[str, ...]:
        """Who may press an alert's buttons in `channel`: its routes' on-call groups."""
        routes = [*self._routes, *([self._default] if self._default else [])]
        groups = [
            group
            for route in routes
            if route.channel == channel
            for group in route.oncall_usergroups
        ]
        return tuple(dict.fromkeys(groups))

    def oncall_for(self, pairs: Iterable[PairKey]) -> tuple[str, ...]:
        """Who may silence `pairs`: the on-call groups, and the groups of every route they take."""
        default = self._default or Route("", oncall_usergroups=self._oncall)  # never alerts
        shared: set[str] | None = None
        for pair in pairs:
            groups = set(route_for(pair, self._routes, default).oncall_usergroups)
            shared = groups if shared is None else shared & groups
        return tuple(dict.fromkeys((*self._oncall, *sorted(shared or ()))))

    async def state(self) -> AlertState:
        return load_alerts(await self._store.get(ALERTS)).state

    async def silences(self) -> list[Silence]:
        """The silences in force; ended ones are dropped at the next change."""
        now = self._clock()
        found = load_silences(await self._store.get(SILENCES))
        return [silence for silence in found.silences if silence.ends_at > now]

    async def evaluate(self) -> None:
        """One evaluation: what the broker says now, decided and said in Slack."""
        if self._default is None:
            return
        default = self._default
        report, error = await self._read()
        found = await self._store.get(ALERTS)
        record = load_alerts(found)
        if found is not None and record.outbox:
            found = await self._flush(found, recovering=True)
            record = load_alerts(found)
        setup = Setup(self._rules, self._routes, default, await self.silences())
        now = self._clock()
        state, actions = evaluate(record.state, report, error, setup, now)
        # Steps Slack refused last time stay ahead of the new ones, in order.
        outbox = (*record.outbox, *actions)
        if not outbox and state == record.state:
            return  # most evaluations: nothing changed, nothing to write or say
        written = await self._store.put(
            ALERTS,
            AlertRecord.of(state, outbox, record.outbox_at or now).dump(),
            expected=found.version if found else None,
        )
        if written is None:
            log.info("another replica evaluated the alerts first; nothing to say")
            return
        if outbox:
            await self._flush(written, recovering=bool(record.outbox))

    async def acknowledge(self, alert_id: str, by: str) -> str:
        """Record that `by` acknowledged the alert; what to tell them."""
        for _ in range(_TRIES):
            found = await self._store.get(ALERTS)
            record = load_alerts(found)
            result = acknowledge(record.state, alert_id, by, self._clock())
            if isinstance(result, str):
                return result
            value = AlertRecord.of(result, record.outbox, record.outbox_at).dump()
            if await self._store.put(ALERTS, value, expected=found.version if found else None):
                await self._show(result.alert(alert_id))
                return "acknowledged: no reminders for the next repeat interval"
        return "the alerts kept changing: try again"

    async def silence(
        self, *, provider: str, consumer: str | None, span: timedelta, reason: str, by: str
    ) -> Silence:
        """Keep a provider's pairs (or one pair) from alerting for `span`."""
        silence = self._new_silence(PairKey(consumer or "", provider), consumer, span, reason, by)
        await self._change_silences(lambda kept: [*kept, silence])
        return silence

    async def unsilence(self, silence_id: str) -> Silence | None:
        """End the silence `silence_id` now; None if no such silence is in force."""
        ended: list[Silence] = []

        def without(kept: list[Silence]) -> list[Silence]:
            ended[:] = [silence for silence in kept if silence.id == silence_id]
            return [silence for silence in kept if silence.id != silence_id]

        await self._change_silences(without)
        return ended[0] if ended else None

    async def silence_alert(self, alert_id: str, span: timedelta, by: str) -> list[Silence] | str:
        """Silence every pair of an alert ("Silence 24h"); what was silenced, or why not."""
        alert = (await self.state()).alert(alert_id)
        if alert is None or not alert.firing:
            return "this alert has resolved already"
        now = self._clock()
        kept = await self.silences()
        loud = [m.pair for m in alert.members if silence_for(m.pair, kept, now) is None]
        if not loud:
            return "every pair of this alert is silenced already"
        reason = "silenced from the alert"
        added = [self._new_silence(pair, pair.consumer, span, reason, by) for pair in loud]
        await self._change_silences(lambda kept: [*kept, *added])
        await self._show(alert)
        return added

    def _new_silence(
        self, pair: PairKey, consumer: str | None, span: timedelta, reason: str, by: str
    ) -> Silence:
        now = self._clock()
        mark = hashlib.sha1(f"{by}/{pair}/{consumer}/{now}".encode(), usedforsecurity=False)
        return Silence(
            f"s-{mark.hexdigest()[:6]}", pair.provider, consumer, reason, by, now, now + span
        )

    async def _change_silences(self, change: Callable[[list[Silence]], list[Silence]]) -> None:
        now = self._clock()
        for _ in range(_TRIES):
            found = await self._store.get(SILENCES)
            kept = [s for s in load_silences(found).silences if s.ends_at > now]
            value = SilenceRecord(silences=tuple(change(kept))).dump()
            if await self._store.put(SILENCES, value, expected=found.version if found else None):
                return
        raise PactbotError("the silences kept changing under this replica; try again")

    async def _show(self, alert: Alert | None) -> None:
        """Edit the alert's message to show what changed (an acknowledgement)."""
        if alert is None or alert.ts is None:
            return
        silences = await self.silences()
        await self._poster.update(
            alert.channel, alert.ts, build_alert(alert, self._clock(), silences)
        )

    async def _read(self) -> tuple[Report | None, str | None]:
        try:
            return await self._monitor.refresh(), None
        except BrokerError as error:
            return None, str(error)

    async def _flush(self, found: Document, *, recovering: bool) -> Document | None:
        """Perform the outbox of `found`; store what was posted and what is left."""
        record = load_alerts(found)
        silences = await self.silences()
        posted: dict[str, str] = {}
        done: set[str] = set()
        state = record.state
        for action in record.outbox:
            try:
                ts = await self._perform(state, action, silences, record, recovering)
            except SlackError as error:
                log.error(
                    "alert step %s not done, kept for the next evaluation: %s", action.id, error
                )
                continue
            done.add(action.id)
            log.info("alert %s: %s done", action.alert, action.step.value)
            if ts is not None:
                posted[action.alert] = ts
                alert = state.alert(action.alert)
                if alert is not None:
                    state = state.with_alert(replace(alert, ts=ts))
        return await self._settle(found, posted, done)

    async def _perform(
        self,
        state: AlertState,
        action: Action,
        silences: list[Silence],
        record: AlertRecord,
        recovering: bool,
    ) -> str | None:
        """Do one step in Slack; the new message's ts for a post."""
        alert = state.alert(action.alert)
        if alert is None:
            return None
        now = self._clock()
        since = record.outbox_at or now
        if action.step is Step.POST:
            found = await self._poster.find(alert.channel, action.id, since) if recovering else None
            if found is not None:
                return found
            message = build_alert(alert, now, silences)
            return (await self._poster.post(alert.channel, message, mark=action.id)).ts
        if alert.ts is None:
            raise SlackError("chat.update", "not_posted", "the alert's message was never posted")
        if action.step in (Step.UPDATE, Step.RESOLVE):
            await self._poster.update(alert.channel, alert.ts, build_alert(alert, now, silences))
        if action.step in (Step.REMIND, Step.RESOLVE):
            build = build_reminder if action.step is Step.REMIND else build_resolution
            if not (
                recovering and await self._poster.find(alert.channel, action.id, since, alert.ts)
            ):
                message = build(alert, now)
                await self._poster.post(alert.channel, message, thread_ts=alert.ts, mark=action.id)
        return None

    async def _settle(
        self, found: Document, posted: dict[str, str], done: set[str]
    ) -> Document | None:
        """Write the posted messages' ts and the steps left, over whatever changed meanwhile."""
        for _ in range(_TRIES):
            record = load_alerts(found)
            state = record.state
            for alert_id, ts in posted.items():
                alert = state.alert(alert_id)
                if alert is not None:
                    state = state.with_alert(replace(alert, ts=ts))
            left = tuple(action for action in record.outbox if action.id not in done)
            value = AlertRecord.of(state, left, record.outbox_at).dump()
            written = await self._store.put(ALERTS, value, expected=found.version)
            if written is not None:
                return written
            again = await self._store.get(ALERTS)
            if again is None:
                return None
            found = again
        raise PactbotError("the alert state kept changing under this replica; giving up for now")
