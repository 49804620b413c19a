"""Webhook incidents in the alert state machine: they fire on their own, without a stale pair,
once every reading for `for` found the webhook failing; pairs join under them; they are fixed
by a real dispatch or a passing Test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.config import Config
from bot.domain.alerts import (
    Alert,
    AlertState,
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
from bot.domain.model import (
    Execution,
    History,
    Pact,
    PairKey,
    PairRecord,
    Snapshot,
    TargetAnswer,
    Trigger,
)
from bot.domain.report import Report, build_report
from bot.domain.unfired import REQUIRING
from tests.helpers.reports import dispatch_webhook

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RULES = Rules(sustain=timedelta(minutes=30), repeat=timedelta(hours=24))
DEFAULT = Route("C0DIGEST")
ORDERS_ROUTE = Route("C0ORDERS", provider="orders-*")
WEB = PairKey("web-app", "orders-api")
MOBILE = PairKey("mobile-app", "orders-api")
HOOK = "hookOrdersAbCdEfGhIjKl"
DEAD = TargetAnswer(success=False, status=401, message="Bad credentials")
OK = TargetAnswer(success=True, status=204)


@dataclass
class Broker:
    """What the broker holds: the token dies at `died` (its dispatches fail from then on)."""

    published: dict[PairKey, datetime] = field(default_factory=dict)
    verified: set[PairKey] = field(default_factory=set)
    died: datetime | None = None
    fixed: datetime | None = None  # a real dispatch succeeded again
    tested: datetime | None = None  # a Test passed
    fires: bool = True  # False: the broker triggers nothing (a provider without versions)

    def publish(self, pair: PairKey, at: datetime) -> None:
        self.published[pair] = at
        self.verified.discard(pair)

    def reading(self, now: datetime) -> Report:
        webhook = dispatch_webhook(HOOK, "Verify orders-api", "orders-api", "orders-api")
        records, triggers, executions = [], {}, []
        for pair, at in self.published.items():
            history = History(None, at)
            records.append(PairRecord(pair, Pact(at, "2"), None, history))
            if pair in self.verified:
                records[-1] = PairRecord(pair, Pact(at, "2"), _verification(at))
            triggers[pair] = ()  # its webhook status was read, and lists what fired
            if self.fires:
                answer = DEAD if self.died and self.died <= at else OK
                executions.append(Execution(at + timedelta(seconds=5), answer))
                status = "success" if answer.success else "failure"
                triggers[pair] = (Trigger(HOOK, REQUIRING, at, status),)
        if self.fixed is not None:
            executions.append(Execution(self.fixed, OK))
        webhook = dispatch_webhook(HOOK, "Verify orders-api", "orders-api", "orders-api")
        # A webhook that covers no pair has no status read: its executions are unknown.
        read = {HOOK: tuple(executions)} if records else {}
        snapshot = Snapshot(now, tuple(records), (webhook,), read, triggers)
        tests = {HOOK: self.tested} if self.tested else {}
        return build_report(snapshot, Config().rules(), now, tests=tests)


def _verification(at: datetime):  # type: ignore[no-untyped-def]
    from bot.domain.model import Verification

    return Verification(at + timedelta(minutes=10), True)


@dataclass
class Run:
    broker: Broker = field(default_factory=Broker)
    setup: Setup = field(default_factory=lambda: Setup(RULES, [ORDERS_ROUTE], DEFAULT))
    now: datetime = T0
    state: AlertState = field(default_factory=AlertState)

    def read(self, times: int = 1, *, down: bool = False) -> list[Step]:
        steps: list[Step] = []
        for _ in range(times):
            reading = None if down else self.broker.reading(self.now)
            self.state, actions = evaluate(
                self.state, reading, "HTTP 503" if down else None, self.setup, self.now
            )
            steps += [action.step for action in actions]
            self.now += timedelta(minutes=5)
        return steps

    def firing(self) -> list[Alert]:
        return [alert for alert in self.state.alerts if alert.firing]


def test_a_dead_token_fires_within_for_of_the_first_failed_dispatch_while_its_pair_is_pending() -> (
    None
):
    run = Run()
    run.broker.died = T0
    run.broker.publish(WEB, T0)  # dispatched at T0 + 5 s: 401

    assert run.read(6) == []  # failing at 0, 5, ... 25 minutes
    assert run.read(1) == [Step.POST]  # 30 minutes after the first reading of it
    [alert] = run.firing()
    assert alert.channel == "C0ORDERS"  # the route of the webhook's provider
    [cause] = alert.causes
    assert (cause.incident, cause.health, cause.since) == (
        True,
        "token dead (401)",
        T0 + timedelta(seconds=5),
    )
    assert [(w.pair, w.state) for w in cause.pairs] == [(WEB, State.PENDING)]
    assert alert.members == ()  # no pair is stale: it did not wait for one


def test_old_failures_read_for_the_first_time_fire_only_after_for() -> None:
    run = Run(now=T0 + timedelta(days=3))
    run.broker.died = T0
    run.broker.publish(WEB, T0)  # failed three days ago: pactbot starts, or restarts, now

    assert run.read(6) == []
    assert run.read(1) == [Step.POST]


def test_a_failing_reading_in_between_is_needed_on_every_evaluation() -> None:
    run = Run()
    run.broker.died = T0
    run.broker.publish(WEB, T0)
    run.read(5)
    run.broker.fixed = run.now  # a real dispatch succeeds once
    run.read(1)
    run.broker.fixed = None
    run.broker.publish(MOBILE, run.now)  # and fails again
    assert run.read(6) == []
    assert run.read(1) == [Step.POST]


def test_a_webhook_that_did_not_fire_fires_once_its_publication_waited_for() -> None:
    run = Run()
    run.broker.fires = False
    run.broker.publish(WEB, T0)

    # The first sign (no dispatch yet) starts the clock at once; the publication must have
    # waited longer than `for` before it "did not fire": 35 minutes, one evaluation more.
    assert run.read(7) == []
    assert run.read(1) == [Step.POST]
    [alert] = run.firing()
    assert alert.causes[0].health == "did not fire"
    assert alert.causes[0].detail is not None


def test_pairs_that_go_stale_behind_it_join_under_the_same_cause_not_a_second_alert() -> None:
    run = Run()
    run.broker.died = T0 - timedelta(days=1)
    run.broker.publish(WEB, T0 - timedelta(hours=23))  # stale from 60 minutes on
    run.broker.publish(MOBILE, T0)
    assert run.read(7)[-1:] == [Step.POST]

    steps = run.read(13)  # WEB goes stale at 60 minutes, fires 30 minutes later

    assert Step.POST not in steps
    assert Step.JOIN in steps
    [alert] = run.firing()
    assert [m.pair for m in alert.members] == [WEB]
    assert alert.members[0].cause == HOOK
    assert {w.pair: w.state for w in alert.causes[0].pairs} == {
        WEB: State.NEVER_VERIFIED,
        MOBILE: State.PENDING,
    }


def test_a_passing_test_fixes_it_in_place_with_the_pairs_still_waiting() -> None:
    run = Run()
    run.broker.died = T0
    run.broker.publish(WEB, T0)
    run.read(7)
    run.broker.tested = run.now  # the rotation's re-test passed

    assert run.read(1) == [Step.RESOLVE]
    [alert] = run.state.alerts
    assert not alert.firing
    [cause] = alert.causes
    assert (cause.resolution, cause.resolved_at) == ("a Test passed", alert.resolved_at)
    assert [w.pair for w in cause.pairs] == [WEB]  # still waiting, listed as waiting
    assert run.read(3) == []  # pending: no pair alert unless it goes stale


def test_a_real_dispatch_that_succeeds_fixes_it() -> None:
    run = Run()
    run.broker.died = T0
    run.broker.publish(WEB, T0)
    run.read(7)
    run.broker.fixed = run.now

    assert run.read(1) == [Step.RESOLVE]
    assert run.state.alerts[0].causes[0].resolution == "a real dispatch succeeded"


def test_fixed_while_a_stale_pair_still_fires_is_said_in_the_thread_and_the_alert_stays() -> None:
    run = Run()
    run.broker.died = T0 - timedelta(days=3)
    run.broker.publish(WEB, T0 - timedelta(days=2))
    assert run.read(7)[-1:] == [Step.POST]
    run.broker.tested = run.now

    assert run.read(1) == [Step.FIX]
    [alert] = run.firing()
    assert [m.pair for m in alert.members] == [WEB]
    assert alert.members[0].cause is None  # its webhook works now
    assert alert.causes[0].resolution == "a Test passed"
    run.broker.verified.add(WEB)
    assert run.read(1) == [Step.RESOLVE]


def test_while_the_broker_cannot_be_read_an_incident_neither_fires_nor_resolves() -> None:
    run = Run()
    run.broker.died = T0
    run.broker.publish(WEB, T0)
    run.read(7)
    run.broker.tested = run.now

    assert Step.RESOLVE not in run.read(8, down=True)
    assert [alert.kind for alert in run.firing()] == ["pairs", "broker"]
    assert run.read(1) == [Step.RESOLVE, Step.RESOLVE]  # the broker, then the incident


def test_a_silence_of_its_provider_keeps_it_from_firing_and_reminding() -> None:
    run = Run()
    quiet = Silence("s-1", "orders-api", None, "rotating", "U1", T0, T0 + timedelta(days=2))
    run.setup = Setup(RULES, [ORDERS_ROUTE], DEFAULT, [quiet])
    run.broker.died = T0
    run.broker.publish(WEB, T0)

    assert run.read(12) == []


def test_a_silence_of_the_webhook_marks_a_firing_incident_and_holds_reminders() -> None:
    run = Run()
    run.broker.died = T0
    run.broker.publish(WEB, T0)
    run.read(7)
    quiet = Silence(
        "s-2",
        "orders-api",
        None,
        "",
        "U1",
        run.now,
        run.now + timedelta(days=2),
        HOOK,
        "Verify orders-api",
    )

    run.state, actions = apply_silences(run.state, [quiet], run.now)
    assert [action.step for action in actions] == [Step.UPDATE]
    assert run.firing()[0].causes[0].silenced_by == "s-2"
    assert not run.firing()[0].loud
    run.setup = Setup(RULES, [ORDERS_ROUTE], DEFAULT, [quiet])
    run.broker.verified.add(WEB)  # verified by hand: the token is still dead
    steps = run.read(12 * 24 + 1)  # a day and more
    assert Step.REMIND not in steps
    assert run.firing()[0].causes[0].open


def test_it_reminds_every_repeat_until_acknowledged() -> None:
    run = Run()
    run.broker.died = T0 - timedelta(hours=2)
    run.broker.publish(WEB, T0 - timedelta(hours=1))
    run.read(7)
    steps = run.read(12 * 24)
    assert steps.count(Step.REMIND) == 1
    [alert] = run.firing()
    acked = acknowledge(run.state, alert.id, "U1", RULES, run.now)
    assert not isinstance(acked, str)
    run.state = acked[0]
    assert Step.REMIND not in run.read(12 * 23)


def test_pairs_keep_their_routes_the_incident_takes_its_providers() -> None:
    run = Run(setup=Setup(RULES, [Route("C0WEB", consumer="web-*"), ORDERS_ROUTE], DEFAULT))
    run.broker.died = T0 - timedelta(days=3)
    run.broker.publish(WEB, T0 - timedelta(days=2))  # stale, routed by its consumer

    run.read(7)

    channels = {alert.channel: alert for alert in run.firing()}
    assert set(channels) == {"C0WEB", "C0ORDERS"}
    assert [m.pair for m in channels["C0WEB"].members] == [WEB]
    assert channels["C0WEB"].causes[0].incident is False  # the cause, shown where the pair is
    assert channels["C0ORDERS"].causes[0].incident is True


def test_a_reading_that_could_not_read_the_webhook_neither_fixes_nor_restarts_it() -> None:
    run = Run()
    run.broker.died = T0
    run.broker.publish(WEB, T0)
    run.read(7)
    published, run.broker.published = run.broker.published, {}  # no pair: nothing read of it

    assert run.read(3) == []
    assert run.firing()[0].causes[0].open
    run.broker.published = published
    assert run.read(1) == []  # still the same incident, its clock kept
