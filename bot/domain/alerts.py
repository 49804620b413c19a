"""Staleness alerts as a state machine: each evaluation's observation in, alerts and actions out.

The Alertmanager lessons (DESIGN.md, "Alerts"), in pure functions of the state, what the broker
said and `now`:

- a pair fires only once it has been stale (or never verified) for `sustain` on every reading;
  a pending or fresh reading starts its clock again;
- a GitHub-dispatch webhook whose dispatches fail, or that did not fire, is an incident of its
  own: it fires once every reading for `sustain` found it failing (or a publication of its
  waiting without a dispatch), without waiting for any pair to go stale, and resolves at the
  first reading that finds it healthy (a real dispatch succeeded, a Test passed, nothing waits
  for it);
- one message per channel: pairs and webhooks that fire join the channel's firing alert, those
  that recover leave it, and when none is left it resolves; a failing webhook heads the pairs
  it explains, pending ones included, not one alert per pair;
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
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.domain.freshness import State
from bot.domain.incidents import (
    KEPT_WAITERS,
    Cause,
    Waiter,
    fix,
    in_trouble,
    incident,
)
from bot.domain.incidents import causes as incident_causes
from bot.domain.model import PairKey
from bot.domain.report import PairRow, Report, WebhookView
from bot.domain.routes import Route, route_for, route_of
from bot.domain.silences import Silence, silence_for, silence_of_webhook
from bot.domain.unfired import dispatches
from bot.duration import format_duration

# What `bot.domain.alerts` is read through: its callers need not know the modules above.
__all__ = [
    "KEEP_RESOLVED",
    "RESOLVED",
    "Action",
    "Alert",
    "AlertState",
    "Cause",
    "Kind",
    "Member",
    "Route",
    "Rules",
    "Setup",
    "Silence",
    "Step",
    "Waiter",
    "acknowledge",
    "apply_silences",
    "evaluate",
    "not_kept",
    "route_for",
    "silence_for",
    "silence_of_webhook",
]

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
    FIX = "fix"  # edited, and the webhooks healthy again said in its thread
    REMIND = "remind"  # a reminder in its thread
    RESOLVE = "resolve"  # the message edited to resolved, and a note in its thread


@dataclass(frozen=True, slots=True)
class Rules:
    sustain: timedelta
    repeat: timedelta
    keep: timedelta = KEEP_RESOLVED  # how long a resolved alert is kept (`retention.alerts`)


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
        """Whether anything in it may remind: a broker alert, an unsilenced pair or webhook."""
        return (
            self.kind is Kind.BROKER
            or any(not m.silenced_by for m in self.members)
            or any(c.open and not c.silenced_by for c in self.incidents)
        )

    @property
    def incidents(self) -> tuple[Cause, ...]:
        """Its webhook incidents, firing or fixed."""
        return tuple(cause for cause in self.causes if cause.incident)

    def acknowledged(self, now: datetime, rules: Rules) -> bool:
        return self.acked_at is not None and now - self.acked_at < rules.repeat


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    step: Step
    alert: str  # the alert's id
    at: datetime  # when it was decided: a message it left in Slack is no older
    pairs: tuple[PairKey, ...] = ()  # for a JOIN: the pairs that newly fired
    webhooks: tuple[str, ...] = ()  # for a JOIN, the webhooks that newly fired; for a FIX, fixed


@dataclass(frozen=True, slots=True)
class AlertState:
    # Every pair every reading since `since` has called stale; pairs leave at the first other one.
    watch: Mapping[PairKey, datetime] = field(default_factory=dict)
    # Every webhook every reading since `since` found failing, or with a publication waiting
    # for its dispatch; they leave at the first healthy reading.
    hooks: Mapping[str, datetime] = field(default_factory=dict)
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
    keep = setup.rules.keep
    kept = tuple(a for a in state.alerts if a.resolved_at is None or now - a.resolved_at < keep)
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
    views = {view.webhook.uuid: view for view in report.webhooks if dispatches(view.webhook)}
    state = replace(state, watch=watch, hooks=in_trouble(state.hooks, views, now))
    causes = incident_causes(report)
    by_channel: dict[str, list[Member]] = {}
    for pair, row in stale.items():
        member = _member(row, watch[pair], causes, setup.silences, now)
        channel = route_for(pair, setup.routes, setup.default).channel
        by_channel.setdefault(channel, []).append(member)
    failing: dict[str, list[WebhookView]] = {}
    for view in views.values():
        if view.health.failing:
            channel = route_of(view.webhook, setup.routes, setup.default).channel
            failing.setdefault(channel, []).append(view)
    actions: list[Action] = []
    channels = {a.channel for a in state.alerts if a.kind is Kind.PAIRS and a.firing}
    for channel in sorted(channels | set(by_channel) | set(failing)):
        reading = _Reading(
            report, views, causes, by_channel.get(channel, []), failing.get(channel, [])
        )
        state, step = _channel(state, channel, reading, setup, now)
        actions += step
    return state, actions


@dataclass(frozen=True, slots=True)
class _Reading:
    """What one channel's alert is decided from."""

    report: Report
    views: Mapping[str, WebhookView]  # every GitHub dispatch, by id
    causes: Mapping[str, Cause]  # the failing ones, as causes of stale pairs
    stale: list[Member]  # the stale pairs routed here
    failing: list[WebhookView]  # the failing webhooks routed here


