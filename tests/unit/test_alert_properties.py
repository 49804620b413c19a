"""Properties of the alert state machine over random histories, run through the real pure core.

A history is a broker whose pairs go stale and fresh and whose webhooks fail, recover, stop
firing or cannot be read, read again and again as the clock moves; broker outages in between;
silences set, ended and running out; acknowledgements. Each evaluation is decided at its
reading's time, as the leader does (`read_at = report.taken_at`), so what is done while a slow
read runs comes before a decision dated earlier.

The unit of "one message": each channel holds at most one firing alert of each kind, the pairs
one (its stale pairs and its webhook incidents, grouped) and, in the default channel, the broker
one ("broker unreachable", which stands beside a frozen pairs alert).

The core applies no action: `evaluate`, `acknowledge` and `apply_silences` return the new state
and the Slack steps it needs, and the outbox does those steps once each, by their id. So a
replayed decision is the same decision taken again: from the same state it gives the same state
and the same step ids, and taken again on its own result it changes nothing and asks for nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from bot.config import Config
from bot.domain.alerts import (
    Action,
    Alert,
    AlertState,
    Kind,
    Route,
    Rules,
    Setup,
    Silence,
    Step,
    acknowledge,
    apply_silences,
    evaluate,
)
from bot.domain.freshness import State
from bot.domain.model import Execution, PairKey, PairRecord, Snapshot, TargetAnswer, Trigger
from bot.domain.report import Report, WebhookView, build_report
from bot.domain.unfired import REQUIRING
from tests.helpers.reports import ACCEPTED, DEAD_TOKEN, dispatch_webhook, verified, waiting

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LONG_AGO = T0 - timedelta(days=3)  # every webhook's last success before the history starts
# A short repeat, so that reminders come within a history of a few dozen readings.
RULES = Rules(sustain=timedelta(minutes=30), repeat=timedelta(hours=1))
RULE_FOR = Config().rules()
BAD_GATEWAY = TargetAnswer(success=False, status=502)

WEB_ORDERS = PairKey("web-app", "orders-api")
MOBILE_ORDERS = PairKey("mobile-app", "orders-api")
WEB_SEARCH = PairKey("web-app", "search-api")
ADMIN_SEARCH = PairKey("admin-portal", "search-api")
PAIRS = (WEB_ORDERS, MOBILE_ORDERS, WEB_SEARCH, ADMIN_SEARCH)
ORDERS_HOOK = "hookOrdersAbCdEfGhIjKl"
SEARCH_HOOK = "hookSearchAbCdEfGhIjKl"
WEBHOOKS = {
    ORDERS_HOOK: dispatch_webhook(ORDERS_HOOK, "Verify orders-api", "orders-api", "orders-api"),
    SEARCH_HOOK: dispatch_webhook(SEARCH_HOOK, "Verify search-api", "search-api", "search-api"),
}
# orders-api's pairs and webhook alert in C0ORDERS; web-app → search-api in C0WEB while its
# webhook, which names no consumer, alerts in the default channel with admin-portal's pair and
# the broker alert.
ROUTES = (Route("C0ORDERS", provider="orders-*"), Route("C0WEB", consumer="web-*"))
DEFAULT = Route("C0DIGEST")
ALERTING = (State.STALE, State.NEVER_VERIFIED)

# Failing examples are kept in the repository's git-ignored .hypothesis/, wherever pytest runs
# from (the tests run in a temporary directory).
DATABASE = DirectoryBasedExampleDatabase(Path(__file__).parents[2] / ".hypothesis" / "examples")
HISTORIES = settings(max_examples=150, deadline=None, database=DATABASE)


class PairIs(StrEnum):
    FRESH = "fresh"  # verified when it turned so
    PENDING = "pending"  # published when it turned so: stale a day later, unless verified
    STALE = "stale"  # waiting for two days
    NEVER_VERIFIED = "never_verified"


class HookIs(StrEnum):
    OK = "ok"  # its last dispatch succeeded
    DEAD = "dead"  # its token answers 401 since it turned so
    FAILING = "failing"  # GitHub answers 502
    UNFIRED = "unfired"  # it dispatched nothing for the pacts that wait
    TESTED = "tested"  # its token was dead, and a Test passed since
    UNREAD = "unread"  # its executions could not be read


@dataclass
class Broker:
    """What the broker holds: each pair's and webhook's condition, and since when."""

    pairs: dict[PairKey, tuple[PairIs, datetime]]
    hooks: dict[str, tuple[HookIs, datetime]]

    def reading(self, now: datetime) -> Report:
        records = [_record(pair, *self.pairs[pair]) for pair in PAIRS]
        executions: dict[str, tuple[Execution, ...]] = {}
        triggers: dict[PairKey, tuple[Trigger, ...]] = {}
        tests: dict[str, datetime] = {}
        for uuid, (condition, at) in self.hooks.items():
            if condition is HookIs.UNREAD:
                continue
            executions[uuid] = _executions(condition, at)
            if condition is HookIs.TESTED:
                tests[uuid] = at
            status = "success" if condition is HookIs.OK else "failure"
            for record in records:
                if record.awaits_verification and WEBHOOKS[uuid].scope.covers(record.key):
                    fired = Trigger(uuid, REQUIRING, record.latest_pact.published_at, status)
                    triggers[record.key] = () if condition is HookIs.UNFIRED else (fired,)
        snapshot = Snapshot(now, tuple(records), tuple(WEBHOOKS.values()), executions, triggers)
        return build_report(snapshot, RULE_FOR, now, tests=tests)


def _record(pair: PairKey, condition: PairIs, at: datetime) -> PairRecord:
    consumer, provider = pair.consumer, pair.provider
    if condition is PairIs.FRESH:
        return verified(consumer, provider, at, timedelta(0))
    if condition is PairIs.PENDING:
        return waiting(consumer, provider, at, timedelta(0), newest=timedelta(days=2))
    newest = timedelta(days=5) if condition is PairIs.STALE else None
    return waiting(consumer, provider, at, timedelta(days=2), newest=newest)


def _executions(condition: HookIs, at: datetime) -> tuple[Execution, ...]:
    last = {
        HookIs.OK: (Execution(at, ACCEPTED),),
        HookIs.DEAD: (Execution(at, DEAD_TOKEN),),
        HookIs.FAILING: (Execution(at, BAD_GATEWAY),),
        HookIs.TESTED: (Execution(at - timedelta(minutes=1), DEAD_TOKEN),),
    }
    return (Execution(LONG_AGO, ACCEPTED), *last.get(condition, ()))


Reading = tuple[datetime, Report | None]  # None: the broker could not be read
Decision = tuple[AlertState, list[Action]] | str
Subject = PairKey | str  # a pair, a provider's name or a webhook's id


@dataclass(frozen=True)
class Transition:
    """One decision of the core, and what the history held when it was taken."""

    at: datetime
    before: AlertState
    after: AlertState
    actions: tuple[Action, ...]
    decide: Callable[[AlertState], Decision]
    quiet: tuple[tuple[Silence, Subject], ...]  # the silences kept, with what each is of
    readings: tuple[Reading, ...]  # every evaluation's so far, this one's last
    evaluated: bool  # an evaluation; else an acknowledgement or a change of the silences
    said: str | None = None  # why nothing changed, when the core said so

    @property
    def reading(self) -> Report | None:
        return self.readings[-1][1] if self.evaluated else None


@dataclass
class Timeline:
    """A history as it unfolds: the broker, the clock, the silences kept, every decision."""

    broker: Broker
    now: datetime = T0
    state: AlertState = field(default_factory=AlertState)
    quiet: list[tuple[Silence, Subject]] = field(default_factory=list)
    silenced: int = 0  # silences set so far: each gets its own id
    readings: list[Reading] = field(default_factory=list)
    trace: list[Transition] = field(default_factory=list)

    def evaluate(self, reading: Report | None, at: datetime) -> None:
        """Decide at `at`, the reading's time, which a slow read leaves behind the clock."""
        self.readings.append((at, reading))
        setup = Setup(RULES, ROUTES, DEFAULT, [silence for silence, _ in self.quiet])
        error = None if reading is not None else "HTTP 503"
        self._decide(
            lambda state: evaluate(state, reading, error, setup, at), evaluated=True, at=at
        )

    def show_silences(self) -> None:
        silences, now = [silence for silence, _ in self.quiet], self.now
        self._decide(lambda state: apply_silences(state, silences, now), evaluated=False, at=now)

    def acknowledge(self, alert_id: str, by: str) -> None:
        now = self.now
        self._decide(
            lambda state: acknowledge(state, alert_id, by, RULES, now), evaluated=False, at=now
        )

    def _decide(
        self, decide: Callable[[AlertState], Decision], *, evaluated: bool, at: datetime
    ) -> None:
        decided = decide(self.state)
        said = decided if isinstance(decided, str) else None
        after, actions = (self.state, []) if isinstance(decided, str) else decided
        self.trace.append(
            Transition(
                at,
                self.state,
                after,
                tuple(actions),
                decide,
                tuple(self.quiet),
                tuple(self.readings),
                evaluated,
                said,
            )
        )
        self.state = after


