"""The rotation runbook's state machine: steps, presses, Tests, the pairs the outage held up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.freshness import Freshness, Policy, Rule, State
from bot.domain.model import DispatchTarget, Pact, PairKey, PairRecord, Scope, Verification
from bot.domain.report import PairRow
from bot.domain.rotation import (
    WATCH_FOR,
    Moved,
    Outcome,
    Press,
    Rotation,
    SeenTest,
    Stage,
    Waiting,
    after_test,
    move,
    retest_advice,
    still_waiting,
    verified,
)
from bot.domain.webhooks import HealthKind

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
ORDERS = PairKey("web-app", "orders-api")
TARGET = DispatchTarget("https://api.github.com", "acme", "orders-api", "pact_changed")


def rotation(stage: Stage = Stage.CONFIRM, **changes: object) -> Rotation:
    started = Rotation(
        id="r-1",
        webhook="hook",
        webhook_name="Verify orders-api pacts",
        target=TARGET,
        channel="C0PACT",
        started_by="U0ONCALL",
        started_at=NOW,
        scope=Scope(provider="orders-api"),
    )
    return replace(started, stage=stage, **changes)  # type: ignore[arg-type]


def moved(result: Moved | str) -> Rotation:
    assert isinstance(result, Moved), result
    return result.rotation


def seen(kind: HealthKind, *, passed: bool = False) -> SeenTest:
    return SeenTest(NOW, "U0ONCALL", kind, passed, f"GitHub said {kind.value}")


def row(pair: PairKey, state: State, waiting_since: datetime | None, verified_at=None) -> PairRow:
    verification = Verification(verified_at, True) if verified_at else None
    record = PairRecord(pair, Pact(NOW - timedelta(days=3), "1.0.0"), verification)
    rule = Rule(timedelta(hours=24), Policy.DEMAND)
    return PairRow(record, rule, Freshness(state, "", waiting_since=waiting_since), ())


def test_done_moves_one_step_and_a_second_press_on_the_same_step_changes_nothing() -> None:
    first = moved(move(rotation(Stage.SIGN_IN), 2, Press.DONE, "U0ONCALL", NOW))
    again = move(first, 2, Press.DONE, "U0OTHER", NOW)

    assert first.stage is Stage.GENERATE
    assert first.moved_by == "U0ONCALL"
    assert again == "this rotation is at step 3 now, moved there by <@U0ONCALL>"


def test_back_returns_a_step_but_not_before_the_first() -> None:
    assert moved(move(rotation(Stage.PASTE), 5, Press.BACK, "U1", NOW)).stage is Stage.COPY
    assert move(rotation(), 1, Press.BACK, "U1", NOW) == "this is the first step"


def test_cancel_ends_it_and_says_who_to_anyone_pressing_later() -> None:
    cancelled = moved(move(rotation(Stage.COPY), 4, Press.CANCEL, "U0LEAD", NOW))

    assert cancelled.outcome is Outcome.CANCELLED
    assert (cancelled.ended_by, cancelled.ended_at) == ("U0LEAD", NOW)
    assert move(cancelled, 4, Press.DONE, "U1", NOW) == (
        "this rotation is over: cancelled by <@U0LEAD> on 2026-12-01 03:00 UTC"
    )


def test_done_on_the_last_step_finishes_it_with_its_duration() -> None:
    later = NOW + timedelta(minutes=42)

    finished = moved(move(rotation(Stage.REVOKE), 8, Press.DONE, "U0ONCALL", later))

    assert finished.outcome is Outcome.FINISHED
    assert finished.duration == timedelta(minutes=42)


def test_step_six_moves_on_only_when_the_test_passes() -> None:
    assert "moves on when the Test passes" in str(
        move(rotation(Stage.RETEST), 6, Press.DONE, "U1", NOW)
    )
    failed = after_test(rotation(Stage.RETEST), 6, seen(HealthKind.TOKEN_DEAD), [])
    passed = after_test(rotation(Stage.RETEST), 6, seen(HealthKind.OK, passed=True), [])

    assert failed.rotation.stage is Stage.RETEST
    assert passed.rotation.stage is Stage.WATCH
    assert passed.rotation.passed_at == NOW
    assert "The new token works" in passed.said


def test_a_401_on_step_one_confirms_the_diagnosis_and_moves_on() -> None:
    confirmed = after_test(rotation(), 1, seen(HealthKind.TOKEN_DEAD), [])
    healthy = after_test(rotation(), 1, seen(HealthKind.OK, passed=True), [])

    assert confirmed.rotation.stage is Stage.SIGN_IN
    assert "Diagnosis confirmed" in confirmed.said
    assert healthy.rotation.stage is Stage.CONFIRM  # a working token: nothing confirmed


def test_the_buttons_belong_to_their_steps() -> None:
    assert move(rotation(Stage.COPY), 4, Press.TEST, "U1", NOW) == "step 4 has no “test” button"


@pytest.mark.parametrize(
    ("kind", "meaning"),
    [
        (HealthKind.TOKEN_DEAD, "the secret was not updated"),
        (HealthKind.NO_ACCESS, "lacks the repo scope"),
        (HealthKind.FORBIDDEN, "single sign-on"),
        (HealthKind.HIDDEN, "webhook host whitelist"),
    ],
)
def test_a_failing_retest_says_what_its_status_means_now(kind: HealthKind, meaning: str) -> None:
    assert meaning in str(retest_advice(seen(kind)))


def test_the_pairs_waiting_when_the_retest_passes_are_ticked_off_as_they_are_verified() -> None:
    since = NOW - timedelta(days=3)
    rows = [
        row(ORDERS, State.STALE, since),
        row(PairKey("checkout", "orders-api"), State.FRESH, None),
    ]
    waiting = still_waiting(rows)
    watched = after_test(rotation(Stage.RETEST), 6, seen(HealthKind.OK, passed=True), waiting)
    later = NOW + timedelta(hours=1)

    ticked = verified(watched.rotation, [row(ORDERS, State.FRESH, None, verified_at=later)], later)

    assert waiting == [Waiting(ORDERS, since)]
    assert ticked is not None
    assert ticked.waiting == (Waiting(ORDERS, since, verified_at=later, success=True),)
    assert not ticked.watching(later)  # nothing left to wait for
    assert verified(ticked, [], later) is None


def test_the_watch_ends_after_a_day_and_says_so_once() -> None:
    waiting = (Waiting(ORDERS, NOW - timedelta(days=3)),)
    watched = rotation(Stage.WATCH, passed_at=NOW, waiting=waiting)
    day_later = NOW + WATCH_FOR

    assert watched.watching(NOW + timedelta(hours=23))
    assert not watched.watching(day_later)
    assert watched.watch_ended(day_later)
    assert not replace(watched, watch_told=True).watch_ended(day_later)


def test_a_webhook_of_one_pair_can_test_that_pair() -> None:
    one = rotation(scope=Scope(consumer="web-app", provider="orders-api"))

    assert one.one_pair == ORDERS
    assert rotation().one_pair is None
