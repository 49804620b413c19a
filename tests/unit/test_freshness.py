from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.freshness import Policy, Rule, State, assess
from bot.domain.model import History, Pact, PairKey, PairRecord, Verification

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
AGE, DEMAND = Policy.AGE, Policy.DEMAND


def ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


@dataclass(frozen=True)
class Case:
    """One pair: when its latest pact was published, how it was verified, what the matrix says."""

    name: str
    policy: Policy
    published: float  # hours ago
    verified: tuple[float, bool] | None  # the latest content's verification: hours ago, success
    expected: State
    older: tuple[float, bool] | None = None  # the matrix's newest verification of other content
    waiting_since: float | None = None  # hours ago; default: the latest publication
    complete: bool = True
    max_age: timedelta = DAY

    def record(self) -> PairRecord:
        latest = None
        if self.verified is not None:
            latest = Verification(ago(self.verified[0]), self.verified[1], "2.0.0")
        history = None
        if self.verified is None:
            newest = (
                Verification(ago(self.older[0]), self.older[1], "1.9.0") if self.older else None
            )
            since = ago(self.waiting_since if self.waiting_since is not None else self.published)
            history = History(newest, since, self.complete)
        return PairRecord(
            PairKey("web-app", "orders-api"), Pact(ago(self.published), "1.2.3"), latest, history
        )


CASES = [
    # Verified latest content.
    Case("demand: verified an hour ago is fresh", DEMAND, 2, (1, True), State.FRESH),
    Case("age: verified an hour ago is fresh", AGE, 2, (1, True), State.FRESH),
    Case("demand: verified exactly max_age ago is still fresh", DEMAND, 30, (24, True), State.FRESH),
    Case("age: verified exactly max_age ago is not stale yet", AGE, 30, (24, True), State.FRESH),
    Case("demand: verified long ago with nothing waiting is idle", DEMAND, 300, (299, True), State.IDLE),
    Case("age: verified long ago is stale whatever waits", AGE, 300, (299, True), State.STALE),
    Case("age: one second past max_age is stale", AGE, 30, (24 + 1 / 3600, True), State.STALE),
    Case("demand: a failed verification is failing", DEMAND, 5, (4, False), State.FAILING),
    Case("age: a recent failed verification is failing", AGE, 5, (4, False), State.FAILING),
    Case("age: an old failed verification is stale", AGE, 50, (49, False), State.STALE),
    Case("demand: an old failed verification is still failing", DEMAND, 50, (49, False), State.FAILING),
    Case(
        "demand: re-published unchanged content keeps its old verification: idle",
        DEMAND, 1, (200, True), State.IDLE,
    ),
    Case(
        "age: re-published unchanged content with an old verification is stale",
        AGE, 1, (200, True), State.STALE,
    ),
    # Latest content waiting for a verification.
    Case("demand: waiting an hour is pending", DEMAND, 1, None, State.PENDING, older=(100, True)),
    Case("demand: waiting exactly max_age is pending", DEMAND, 24, None, State.PENDING, older=(100, True)),
    Case("demand: waiting past max_age is stale", DEMAND, 30, None, State.STALE, older=(100, True)),
    Case("age: waiting with a recent older verification is pending", AGE, 30, None, State.PENDING, older=(20, True)),
    Case("age: waiting with an old older verification is stale", AGE, 2, None, State.STALE, older=(30, True)),
    Case(
        "demand: a re-publish of waiting content does not reset the wait",
        DEMAND, 2, None, State.STALE, older=(100, True), waiting_since=72,
    ),
    Case("demand: never verified, young, is pending", DEMAND, 3, None, State.PENDING),
    Case("demand: never verified, past max_age", DEMAND, 25, None, State.NEVER_VERIFIED),
    Case("age: never verified, past max_age", AGE, 25, None, State.NEVER_VERIFIED),
    Case("age: never verified, young, is pending", AGE, 3, None, State.PENDING),
    Case(
        "demand: a cut matrix history is not taken for never verified",
        DEMAND, 30, None, State.STALE, complete=False,
    ),
    Case("demand: a per-pair max_age of 6h makes 7h stale", DEMAND, 7, None, State.STALE, older=(50, True), max_age=timedelta(hours=6)),
    Case("age: the previous content's failed verification still dates the pair", AGE, 2, None, State.STALE, older=(30, False)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_pair_gets_the_state_its_policy_defines(case: Case) -> None:
    freshness = assess(case.record(), Rule(case.max_age, case.policy), NOW)

    assert freshness.state is case.expected, freshness.reason


def test_the_table_covers_every_state_the_model_can_reach_and_both_policies() -> None:
    reached = {case.expected for case in CASES}

    assert reached == set(State) - {State.BROKER_UNREACHABLE}
    assert {case.policy for case in CASES} == {AGE, DEMAND}
    assert len(CASES) >= 20


def test_a_waiting_pair_reports_how_long_it_waited_since_its_first_unverified_publication() -> None:
    case = Case("", DEMAND, 2, None, State.STALE, older=(100, True), waiting_since=72)

    freshness = assess(case.record(), Rule(DAY, DEMAND), NOW)

    assert freshness.waiting_since == ago(72)
    assert freshness.waited == timedelta(hours=72)
    assert freshness.verification_age == timedelta(hours=100)
    assert freshness.reason == "the latest pact has waited 3d for a verification (max 24h)"


def test_the_reason_of_a_stale_pair_under_age_names_the_verification_age() -> None:
    freshness = assess(Case("", AGE, 300, (299, True), State.STALE).record(), Rule(DAY, AGE), NOW)

    assert freshness.reason == "newest verification is 12d 11h old (max 24h)"


def test_states_sort_most_urgent_first() -> None:
    assert sorted(State, key=lambda state: state.urgency) == [
        State.BROKER_UNREACHABLE,
        State.STALE,
        State.NEVER_VERIFIED,
        State.FAILING,
        State.PENDING,
        State.IDLE,
        State.FRESH,
    ]
    assert {state for state in State if state.is_problem} == {
        State.BROKER_UNREACHABLE,
        State.STALE,
        State.NEVER_VERIFIED,
    }