# The steps of a history.


@dataclass(frozen=True)
class Read:
    """The broker is read `times` times, `every` apart."""

    times: int
    every: timedelta

    def happen(self, run: Timeline) -> None:
        for _ in range(self.times):
            run.now += self.every
            run.evaluate(run.broker.reading(run.now), run.now)


@dataclass(frozen=True)
class Outage:
    """The broker cannot be read, `times` times, `every` apart."""

    times: int
    every: timedelta

    def happen(self, run: Timeline) -> None:
        for _ in range(self.times):
            run.now += self.every
            run.evaluate(None, run.now)


@dataclass(frozen=True)
class SlowRead:
    """The broker is read five minutes on, and while the read runs someone sets `quiet`: the
    evaluation is decided at the reading's time, as the leader does, after the silence."""

    quiet: Quiet

    def happen(self, run: Timeline) -> None:
        taken = run.now + timedelta(minutes=5)
        reading = run.broker.reading(taken)
        run.now = taken + timedelta(seconds=20)
        self.quiet.happen(run)
        run.evaluate(reading, taken)


@dataclass(frozen=True)
class PairTurns:
    pair: PairKey
    becomes: PairIs

    def happen(self, run: Timeline) -> None:
        if run.broker.pairs[self.pair][0] is not self.becomes:
            run.broker.pairs[self.pair] = (self.becomes, run.now)