def _channel(
    state: AlertState, channel: str, reading: _Reading, setup: Setup, now: datetime
) -> tuple[AlertState, list[Action]]:
    """The channel's firing alert after this reading: joined, left, fixed, resolved or newly
    fired."""
    current = next(
        (a for a in state.alerts if a.channel == channel and a.kind is Kind.PAIRS and a.firing),
        None,
    )
    inside = {m.pair for m in current.members} if current else set()
    before = {c.webhook: c for c in current.causes if c.open} if current else {}
    due = [
        m
        for m in reading.stale
        if m.pair in inside or (now - m.stale_since >= setup.rules.sustain and not m.silenced_by)
    ]
    due.sort(key=lambda m: (m.cause is None, m.pair))
    fired, held, fixed = _incidents(state, before, reading, setup, now)
    firing = {cause.webhook for cause in fired}
    shown = firing | {cause.webhook for cause in held}
    explaining = [
        _explaining(reading.causes[uuid], [m for m in due if m.cause == uuid])
        for uuid in dict.fromkeys(m.cause for m in due if m.cause and m.cause not in shown)
    ]
    earlier = [c for c in (current.causes if current else ()) if c.resolved_at is not None]
    resolved = [c for c in (*fixed, *earlier) if c.webhook not in shown]
    causes = (*sorted(fired, key=_fired_order), *held, *explaining, *resolved)
    if current is None:
        if not due and not fired:
            return state, []
        alert = Alert(
            _id(channel, "pairs", now), channel, Kind.PAIRS, now, tuple(due), causes,
            seen=tuple(m.pair for m in due),
        )  # fmt: skip
        return replace(state, alerts=(*state.alerts, alert)), [_action(alert, Step.POST, now)]
    if not due and not fired and not held:
        resolved_alert = replace(current, members=(), causes=causes, resolved_at=now)
        return state.with_alert(resolved_alert), [_action(current, Step.RESOLVE, now)]
    seen = tuple(dict.fromkeys((*current.seen, *(m.pair for m in due))))
    changed = replace(current, members=tuple(due), causes=causes, seen=seen)
    joined = tuple(m.pair for m in due if m.pair not in inside)
    joined_hooks = tuple(uuid for uuid in firing if uuid not in before)
    actions = []
    if joined or joined_hooks:
        # An edit notifies nobody: what newly fired is said in the thread, and the channel.
        actions.append(_action(current, Step.JOIN, now, joined, joined_hooks))
    if fixed:
        actions.append(_action(current, Step.FIX, now, webhooks=tuple(c.webhook for c in fixed)))
    if not actions and _looks(changed) != _looks(current):
        actions.append(_action(current, Step.UPDATE, now))
    return state.with_alert(changed), actions


