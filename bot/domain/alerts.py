"""Staleness alerts as a state machine: each evaluation's observation in, alerts and actions out.

The Alertmanager lessons (DESIGN.md, "Alerts"), in pure functions of the state, what the broker
said and `now`:

- a pair fires only once it has been stale (or never verified) for `sustain` on every reading;
  a pending or fresh reading starts its clock again;
- one message per channel: pairs that fire join the channel's firing alert, pairs that recover
  leave it, and when none is left it resolves; a failing GitHub-dispatch webhook is shown as the
  cause of the pairs it explains, not as one alert per pair;
- while it fires and is not acknowledged, a reminder every `repeat`; an acknowledgement holds
  reminders for one `repeat`;
- silences keep what they cover from firing or reminding, and the pairs stay listed, marked;
- while the broker cannot be read, one "broker unreachable" alert stands and no pair alert
  fires or resolves: not hearing is not the same as hearing "fresh".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from fnmatch import fnmatchcase

from bot.domain.freshness import State
from bot.domain.model import PairKey
from bot.domain.report import PairRow, Report

# Resolved alerts are kept this long, so that a click on an old message gets an answer.
KEEP_RESOLVED = timedelta(days=7)
_ALERTING = (State.STALE, State.NEVER_VERIFIED)


class Kind(StrEnum):
    PAIRS = "pairs"
    BROKER = "broker"


class Step(StrEnum):
    """What the shell must do in Slack for an alert."""

    POST = "post"  # the alert's message
    UPDATE = "update"  # the message, edited in place
    JOIN = "join"  # edited, and the pairs that newly fired said in its thread (and channel)
    REMIND = "remind"  # a reminder in its thread
    RESOLVE = "resolve"  # the message edited to resolved, and a note in its thread


@dataclass(frozen=True, slots=True)
class Rules:
    sustain: timedelta
    repeat: timedelta


@dataclass(frozen=True, slots=True)
class Route:
    """Pairs matching these globs alert in `channel`, for these on-call groups."""

    channel: str
    provider: str | None = None
    consumer: str | None = None
    oncall_usergroups: tuple[str, ...] = ()

    def matches(self, pair: PairKey) -> bool:
        return (self.provider is None or fnmatchcase(pair.provider, self.provider)) and (
            self.consumer is None or fnmatchcase(pair.consumer, self.consumer)
        )


def route_for(pair: PairKey, routes: Sequence[Route], default: Route) -> Route:
    """The first route that matches `pair`, else the default one."""
    return next((route for route in routes if route.matches(pair)), default)


@dataclass(frozen=True, slots=True)
class Silence:
    """Quiet for a provider's pairs, or one pair's, until `ends_at`; who asked, and why."""

    id: str
    provider: str
    consumer: str | None
    reason: str
    by: str
    starts_at: datetime
    ends_at: datetime

    def covers(self, pair: PairKey, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at and self.names(pair)

    def names(self, pair: PairKey) -> bool:
        """Whether `pair` is what this silence is of, whenever it is in force."""
        return pair.provider == self.provider and self.consumer in (None, pair.consumer)


def silence_for(pair: PairKey, silences: Sequence[Silence], now: datetime) -> Silence | None:
    return next((silence for silence in silences if silence.covers(pair, now)), None)


@dataclass(frozen=True, slots=True)
class Cause:
    """A failing GitHub-dispatch webhook: the root cause of the stale pairs it serves."""

    webhook: str  # the broker's id
    name: str
    repository: str
    health: str  # e.g. "token dead (401)"
    since: datetime | None


@dataclass(frozen=True, slots=True)
class Member:
    """A pair in an alert, as the latest reading saw it."""

    pair: PairKey
    state: State
    stale_since: datetime  # since when every reading said stale
    cause: str | None = None  # the failing webhook that explains it
    silenced_by: str | None = None  # the id of the silence that covers it
    waiting_since: datetime | None = None  # the broker's own date: its pact waits since then


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    channel: str
    kind: Kind
    fired_at: datetime
    members: tuple[Member, ...] = ()
    causes: tuple[Cause, ...] = ()
    error: str | None = None  # why the broker cannot be read (Kind.BROKER)
    seen: tuple[PairKey, ...] = ()  # every pair that was ever in it
    resolved_at: datetime | None = None
    reminded_at: datetime | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    ts: str | None = None  # its Slack message, once posted

    @property
    def firing(self) -> bool:
        return self.resolved_at is None

    @property
    def loud(self) -> bool:
        """Whether anything in it may remind: a broker alert, or an unsilenced pair."""
        return self.kind is Kind.BROKER or any(not m.silenced_by for m in self.members)

    def acknowledged(self, now: datetime, rules: Rules) -> bool:
        return self.acked_at is not None and now - self.acked_at < rules.repeat


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    step: Step
    alert: str  # the alert's id
    at: datetime  # when it was decided: a message it left in Slack is no older
    pairs: tuple[PairKey, ...] = ()  # for a JOIN: the pairs that newly fired


@dataclass(frozen=True, slots=True)
class AlertState:
    # Every pair every reading since `since` has called stale; pairs leave at the first other one.
    watch: Mapping[PairKey, datetime] = field(default_factory=dict)
    broker_down_since: datetime | None = None
    alerts: tuple[Alert, ...] = ()

    def alert(self, alert_id: str) -> Alert | None:
        return next((alert for alert in self.alerts if alert.id == alert_id), None)

    def with_alert(self, alert: Alert) -> AlertState:
        """This state with `alert` replacing the alert of the same id."""
        return replace(self, alerts=tuple(alert if a.id == alert.id else a for a in self.alerts))


@dataclass(frozen=True, slots=True)
class Setup:
    """What an evaluation needs besides the state and the reading."""

    rules: Rules
    routes: Sequence[Route]
    default: Route
    silences: Sequence[Silence] = ()


def evaluate(
    state: AlertState, report: Report | None, error: str | None, setup: Setup, now: datetime
) -> tuple[AlertState, list[Action]]:
    """One evaluation: `report` is the broker's reading, or None (with `error`) if it failed."""
    if report is None:
        state, actions = _broker_down(state, error or "no answer", setup, now)
    else:
        state, actions = _broker_up(state, setup, now)
        state, more = _pairs(state, report, setup, now)
        actions += more
    # While the broker cannot be read, pair alerts are frozen: they do not remind either.
    state, reminders = _reminders(state, setup.rules, now, pairs_too=report is not None)
    kept = tuple(
        a for a in state.alerts if a.resolved_at is None or now - a.resolved_at < KEEP_RESOLVED
    )
    return replace(state, alerts=kept), actions + reminders