@dataclass(frozen=True)
class HookTurns:
    hook: str
    becomes: HookIs

    def happen(self, run: Timeline) -> None:
        if run.broker.hooks[self.hook][0] is not self.becomes:
            run.broker.hooks[self.hook] = (self.becomes, run.now)


@dataclass(frozen=True)
class Blip:
    """One reading finds a pair or a webhook otherwise, then it is back as it was: a pair
    verified or pending, a webhook healthy (their clocks must start again) or unread (which
    neither fixes it nor starts its clock again). What the alerts show is picked more often
    than the rest: that is where a flap matters."""

    pick: int
    pair_into: PairIs
    hook_into: HookIs

    def happen(self, run: Timeline) -> None:
        shown = _shown(run.state)
        candidates: list[Subject] = [*shown, *shown, *PAIRS, *WEBHOOKS, *WEBHOOKS]
        of = candidates[self.pick % len(candidates)]
        if isinstance(of, PairKey):
            was = run.broker.pairs[of][0]
            PairTurns(of, self.pair_into).happen(run)
            Read(1, timedelta(minutes=5)).happen(run)
            PairTurns(of, was).happen(run)
        else:
            hook_was = run.broker.hooks[of][0]
            HookTurns(of, self.hook_into).happen(run)
            Read(1, timedelta(minutes=5)).happen(run)
            HookTurns(of, hook_was).happen(run)


