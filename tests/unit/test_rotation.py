"""The rotation runbook's state machine: steps, presses, Tests, the pairs the outage held up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks.rotation import RotationPage, build_rotation
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
    refusal,
    retest_advice,
    still_waiting,
    verified,
)
from bot.domain.webhooks import HealthKind
from bot.service.rotation_records import RotationBook

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
    assert refusal(rotation(Stage.COPY), 4, Press.CHECK) == "step 4 has no “check” button"
    assert refusal(rotation(Stage.WATCH), 7, Press.CHECK) is None
    assert refusal(rotation(Stage.RETEST), 6, Press.TEST) is None


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


def test_a_rotation_whose_message_never_went_out_is_abandoned_after_a_minute() -> None:
    unposted = rotation()

    assert not unposted.abandoned(NOW + timedelta(seconds=30))
    assert unposted.abandoned(NOW + timedelta(minutes=2))
    assert not replace(unposted, ts="1.2").abandoned(NOW + timedelta(minutes=2))


def test_rotations_over_for_a_day_leave_the_store_whichever_is_written() -> None:
    book = RotationBook()
    for number in range(5):
        ended_at = NOW + timedelta(days=3 * number)
        over = replace(
            rotation(),
            id=f"r-{number}",
            outcome=Outcome.CANCELLED,
            ended_by="U1",
            ended_at=ended_at,
        )
        book = book.with_rotation(over, ended_at)

    assert [r.id for r in book.open] == ["r-4"]


def test_a_cancel_after_the_new_token_worked_still_watches_the_held_up_pairs() -> None:
    waiting = (Waiting(ORDERS, NOW - timedelta(days=3)),)
    passed = rotation(Stage.WATCH, passed_at=NOW, waiting=waiting)

    cancelled = moved(move(passed, 7, Press.CANCEL, "U1", NOW))

    assert cancelled.watching(NOW + timedelta(hours=1))


def test_pairs_unknown_when_the_retest_passed_are_listed_at_the_next_read() -> None:
    since = NOW - timedelta(days=3)
    unknown = after_test(rotation(Stage.RETEST), 6, seen(HealthKind.OK, passed=True), None)
    assert unknown.rotation.watching(NOW)

    listed = verified(unknown.rotation, [row(ORDERS, State.STALE, since)], NOW)

    assert listed is not None
    assert listed.waiting == (Waiting(ORDERS, since),)


def test_many_held_up_pairs_fit_slacks_sections_without_cutting_a_line() -> None:
    pairs = [
        PairKey(f"consumer-with-a-long-name-{n:03d}-" + "x" * 20, "orders-api") for n in range(30)
    ]
    waiting = tuple(Waiting(pair, NOW - timedelta(days=2)) for pair in pairs)
    watched = rotation(Stage.WATCH, passed_at=NOW, waiting=waiting)
    page = RotationPage(
        machine_user=None, secret_name="githubToken", broker_url="https://b", github=False, now=NOW
    )

    sections = [
        b["text"]["text"] for b in build_rotation(watched, page).blocks if b["type"] == "section"
    ]

    assert all(len(text) <= 3000 for text in sections)
    shown = "\n".join(sections)
    assert shown.count(":hourglass_flowing_sand:") == 20
    assert "…and 10 more (`/pact status`)" in shown
    assert "The webhook fires for many pairs" in shown