def _broker_down(
    state: AlertState, error: str, setup: Setup, now: datetime
) -> tuple[AlertState, list[Action]]:
    since = state.broker_down_since or now
    state = replace(state, broker_down_since=since)
    standing = [a for a in state.alerts if a.kind is Kind.BROKER and a.firing]
    if standing or now - since < setup.rules.sustain:
        return state, []
    alert = Alert(
        _id(setup.default.channel, "broker", now),
        setup.default.channel,
        Kind.BROKER,
        now,
        error=error,
    )
    state = replace(state, alerts=(*state.alerts, alert))
    return state, [_action(alert, Step.POST, now)]


def _broker_up(state: AlertState, setup: Setup, now: datetime) -> tuple[AlertState, list[Action]]:
    actions = []
    for alert in state.alerts:
        if alert.kind is Kind.BROKER and alert.firing:
            state = state.with_alert(replace(alert, resolved_at=now))
            actions.append(_action(alert, Step.RESOLVE, now))
    return replace(state, broker_down_since=None), actions


def _pairs(
    state: AlertState, report: Report, setup: Setup, now: datetime
) -> tuple[AlertState, list[Action]]:
    stale = {row.key: row for row in report.rows if row.state in _ALERTING}
    watch = {pair: state.watch.get(pair, now) for pair in stale}
    state = replace(state, watch=watch)
    causes = _causes(report)
    by_channel: dict[str, list[Member]] = {}
    for pair, row in stale.items():
        member = _member(row, watch[pair], causes, setup.silences, now)
        channel = route_for(pair, setup.routes, setup.default).channel
        by_channel.setdefault(channel, []).append(member)
    actions: list[Action] = []
    channels = {a.channel for a in state.alerts if a.kind is Kind.PAIRS and a.firing} | set(
        by_channel
    )
    for channel in sorted(channels):
        state, step = _channel(
            state, channel, by_channel.get(channel, []), causes, setup.rules, now
        )
        actions += step
    return state, actions