@dataclass(frozen=True)
class Recover:
    """Every pair is verified, or every webhook dispatches again, or both: the incidents are
    fixed under the pairs still stale, or whole alerts resolve."""

    pairs: bool
    hooks: bool

    def happen(self, run: Timeline) -> None:
        for pair in PAIRS if self.pairs else ():
            PairTurns(pair, PairIs.FRESH).happen(run)
        for hook in WEBHOOKS if self.hooks else ():
            HookTurns(hook, HookIs.OK).happen(run)


@dataclass(frozen=True)
class Wait:
    """The clock moves with no evaluation: silences run out, acknowledgements age."""

    span: timedelta

    def happen(self, run: Timeline) -> None:
        run.now += self.span


@dataclass(frozen=True)
class Quiet:
    """Someone silences a pair, a provider or a webhook for `span`, shown at once."""

    of: Subject
    span: timedelta

    def happen(self, run: Timeline) -> None:
        run.quiet.append((_silence(self.of, run.now, self.span, run.silenced), self.of))
        run.silenced += 1
        run.show_silences()


@dataclass(frozen=True)
class QuietAlert:
    """Someone presses an alert's "Silence": every pair and webhook it shows, for `span`."""

    index: int
    span: timedelta

    def happen(self, run: Timeline) -> None:
        firing = [alert for alert in _firing(run.state) if alert.kind is Kind.PAIRS]
        if not firing:
            return
        alert = firing[self.index % len(firing)]
        things = [m.pair for m in alert.members] + [c.webhook for c in alert.incidents if c.open]
        for thing in things:
            run.quiet.append((_silence(thing, run.now, self.span, run.silenced), thing))
            run.silenced += 1
        run.show_silences()


def _silence(of: Subject, now: datetime, span: timedelta, number: int) -> Silence:
    if isinstance(of, PairKey):
        provider, consumer, webhook = of.provider, of.consumer, None
    elif of in WEBHOOKS:
        provider, consumer, webhook = WEBHOOKS[of].scope.provider or "", None, of
    else:
        provider, consumer, webhook = of, None, None
    return Silence(f"s-{number}", provider, consumer, "", "U0ONCALL", now, now + span, webhook)


@dataclass(frozen=True)
class Unquiet:
    """Someone ends one of the silences kept."""

    index: int

    def happen(self, run: Timeline) -> None:
        if run.quiet:
            del run.quiet[self.index % len(run.quiet)]
            run.show_silences()


@dataclass(frozen=True)
class Ack:
    """Someone acknowledges one of the alerts kept, firing or not."""

    index: int
    by: str

    def happen(self, run: Timeline) -> None:
        if run.state.alerts:
            run.acknowledge(run.state.alerts[self.index % len(run.state.alerts)].id, self.by)


StepOf = (
    Read
    | Outage
    | SlowRead
    | PairTurns
    | HookTurns
    | Blip
    | Recover
    | Wait
    | Quiet
    | QuietAlert
    | Unquiet
    | Ack
)