def _incidents(
    state: AlertState,
    before: Mapping[str, Cause],
    reading: _Reading,
    setup: Setup,
    now: datetime,
) -> tuple[list[Cause], list[Cause], list[Cause]]:
    """The channel's webhook incidents after this reading: firing (new ones once sustained and
    not silenced), held (their webhook not read this time) and fixed (healthy again)."""
    fired = []
    for view in reading.failing:
        uuid = view.webhook.uuid
        silence = silence_of_webhook(uuid, view.webhook.scope, setup.silences, now)
        # A canary's 401 is not a guess: said at once.
        sustained = (
            now - state.hooks.get(uuid, now) >= setup.rules.sustain
            or view.health.canary is not None
        )
        if uuid in before or (sustained and silence is None):
            fired.append(incident(view, reading.report, before.get(uuid), silence, now))
    firing = {cause.webhook for cause in fired}
    held, fixed = [], []
    for uuid, cause in before.items():
        if uuid in firing:
            continue
        seen = reading.views.get(uuid)
        if seen is not None and not seen.health.kind.read:
            held.append(cause)  # not read this time: neither firing nor healthy
        else:
            fixed.append(fix(cause, seen, reading.report, now))
    return fired, held, fixed


def _fired_order(cause: Cause) -> tuple[datetime, str]:
    return cause.fired_at or datetime.min.replace(tzinfo=UTC), cause.name


def _explaining(cause: Cause, members: list[Member]) -> Cause:
    """A failing webhook as the cause of the stale pairs that fired here."""
    pairs = tuple(Waiter(m.pair, m.state, m.waiting_since) for m in members)
    return replace(cause, pairs=pairs[:KEPT_WAITERS], waiting=len(pairs))


def _looks(alert: Alert) -> tuple[object, ...]:
    """What the message shows: when this changes, the message is edited."""
    members = tuple((m.pair, m.state, m.cause, m.silenced_by) for m in alert.members)
    causes = tuple(
        (c.webhook, c.health, c.since, c.pairs, c.waiting, c.silenced_by, c.resolved_at)
        for c in alert.causes
    )
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


def not_kept(rules: Rules) -> str:
    return f"this alert is no longer kept: it resolved more than {format_duration(rules.keep)} ago"


RESOLVED = "this alert has resolved already"


def acknowledge(
    state: AlertState, alert_id: str, by: str, rules: Rules, now: datetime
) -> tuple[AlertState, list[Action]] | str:
    """The state with `alert_id` acknowledged by `by` and the edit that shows it, or why
    nothing changed."""
    alert = state.alert(alert_id)
    if alert is None:
        return not_kept(rules)
    if not alert.firing:
        return RESOLVED
    if alert.acked_by == by and alert.acknowledged(now, rules):
        return "you acknowledged this alert already"
    acked = replace(alert, acked_by=by, acked_at=now)
    return state.with_alert(acked), [_action(acked, Step.UPDATE, now)]


def apply_silences(
    state: AlertState, silences: Sequence[Silence], now: datetime
) -> tuple[AlertState, list[Action]]:
    """Mark the pairs and webhooks of firing alerts that `silences` cover now (and unmark the
    others), with the edits that show it: a silence shows at once, not at the next evaluation."""
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
        causes = tuple(
            replace(c, silenced_by=_silence_id(c, silences, now)) if c.open else c
            for c in alert.causes
        )
        if members != alert.members or causes != alert.causes:
            state = state.with_alert(replace(alert, members=members, causes=causes))
            actions.append(_action(alert, Step.UPDATE, now))
    return state, actions


def _silence_id(cause: Cause, silences: Sequence[Silence], now: datetime) -> str | None:
    found = silence_of_webhook(cause.webhook, cause.scope, silences, now)
    return found.id if found else None


def _id(channel: str, kind: str, now: datetime) -> str:
    digest = hashlib.sha1(f"{channel}/{kind}/{now.isoformat()}".encode(), usedforsecurity=False)
    return digest.hexdigest()[:12]


def _action(
    alert: Alert,
    step: Step,
    now: datetime,
    pairs: tuple[PairKey, ...] = (),
    webhooks: tuple[str, ...] = (),
) -> Action:
    mark = f"{alert.id}:{step.value}:{int(now.timestamp())}"
    return Action(mark, step, alert.id, now, pairs, webhooks)