def _channel(
    state: AlertState,
    channel: str,
    stale: list[Member],
    causes: Mapping[str, Cause],
    rules: Rules,
    now: datetime,
) -> tuple[AlertState, list[Action]]:
    """The channel's firing alert after this reading: joined, left, resolved or newly fired."""
    current = next(
        (a for a in state.alerts if a.channel == channel and a.kind is Kind.PAIRS and a.firing),
        None,
    )
    inside = {m.pair for m in current.members} if current else set()
    due = [
        m
        for m in stale
        if m.pair in inside or (now - m.stale_since >= rules.sustain and not m.silenced_by)
    ]
    due.sort(key=lambda m: (m.cause is None, m.pair))
    shown = tuple(causes[uuid] for uuid in dict.fromkeys(m.cause for m in due if m.cause))
    if current is None:
        if not due:
            return state, []
        alert = Alert(
            _id(channel, "pairs", now), channel, Kind.PAIRS, now, tuple(due), shown,
            seen=tuple(m.pair for m in due),
        )  # fmt: skip
        return replace(state, alerts=(*state.alerts, alert)), [_action(alert, Step.POST, now)]
    if not due:
        resolved = replace(current, members=(), resolved_at=now)
        return state.with_alert(resolved), [_action(current, Step.RESOLVE, now)]
    seen = tuple(dict.fromkeys((*current.seen, *(m.pair for m in due))))
    changed = replace(current, members=tuple(due), causes=shown, seen=seen)
    joined = tuple(m.pair for m in due if m.pair not in inside)
    if joined:
        # An edit notifies nobody: what newly fired is said in the thread, and the channel.
        return state.with_alert(changed), [_action(current, Step.JOIN, now, joined)]
    if _looks(changed) == _looks(current):
        return state.with_alert(changed), []
    return state.with_alert(changed), [_action(current, Step.UPDATE, now)]


def _looks(alert: Alert) -> tuple[object, ...]:
    """What the message shows: when this changes, the message is edited."""
    members = tuple((m.pair, m.state, m.cause, m.silenced_by) for m in alert.members)
    causes = tuple((c.webhook, c.health, c.since) for c in alert.causes)
    return members, causes, alert.acked_by


def _member(
    row: PairRow,
    since: datetime,
    causes: Mapping[str, Cause],
    silences: Sequence[Silence],
    now: datetime,
) -> Member:
    view = row.main_webhook
    cause = view.webhook.uuid if view and view.webhook.uuid in causes else None
    silence = silence_for(row.key, silences, now)
    return Member(
        row.key,
        row.state,
        since,
        cause,
        silence.id if silence else None,
        row.freshness.waiting_since,
    )


def _causes(report: Report) -> dict[str, Cause]:
    return {
        view.webhook.uuid: Cause(
            view.webhook.uuid,
            view.webhook.name,
            view.webhook.target.slug,
            view.health.describe(),
            view.health.since,
        )
        for view in report.failing_webhooks
        if view.webhook.target is not None
    }


def _reminders(
    state: AlertState, rules: Rules, now: datetime, *, pairs_too: bool
) -> tuple[AlertState, list[Action]]:
    actions = []
    for alert in state.alerts:
        last = alert.reminded_at or alert.fired_at
        frozen = alert.kind is Kind.PAIRS and not pairs_too
        quiet = frozen or not alert.loud or alert.acknowledged(now, rules)
        if alert.firing and not quiet and now - last >= rules.repeat:
            state = state.with_alert(replace(alert, reminded_at=now))
            actions.append(_action(alert, Step.REMIND, now))
    return state, actions


NOT_KEPT = "this alert is no longer kept: it resolved more than a week ago"
RESOLVED = "this alert has resolved already"


def acknowledge(
    state: AlertState, alert_id: str, by: str, rules: Rules, now: datetime
) -> tuple[AlertState, list[Action]] | str:
    """The state with `alert_id` acknowledged by `by` and the edit that shows it, or why
    nothing changed."""
    alert = state.alert(alert_id)
    if alert is None:
        return NOT_KEPT
    if not alert.firing:
        return RESOLVED
    if alert.acked_by == by and alert.acknowledged(now, rules):
        return "you acknowledged this alert already"
    acked = replace(alert, acked_by=by, acked_at=now)
    return state.with_alert(acked), [_action(acked, Step.UPDATE, now)]


def apply_silences(
    state: AlertState, silences: Sequence[Silence], now: datetime
) -> tuple[AlertState, list[Action]]:
    """Mark the pairs of firing alerts that `silences` cover now (and unmark the others), with
    the edits that show it: a silence shows at once, not at the next evaluation."""
    actions = []
    for alert in state.alerts:
        if alert.kind is not Kind.PAIRS or not alert.firing:
            continue
        members = tuple(
            replace(
                m, silenced_by=found.id if (found := silence_for(m.pair, silences, now)) else None
            )
            for m in alert.members
        )
        if members != alert.members:
            state = state.with_alert(replace(alert, members=members))
            actions.append(_action(alert, Step.UPDATE, now))
    return state, actions


def _id(channel: str, kind: str, now: datetime) -> str:
    digest = hashlib.sha1(f"{channel}/{kind}/{now.isoformat()}".encode(), usedforsecurity=False)
    return digest.hexdigest()[:12]


def _action(alert: Alert, step: Step, now: datetime, pairs: tuple[PairKey, ...] = ()) -> Action:
    return Action(f"{alert.id}:{step.value}:{int(now.timestamp())}", step, alert.id, now, pairs)