_MINUTES = st.sampled_from([1, 5, 5, 5, 10, 29, 30, 31, 60]).map(lambda m: timedelta(minutes=m))
_SPANS = st.sampled_from([10, 45, 180, 600, 2880]).map(lambda m: timedelta(minutes=m))
_SUBJECTS: list[Subject] = [*PAIRS, "orders-api", "search-api", *WEBHOOKS]
_TIMES = st.integers(1, 10)
_QUIETS = st.builds(Quiet, st.sampled_from(_SUBJECTS), _SPANS)
_PAIR_TURNS = st.builds(PairTurns, st.sampled_from(PAIRS), st.sampled_from(PairIs))
_HOOK_TURNS = st.builds(HookTurns, st.sampled_from(list(WEBHOOKS)), st.sampled_from(HookIs))
_BLIPS = st.builds(
    Blip,
    st.integers(0, 13),
    st.sampled_from([PairIs.FRESH, PairIs.PENDING]),
    st.sampled_from([HookIs.OK, HookIs.TESTED, HookIs.UNREAD, HookIs.UNREAD]),
)
_STEPS: st.SearchStrategy[StepOf] = st.one_of(
    st.builds(Read, _TIMES, _MINUTES),
    st.builds(Read, _TIMES, _MINUTES),  # twice: readings are most of a history
    st.builds(Outage, _TIMES, _MINUTES),
    st.builds(SlowRead, _QUIETS),
    _PAIR_TURNS,
    _PAIR_TURNS,  # twice each: what fires, joins, is fixed and resolves comes from turns
    _HOOK_TURNS,
    _HOOK_TURNS,
    _BLIPS,
    _BLIPS,  # twice: a flap is where a clock that does not start again shows
    st.builds(Recover, st.booleans(), st.booleans()),
    st.builds(Wait, _SPANS),
    _QUIETS,
    st.builds(QuietAlert, st.integers(0, 2), _SPANS),
    st.builds(Unquiet, st.integers(0, 3)),
    st.builds(Ack, st.integers(0, 3), st.sampled_from(["U0ONCALL", "U0OTHER"])),
)
START = st.tuples(
    st.lists(st.sampled_from(PairIs), min_size=len(PAIRS), max_size=len(PAIRS)),
    # Webhooks start in trouble more often than not: their incidents are the rarer alerts.
    st.lists(
        st.sampled_from([HookIs.DEAD, HookIs.FAILING, HookIs.UNFIRED, *HookIs]),
        min_size=len(WEBHOOKS),
        max_size=len(WEBHOOKS),
    ),
    st.lists(_QUIETS, max_size=2),  # silences already set when the history starts
)
STEPS = st.lists(_STEPS, min_size=10, max_size=40)
Start = tuple[list[PairIs], list[HookIs], list[Quiet]]


def play(start: Start, steps: Sequence[StepOf]) -> list[Transition]:
    """Every decision the core takes over the history `steps` of the broker `start`."""
    pairs, hooks, quiets = start
    broker = Broker(
        {pair: (condition, T0) for pair, condition in zip(PAIRS, pairs, strict=True)},
        {uuid: (condition, T0) for uuid, condition in zip(WEBHOOKS, hooks, strict=True)},
    )
    run = Timeline(broker)
    for step in (*quiets, *steps):
        step.happen(run)
    return run.trace


# What the history said, independently of the core.


def _row_alerting(reading: Report, pair: PairKey) -> bool:
    return next(row for row in reading.rows if row.key == pair).state in ALERTING


def _view(reading: Report, hook: str) -> WebhookView | None:
    return next((view for view in reading.webhooks if view.webhook.uuid == hook), None)


def _stale_since(pair: PairKey, readings: Sequence[Reading]) -> datetime | None:
    """The first of the readings, up to the last one, that all found `pair` stale; unreadable
    ones heard nothing."""
    since = None
    for at, reading in reversed(readings):
        if reading is None:
            continue
        if not _row_alerting(reading, pair):
            break
        since = at
    return since


def _trouble_since(hook: str, readings: Sequence[Reading]) -> datetime | None:
    """The first of the readings, up to the last one, that all found `hook` failing or with a
    publication waiting for its dispatch; those that could not read it heard nothing."""
    since = None
    for at, reading in reversed(readings):
        view = _view(reading, hook) if reading is not None else None
        if reading is None or (view is not None and not view.health.kind.read):
            continue
        if view is None or not (view.health.failing or view.health.unanswered_since):
            break
        since = at
    return since


def _failing_since(thing: Subject, readings: Sequence[Reading]) -> datetime | None:
    """Since when every reading found the pair stale, or the webhook in trouble and failing at
    the last one; None if the last reading did not."""
    if isinstance(thing, PairKey):
        return _stale_since(thing, readings)
    latest = next((reading for _, reading in reversed(readings) if reading is not None), None)
    view = _view(latest, thing) if latest is not None else None
    return _trouble_since(thing, readings) if view and view.health.failing else None


