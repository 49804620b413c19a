"""Alert evaluations on the leader: read, decide (`bot.domain.alerts`), then say it in Slack.

Every change of the alerts (an evaluation, an acknowledgement, a silence) is one
compare-and-set of the alert document that writes the new state and queues the Slack steps it
needs; the replica that wrote it then does them (`bot.service.alert_outbox`). Most evaluations
change nothing and write nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from bot.config import Config
from bot.domain.alerts import (
    RESOLVED,
    Action,
    AlertState,
    Route,
    Rules,
    Setup,
    Silence,
    acknowledge,
    apply_silences,
    evaluate,
    not_kept,
    route_for,
    silence_for,
    silence_of_webhook,
)
from bot.domain.model import PairKey
from bot.domain.report import Report
from bot.errors import BrokerError, PactbotError
from bot.service.alert_outbox import Outbox, queue, unposted
from bot.service.alert_records import (
    ALERTS,
    SILENCES,
    AlertRecord,
    SilenceRecord,
    load_alerts,
    load_silences,
)
from bot.service.liveness import lease_timing
from bot.service.monitor import Monitor
from bot.service.poster import SlackPoster
from bot.store import Store

log = logging.getLogger(__name__)

_TRIES = 5
Decide = Callable[[AlertRecord, datetime], tuple[AlertState, list[Action]] | str]


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
        holder: str,
    ) -> None:
        self._routes, self._default = routes_of(config)
        if self._default is None:
            log.warning("alerts are off: pactbot.yml sets no digest.channel and no routes")
        self._oncall = config.access.oncall_usergroups
        alerts = config.alerts
        self._rules = Rules(alerts.sustain, alerts.repeat_interval, config.retention.alerts)
        self._retention = config.retention
        self._monitor = monitor
        self._store = store
        self._clock = clock
        self._holder = holder
        _, alive_for = lease_timing(alerts.check_interval)
        self._outbox = Outbox(store, poster, clock, holder, alive_for, self.silences)
        # The alerts as this replica last read or wrote them, for /metrics.
        self.seen: AlertState | None = None

    @property
    def enabled(self) -> bool:
        return self._default is not None

    def oncall_of(self, channel: str) -> tuple[str, ...]:
        """Who may press an alert's buttons in `channel`: its routes' on-call groups."""
        routes = [*self._routes, *([self._default] if self._default else [])]
        groups = [
            g for route in routes if route.channel == channel for g in route.oncall_usergroups
        ]
        return tuple(dict.fromkeys(groups))

    def oncall_of_any(self, pairs: Iterable[PairKey]) -> tuple[str, ...]:
        """Who may fix what holds `pairs` up (rotate their webhook's token): the on-call groups
        of any route they take; a dead token blocks each of those teams."""
        default = self._default or Route("", oncall_usergroups=self._oncall)
        groups = (
            g for pair in pairs for g in route_for(pair, self._routes, default).oncall_usergroups
        )
        return tuple(dict.fromkeys(groups)) or self._oncall

    def oncall_for(self, pairs: Iterable[PairKey]) -> tuple[str, ...]:
        """Who may silence `pairs`: the on-call groups every route they take shares."""
        default = self._default or Route("", oncall_usergroups=self._oncall)
        shared: set[str] | None = None
        for pair in pairs:
            groups = set(route_for(pair, self._routes, default).oncall_usergroups)
            shared = groups if shared is None else shared & groups
        return tuple(sorted(shared)) if shared is not None else self._oncall

    @property
    def rules(self) -> Rules:
        return self._rules

    async def state(self) -> AlertState:
        self.seen = load_alerts(await self._store.get(ALERTS)).state
        return self.seen

    async def silences(self) -> list[Silence]:
        """The silences in force; ended ones are kept for `retention.silences`."""
        now = self._clock()
        found = load_silences(await self._store.get(SILENCES))
        return [silence for silence in found.silences if silence.ends_at > now]

    async def evaluate(self, patience: float | None = None) -> None:
        """One evaluation: what the broker says now, decided and said in Slack; the steps
        are waited for at most `patience` seconds (None: until done), after which they go on
        while the next evaluation decides on time."""
        if self._default is None:
            return
        report, error = await self._read()
        found = await self._store.get(ALERTS)
        silences = await self.silences()
        record = load_alerts(found)
        now = self._clock()
        # Steps left from before (Slack refused them, or a replica died) stay first in the
        # outbox; done after this decision, they show the state as it is now.
        setup = Setup(self._rules, self._routes, self._default, silences)
        # Decided at the time of the reading: `for` is counted between readings, whatever
        # each read took.
        read_at = report.taken_at if report is not None else now
        state, actions = evaluate(record.state, report, error, setup, read_at)
        self.seen = record.state
        actions = unposted(state, record.outbox, now) + actions
        # Decided even while another replica, alive but slow (Slack holding its call), holds the
        # steps: `for` is counted on time, and what it decides waits in the outbox for whoever
        # may say it.
        if not actions and state == record.state:
            if not record.outbox or await self._outbox.held_by_other(record):
                return  # most evaluations: nothing changed, nothing to write or say
            if self._outbox.busy:  # this replica is doing the steps: nothing to write
                await self._outbox.say((), patience)
                return
        queued = queue(record.with_state(state), actions, self._holder, now)
        written = await self._store.put(
            ALERTS, queued.dump(), expected=found.version if found else None
        )
        if written is None:
            log.info("another replica evaluated the alerts first; nothing to say")
            return
        self.seen = state
        if queued.outbox:
            await self._outbox.say((action.id for action in actions), patience)

    async def stop(self) -> None:
        """Stop the Slack steps under way: the replica is going."""
        await self._outbox.stop()

    async def acknowledge(self, alert_id: str, by: str) -> str:
        """Record that `by` acknowledged the alert, and show it; what to tell them."""

        def decide(record: AlertRecord, now: datetime) -> tuple[AlertState, list[Action]] | str:
            return acknowledge(record.state, alert_id, by, self._rules, now)

        said = await self._change(decide)
        return said or "acknowledged: no reminders for one repeat interval"

    def new_silence(
        self, *, provider: str, consumer: str | None, span: timedelta, reason: str, by: str
    ) -> Silence:
        """A silence of a provider's pairs (or one pair) for `span` from now, not yet kept."""
        now = self._clock()
        seed = f"{by}/{provider}/{consumer}/{now.isoformat()}"
        return _silence(seed, provider, consumer, reason, by, now, span)

    async def keep(self, silence: Silence) -> None:
        """Put `silence` in force, and show it on the alerts it quiets."""
        await self._change_silences(lambda kept: [silence])

    async def unsilence(self, silence_id: str) -> Silence | None:
        """End the silence `silence_id` now; None if no such silence is in force."""
        ended: list[Silence] = []

        def without(kept: list[Silence]) -> list[Silence]:
            ended[:] = [silence for silence in kept if silence.id == silence_id]
            return []

        await self._change_silences(without, drop=silence_id)
        return ended[0] if ended else None

    async def silence_alert(self, alert_id: str, span: timedelta, by: str) -> list[Silence] | str:
        """Silence every pair and webhook of an alert ("Silence 24h"); what was silenced, or
        why not."""
        alert = (await self.state()).alert(alert_id)
        if alert is None:
            return not_kept(self._rules)
        if not alert.firing:
            return RESOLVED
        now = self._clock()
        why = "silenced from the alert"

        def loud(kept: list[Silence]) -> list[Silence]:
            # Worked out on what is kept now: a second click finds the first one's silences.
            pairs = [m.pair for m in alert.members if silence_for(m.pair, kept, now) is None]
            webhooks = [
                cause
                for cause in alert.incidents
                if cause.open and silence_of_webhook(cause.webhook, cause.scope, kept, now) is None
            ]
            return [
                *(
                    _silence(f"{alert_id}/{c.webhook}", c.scope.provider or "", None, why, by, now,
                             span, webhook=(c.webhook, c.name))
                    for c in webhooks
                ),
                *(
                    _silence(f"{alert_id}/{pair}", pair.provider, pair.consumer, why, by, now, span)
                    for pair in pairs
                ),
            ]  # fmt: skip

        added = await self._change_silences(loud)
        return added or "everything in this alert is silenced already"

    async def _change_silences(
        self, add: Callable[[list[Silence]], list[Silence]], *, drop: str | None = None
    ) -> list[Silence]:
        """Add what `add` makes of the silences in force (and end `drop`); show it at once."""
        now = self._clock()
        for _ in range(_TRIES):
            found = await self._store.get(SILENCES)
            kept = load_silences(found).kept(now, self._retention.silences)
            added = add([s for s in kept if s.ends_at > now])
            silences = [s for s in kept if s.id != drop] + added
            value = SilenceRecord(silences=tuple(silences)).dump()
            if await self._store.put(SILENCES, value, expected=found.version if found else None):
                await self._show_silences([s for s in silences if s.ends_at > now])
                return added
        raise PactbotError("the silences kept changing under this replica; try again")

    async def _show_silences(self, silences: list[Silence]) -> None:
        def decide(record: AlertRecord, now: datetime) -> tuple[AlertState, list[Action]]:
            return apply_silences(record.state, silences, now)

        await self._change(decide)

    async def _change(self, decide: Decide) -> str | None:
        """Apply `decide` to the alerts in one compare-and-set, then do its Slack steps; what
        `decide` said instead, if it changed nothing."""
        for _ in range(_TRIES):
            found = await self._store.get(ALERTS)
            record, now = load_alerts(found), self._clock()
            decided = decide(record, now)
            if isinstance(decided, str):
                return decided
            state, actions = decided
            if not actions:
                return None
            queued = queue(record.with_state(state), actions, self._holder, now)
            expected = found.version if found else None
            written = await self._store.put(ALERTS, queued.dump(), expected=expected)
            if written is not None:
                await self._outbox.say(action.id for action in actions)
                return None
        raise PactbotError("the alerts kept changing under this replica; try again")

    async def _read(self) -> tuple[Report | None, str | None]:
        try:
            return await self._monitor.refresh(), None
        except BrokerError as error:
            return None, str(error)


def _silence(
    seed: str,
    provider: str,
    consumer: str | None,
    reason: str,
    by: str,
    now: datetime,
    span: timedelta,
    webhook: tuple[str, str] | None = None,
) -> Silence:
    """A silence whose id comes from `seed`: the same request makes the same silence; with
    `webhook` (its id and name), of that webhook's incident."""
    mark = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()[:8]
    uuid, name = webhook or (None, None)
    return Silence(f"s-{mark}", provider, consumer, reason, by, now, now + span, uuid, name)
