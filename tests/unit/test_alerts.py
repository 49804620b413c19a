"""The alert state machine: sustained, grouped, routed, resolved, reminded, silenced."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.config import Config
from bot.domain.alerts import (
    KEEP_RESOLVED,
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
from bot.domain.model import (
    DispatchTarget,
    Execution,
    History,
    Pact,
    PairKey,
    PairRecord,
    Scope,
    Snapshot,
    TargetAnswer,
    Verification,
    Webhook,
)
from bot.domain.report import Report, build_report

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RULES = Rules(sustain=timedelta(minutes=30), repeat=timedelta(hours=24))
DEFAULT = Route("C0DIGEST")
ORDERS = PairKey("web-app", "orders-api")
MOBILE = PairKey("mobile-app", "orders-api")
SEARCH = PairKey("web-app", "search-api")
HOOK = "hookOrdersAbCdEfGhIjKl"


def report(
    now: datetime,
    stale: Iterable[PairKey] = (),
    fresh: Iterable[PairKey] = (),
    dead_token: bool = False,
) -> Report:
    """A reading: `stale` pairs have waited days for a verification, `fresh` ones were verified."""
    records = [
        PairRecord(pair, Pact(now - timedelta(days=3), "2"), None, History(Verification(now - timedelta(days=9), True), now - timedelta(days=3)))
        for pair in stale
    ] + [
        PairRecord(pair, Pact(now - timedelta(hours=2), "2"), Verification(now - timedelta(hours=1), True))
        for pair in fresh
    ]  # fmt: skip
    url = "https://api.github.com/repos/acme/orders-api/dispatches"
    webhook = Webhook(
        HOOK, "Verify orders-api", Scope(provider="orders-api"), True,
        ("contract_requiring_verification_published",), "POST", url,
        DispatchTarget("https://api.github.com", "acme", "orders-api", None),
    )  # fmt: skip
    answer = TargetAnswer(success=not dead_token, status=401 if dead_token else 204)
    snapshot = Snapshot(
        now, tuple(records), (webhook,), {HOOK: (Execution(now - timedelta(days=3), answer),)}
    )
    return build_report(snapshot, Config().rules(), now)


@dataclass
class Run:
    """Evaluations in a row, every `every`, keeping the state and every action."""

    setup: Setup = field(default_factory=lambda: Setup(RULES, [], DEFAULT))
    now: datetime = T0
    every: timedelta = timedelta(minutes=5)
    state: AlertState = field(default_factory=AlertState)
    actions: list[tuple[datetime, Step, str]] = field(default_factory=list)

    def read(self, reading: Report | None, error: str | None = None) -> list[Step]:
        self.state, actions = evaluate(self.state, reading, error, self.setup, self.now)
        for action in actions:
            self.actions.append((self.now, action.step, action.alert))
        self.now += self.every
        return [action.step for action in actions]

    def steady(self, times: int, **pairs: Iterable[PairKey]) -> list[Step]:
        steps: list[Step] = []
        for _ in range(times):
            steps += self.read(report(self.now, **pairs))  # type: ignore[arg-type]
        return steps

    def firing(self) -> list[Alert]:
        return [alert for alert in self.state.alerts if alert.firing]


def test_a_pair_fires_only_once_it_has_been_stale_for_the_whole_sustain() -> None:
    run = Run()

    assert run.steady(6, stale=[ORDERS]) == []  # stale at 0, 5, ... 25 minutes
    assert run.steady(1, stale=[ORDERS]) == [Step.POST]  # 30 minutes: exactly `for`
    assert run.steady(3, stale=[ORDERS]) == []  # fires once, then holds


def test_a_fresh_or_pending_reading_in_between_starts_the_clock_again() -> None:
    run = Run()
    run.steady(5, stale=[ORDERS])
    run.steady(1, fresh=[ORDERS])

    assert run.steady(6, stale=[ORDERS]) == []
    assert run.steady(1, stale=[ORDERS]) == [Step.POST]


def test_pairs_that_fire_together_share_one_message() -> None:
    run = Run()

    steps = run.steady(7, stale=[ORDERS, SEARCH])

    assert steps == [Step.POST]
    [alert] = run.firing()
    assert {member.pair for member in alert.members} == {ORDERS, SEARCH}


def test_a_pair_that_fires_later_joins_the_message_and_one_that_recovers_leaves_it() -> None:
    run = Run()
    run.steady(7, stale=[ORDERS], fresh=[SEARCH])
    run.steady(6, stale=[ORDERS, SEARCH])

    assert run.steady(1, stale=[ORDERS, SEARCH]) == [Step.JOIN]  # SEARCH joins, and is said
    assert run.steady(1, stale=[SEARCH], fresh=[ORDERS]) == [Step.UPDATE]  # ORDERS leaves
    assert run.steady(1, fresh=[ORDERS, SEARCH]) == [Step.RESOLVE]
    [alert] = run.state.alerts
    assert not alert.firing
    assert alert.seen == (ORDERS, SEARCH)
    assert len([step for _, step, _ in run.actions if step is Step.POST]) == 1


def test_a_dead_token_is_the_named_cause_of_the_pairs_it_explains() -> None:
    run = Run()

    run.steady(7, stale=[ORDERS, MOBILE, SEARCH], dead_token=True)  # type: ignore[arg-type]

    [alert] = run.firing()
    assert [cause.webhook for cause in alert.causes] == [HOOK]
    assert alert.causes[0].health == "token dead (401)"
    by_cause = {member.pair: member.cause for member in alert.members}
    assert by_cause == {ORDERS: HOOK, MOBILE: HOOK, SEARCH: None}


def test_routes_send_pairs_to_their_channel_first_match_wins_else_the_default() -> None:
    routes = [Route("C0ORDERS", provider="orders-*"), Route("C0WEB", consumer="web-*")]
    run = Run(Setup(RULES, routes, DEFAULT))

    steps = run.steady(7, stale=[ORDERS, MOBILE, SEARCH, PairKey("ios", "billing")])

    assert steps == [Step.POST, Step.POST, Step.POST]
    channels = {alert.channel: {m.pair for m in alert.members} for alert in run.state.alerts}
    assert channels == {
        "C0ORDERS": {ORDERS, MOBILE},
        "C0WEB": {SEARCH},
        "C0DIGEST": {PairKey("ios", "billing")},
    }


def test_while_the_broker_cannot_be_read_one_alert_stands_and_no_pair_alert_moves() -> None:
    run = Run()
    run.steady(7, stale=[ORDERS])
    for _ in range(6):
        assert run.read(None, "cannot reach the Pact Broker") == []

    assert run.read(None, "cannot reach the Pact Broker") == [Step.POST]  # 30 minutes down
    assert run.read(None, "cannot reach the Pact Broker") == []
    kinds = sorted(alert.kind for alert in run.firing())
    assert kinds == [Kind.BROKER, Kind.PAIRS]  # the pair alert neither resolved nor re-fired
    assert run.steady(1, fresh=[ORDERS]) == [Step.RESOLVE, Step.RESOLVE]  # broker, then pairs
    assert run.firing() == []


def test_a_broker_that_fails_once_raises_nothing() -> None:
    run = Run()
    run.read(None, "HTTP 503")

    assert run.steady(10, fresh=[ORDERS]) == []
    assert run.state.broker_down_since is None


def test_reminders_come_every_repeat_until_acknowledged_then_after_one_repeat() -> None:
    run = Run(every=timedelta(hours=1))
    run.steady(1, stale=[ORDERS])
    assert run.steady(1, stale=[ORDERS]) == [Step.POST]  # one hour on

    assert run.steady(23, stale=[ORDERS]) == []
    assert run.steady(1, stale=[ORDERS]) == [Step.REMIND]  # 24 hours after firing
    [alert] = run.firing()
    acked = acknowledge(run.state, alert.id, "U0ONCALL", RULES, run.now)
    assert not isinstance(acked, str)
    run.state, edits = acked
    assert [action.step for action in edits] == [Step.UPDATE]  # the message shows who and when
    assert run.steady(24, stale=[ORDERS]) == []
    assert run.steady(1, stale=[ORDERS]) == [Step.REMIND]  # the acknowledgement held one repeat


def test_an_acknowledgement_twice_or_of_a_resolved_alert_changes_nothing_and_says_why() -> None:
    run = Run()
    run.steady(7, stale=[ORDERS])
    [alert] = run.firing()
    once = acknowledge(run.state, alert.id, "U0ONCALL", RULES, run.now)
    assert not isinstance(once, str)

    twice = acknowledge(once[0], alert.id, "U0ONCALL", RULES, run.now)
    assert twice == "you acknowledged this alert already"
    run.state = once[0]
    run.steady(1, fresh=[ORDERS])
    assert acknowledge(run.state, alert.id, "U0OTHER", RULES, run.now) == (
        "this alert has resolved already"
    )
    assert acknowledge(run.state, "gone", "U0OTHER", RULES, run.now) == (
        "this alert is no longer kept: it resolved more than 7d ago"
    )


def test_an_acknowledgement_that_ran_out_may_be_given_again_by_the_same_person() -> None:
    run = Run(every=timedelta(hours=1))
    run.steady(2, stale=[ORDERS])
    [alert] = run.firing()
    acked = acknowledge(run.state, alert.id, "U0ONCALL", RULES, run.now)
    assert not isinstance(acked, str)
    run.state = acked[0]
    run.steady(25, stale=[ORDERS])

    again = acknowledge(run.state, alert.id, "U0ONCALL", RULES, run.now)

    assert not isinstance(again, str)
    assert again[0].alerts[0].acked_at == run.now


def test_pair_alerts_neither_resolve_nor_remind_while_the_broker_cannot_be_read() -> None:
    run = Run(every=timedelta(hours=1))
    run.steady(2, stale=[ORDERS])

    [pairs] = run.firing()
    for _ in range(30):
        run.read(None, "HTTP 503")

    [broker] = [alert for alert in run.firing() if alert.kind is Kind.BROKER]
    assert [(step, alert) for _, step, alert in run.actions[1:]] == [
        (Step.POST, broker.id),
        (Step.REMIND, broker.id),  # the broker alert reminds; the pair alert holds still
    ]
    assert pairs in run.firing()


def test_a_silence_set_or_ended_while_an_alert_fires_is_shown_at_once() -> None:
    run = Run()
    run.steady(7, stale=[ORDERS, MOBILE])
    silence = Silence(
        "s-3", "orders-api", "web-app", "", "U0ONCALL", run.now, run.now + timedelta(hours=1)
    )

    quiet, edits = apply_silences(run.state, [silence], run.now)

    [alert] = quiet.alerts
    assert [m.silenced_by for m in alert.members] == [None, "s-3"]  # mobile-app, then web-app
    assert [action.step for action in edits] == [Step.UPDATE]
    assert apply_silences(quiet, [silence], run.now) == (quiet, [])  # nothing new: no edit
    loud, edits = apply_silences(quiet, [], run.now)
    assert all(m.silenced_by is None for m in loud.alerts[0].members)
    assert [action.step for action in edits] == [Step.UPDATE]


def test_a_silenced_pair_does_not_fire_and_fires_when_the_silence_ends() -> None:
    silence = Silence(
        "s-1", "orders-api", None, "known outage", "U0ONCALL", T0, T0 + timedelta(hours=2)
    )
    run = Run(Setup(RULES, [], DEFAULT, [silence]))

    assert run.steady(24, stale=[ORDERS]) == []  # two hours, silenced

    assert run.steady(1, stale=[ORDERS]) == [Step.POST]  # stale all along: it fires at once


def test_a_member_silenced_later_stays_listed_quietly_and_reminds_no_one() -> None:
    run = Run(every=timedelta(hours=1))
    run.steady(2, stale=[ORDERS])
    silence = Silence(
        "s-2",
        "orders-api",
        "web-app",
        "fixing it",
        "U0ONCALL",
        run.now,
        run.now + timedelta(days=3),
    )
    run.setup = Setup(RULES, [], DEFAULT, [silence])

    assert run.steady(1, stale=[ORDERS]) == [Step.UPDATE]  # now marked silenced
    assert run.steady(48, stale=[ORDERS]) == []  # no reminder while all it holds is silenced
    [alert] = run.firing()
    assert alert.members[0].silenced_by == "s-2"


def test_a_pair_flipping_every_evaluation_never_fires() -> None:
    run = Run()
    posts = 0
    for evaluation in range(50):
        pairs = {"stale": [ORDERS]} if evaluation % 2 else {"fresh": [ORDERS]}
        posts += run.steady(1, **pairs).count(Step.POST)  # type: ignore[arg-type]

    assert posts == 0


def test_a_pair_flapping_slowly_fires_at_most_once_per_sustain_window() -> None:
    run = Run()
    posts: list[datetime] = []
    for _ in range(10):  # 35 minutes stale, 5 minutes fresh, ten times
        for step in run.steady(7, stale=[ORDERS]):
            if step is Step.POST:
                posts.append(run.now)
        run.steady(1, fresh=[ORDERS])

    assert len(posts) == 10
    assert all(later - earlier >= RULES.sustain for earlier, later in itertools.pairwise(posts))


def test_resolved_alerts_are_kept_a_week_for_clicks_on_old_messages() -> None:
    run = Run(every=timedelta(hours=12))
    run.steady(2, stale=[ORDERS])
    run.steady(1, fresh=[ORDERS])
    assert len(run.state.alerts) == 1

    run.steady(int(KEEP_RESOLVED / run.every) + 1, fresh=[ORDERS])

    assert run.state.alerts == ()


def test_resolved_alerts_are_kept_as_long_as_the_retention_says() -> None:
    rules = Rules(RULES.sustain, RULES.repeat, keep=timedelta(days=1))
    run = Run(setup=Setup(rules, [], DEFAULT), every=timedelta(hours=12))
    run.steady(2, stale=[ORDERS])
    run.steady(1, fresh=[ORDERS])
    [alert] = run.state.alerts

    run.steady(2, fresh=[ORDERS])  # resolved a day ago: kept until just then
    assert run.state.alerts == ()
    said = acknowledge(run.state, alert.id, "U0ONCALL", rules, run.now)
    assert said == "this alert is no longer kept: it resolved more than 24h ago"