def _healthy(reading: Report, hook: str) -> bool:
    view = _view(reading, hook)
    return view is None or (view.health.kind.read and not view.health.failing)


def _quieted(thing: Subject, quiet: Sequence[tuple[Silence, Subject]], now: datetime) -> bool:
    """Whether a silence set before the decision dated `now`, and not over then, is of `thing`
    (a pair or a webhook) or of its provider: a silence holds from the moment it is set, even
    for a decision dated at a reading that began before it."""
    provider = thing.provider if isinstance(thing, PairKey) else WEBHOOKS[thing].scope.provider
    return any(now < silence.ends_at and subject in (thing, provider) for silence, subject in quiet)


def _newly_fired(t: Transition) -> Iterator[tuple[Alert, Subject]]:
    """The pairs and webhooks that fired in this transition, with the alert they joined."""
    for alert in t.after.alerts:
        if alert.kind is not Kind.PAIRS or not alert.firing:
            continue
        was = t.before.alert(alert.id)
        was = was if was is not None and was.firing else None
        pairs = {m.pair for m in was.members} if was else set()
        hooks = {c.webhook for c in was.incidents if c.open} if was else set()
        yield from ((alert, m.pair) for m in alert.members if m.pair not in pairs)
        yield from (
            (alert, c.webhook) for c in alert.incidents if c.open and c.webhook not in hooks
        )


def _firing(state: AlertState) -> list[Alert]:
    return [alert for alert in state.alerts if alert.firing]


def _shown(state: AlertState) -> list[Subject]:
    """The pairs and webhooks the firing alerts hold."""
    return [
        thing
        for alert in _firing(state)
        for thing in (
            *(m.pair for m in alert.members),
            *(c.webhook for c in alert.incidents if c.open),
        )
    ]


# The properties.


@HISTORIES
@given(START, STEPS)
def test_each_channel_has_at_most_one_firing_alert_of_each_kind(
    start: Start, steps: list[StepOf]
) -> None:
    for t in play(start, steps):
        firing = _firing(t.after)
        per_channel = Counter((alert.channel, alert.kind) for alert in firing)
        assert max(per_channel.values(), default=0) <= 1, (t.at, per_channel)
        # ...and each pair and webhook is said in one of them only.
        pairs = Counter(m.pair for alert in firing for m in alert.members)
        hooks = Counter(c.webhook for alert in firing for c in alert.incidents if c.open)
        assert max((*pairs.values(), *hooks.values()), default=0) <= 1, (t.at, pairs, hooks)
        for action in t.actions:
            if action.step is Step.POST:
                assert t.before.alert(action.alert) is None, (t.at, "posted twice")


@HISTORIES
@given(START, STEPS)
def test_a_pair_or_webhook_fires_once_it_has_failed_for_for_and_not_before(
    start: Start, steps: list[StepOf]
) -> None:
    for t in play(start, steps):
        for alert, thing in _newly_fired(t):
            since = _failing_since(thing, t.readings)
            assert since is not None, (t.at, alert.channel, thing, "not failing now")
            assert t.at - since >= RULES.sustain, (t.at, alert.channel, thing, since)
        if t.reading is None:
            continue
        # The converse, without which a core that never fires would pass: unless silenced,
        # what has failed for `for` is in a firing alert.
        shown = _shown(t.after)
        for thing in (*PAIRS, *WEBHOOKS):
            since = _failing_since(thing, t.readings)
            due = since is not None and t.at - since >= RULES.sustain
            if due and not _quieted(thing, t.quiet, t.at):
                assert thing in shown, (t.at, thing, since, "not fired")


@HISTORIES
@given(START, STEPS)
def test_an_alert_resolves_and_its_pairs_and_webhooks_leave_only_at_a_healthy_reading(
    start: Start, steps: list[StepOf]
) -> None:
    for t in play(start, steps):
        for was in _firing(t.before):
            later = t.after.alert(was.id)
            assert later is not None, (t.at, was.id, "a firing alert was dropped")
            members = {m.pair for m in later.members} if later.firing else set()
            incidents = {c.webhook for c in later.incidents if c.open} if later.firing else set()
            left = [m.pair for m in was.members if m.pair not in members]
            fixed = [c.webhook for c in was.incidents if c.open and c.webhook not in incidents]
            if not (left or fixed or not later.firing):
                continue
            reading = t.reading
            assert reading is not None, (t.at, was.kind, left, fixed, "changed unheard")
            assert not [pair for pair in left if _row_alerting(reading, pair)], (t.at, left)
            assert all(_healthy(reading, hook) for hook in fixed), (t.at, fixed)


@HISTORIES
@given(START, STEPS)
# Silenced 20 s into the read that finds it stale for `for`: it fired, unsilenced.
@example(
    ([PairIs.FRESH, PairIs.FRESH, PairIs.STALE, PairIs.FRESH], [HookIs.OK, HookIs.OK], []),
    [Read(6, timedelta(minutes=5)), SlowRead(Quiet(WEB_SEARCH, timedelta(minutes=45)))],
)
def test_silenced_pairs_and_webhooks_never_fire_or_remind(
    start: Start, steps: list[StepOf]
) -> None:
    for t in play(start, steps):
        for alert, thing in _newly_fired(t):
            assert not _quieted(thing, t.quiet, t.at), (t.at, alert.channel, thing)
        for action in t.actions:
            alert = t.after.alert(action.alert)
            if action.step is not Step.REMIND or alert is None or alert.kind is Kind.BROKER:
                continue
            loud = [m.pair for m in alert.members if not _quieted(m.pair, t.quiet, t.at)] + [
                c.webhook
                for c in alert.incidents
                if c.open and not _quieted(c.webhook, t.quiet, t.at)
            ]
            assert loud, (t.at, alert.channel, "reminded of silenced things only")


@HISTORIES
@given(START, STEPS)
def test_while_the_broker_is_unreadable_nothing_fires_or_resolves(
    start: Start, steps: list[StepOf]
) -> None:
    for t in play(start, steps):
        if not t.evaluated or t.reading is not None:
            continue
        kinds = {
            action.alert: alert.kind
            for action in t.actions
            if (alert := t.after.alert(action.alert))
        }
        said = [(action.step, kinds.get(action.alert)) for action in t.actions]
        assert all(
            step in (Step.POST, Step.REMIND) and kind is Kind.BROKER for step, kind in said
        ), (t.at, said)
        firing = [alert for alert in _firing(t.before) if alert.kind is Kind.PAIRS]
        pairs = [alert for alert in t.after.alerts if alert.kind is Kind.PAIRS]
        assert all(alert in t.before.alerts for alert in pairs), (t.at, "a pairs alert moved")
        assert all(alert in pairs for alert in firing), (t.at, "a pairs alert moved")
        assert (t.after.watch, t.after.hooks) == (t.before.watch, t.before.hooks), t.at
        broker = [alert.id for alert in _firing(t.before) if alert.kind is Kind.BROKER]
        assert all(t.after.alert(alert_id) in _firing(t.after) for alert_id in broker), t.at


@HISTORIES
@given(START, STEPS)
def test_a_decision_taken_twice_says_the_same_and_then_nothing_more(
    start: Start, steps: list[StepOf]
) -> None:
    for t in play(start, steps):
        # The same decision from the same state: the same steps, under the same ids, which
        # the outbox does once each.
        first = t.decide(t.before)
        assert first == (t.said if t.said is not None else (t.after, list(t.actions))), t.at
        # Taken again on its own result: nothing changes, nothing more is said.
        again = t.decide(t.after)
        assert isinstance(again, str) or again == (t.after, []), (t.at, again)
