"""Properties of the rotation runbook over random clicks: any button, by anyone, on the message
as it is now or as it was drawn a few clicks ago, once or in a burst.

A click names the step shown on the message it was made on; Test and Check are decided as the
service decides them once their slow part is done: refused if the rotation is no longer there
(`refusal`), else what the Test or the look at the run found (`after_test`, `seen_run`). Who may
press is the Slack layer's to check; the core must move the same whoever pressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from bot.domain.rotation import (
    LAST,
    Moved,
    Outcome,
    Press,
    Rotation,
    RunSeen,
    Stage,
    after_test,
    move,
    refusal,
    seen_run,
)
from bot.domain.webhooks import HealthKind
from tests.unit.test_rotation import NOW, rotation, seen

USERS = ("U0ONCALL", "U0OTHER", "U0LEAD")
RUN = RunSeen(NOW, "https://github.com/acme/orders-api/actions/runs/1", "pact", "completed")

# Failing examples are kept in the repository's git-ignored .hypothesis/, wherever pytest runs
# from (the tests run in a temporary directory).
DATABASE = DirectoryBasedExampleDatabase(Path(__file__).parents[2] / ".hypothesis" / "examples")
CLICKS = settings(max_examples=200, deadline=None, database=DATABASE)


@dataclass(frozen=True)
class Click:
    """A press of `press` by `by`, on the message as drawn `late` clicks ago (0: as it is now),
    or on the step `forged` whatever any message showed."""

    press: Press
    by: str
    late: int = 0
    forged: int | None = None
    found: HealthKind = HealthKind.TOKEN_DEAD  # what a Test finds, or whether a run was found


@dataclass(frozen=True)
class Burst:
    """The same click `times` times on one drawing of the message: a double click, or people
    pressing at once."""

    click: Click
    times: int


@dataclass(frozen=True)
class Pressed:
    """One click as the core decided it."""

    before: Rotation
    click: Click
    stage: int  # the step the click named
    at: datetime
    said: Moved | str
    burst: int  # which burst it was part of (each lone click is a burst of one)

    @property
    def after(self) -> Rotation:
        return self.said.rotation if isinstance(self.said, Moved) else self.before


def decide(current: Rotation, click: Click, stage: int, at: datetime) -> Moved | str:
    """What the core makes of `click` on `stage`, as the service asks it."""
    if click.press is Press.TEST:
        passed = click.found is HealthKind.OK
        test = replace(seen(click.found, passed=passed), at=at, by=click.by)
        return refusal(current, stage, Press.TEST) or after_test(current, stage, test, [])
    if click.press is Press.CHECK:
        run = replace(RUN, at=at) if click.found is HealthKind.OK else None
        return refusal(current, stage, Press.CHECK) or seen_run(current, run, click.by, at)
    return move(current, stage, click.press, click.by, at)


def play(start: Stage, steps: Sequence[Click | Burst]) -> list[Pressed]:
    """Every click of `steps` on a rotation started at step `start`, in order."""
    drawn = [rotation(start)]  # the message after each click: what a late click still shows
    current, at, pressed = drawn[0], NOW, []
    for number, step in enumerate(steps):
        burst = step if isinstance(step, Burst) else Burst(step, 1)
        click = burst.click
        shown = drawn[max(0, len(drawn) - 1 - click.late)]
        stage = click.forged if click.forged is not None else int(shown.stage)
        for _ in range(burst.times):
            at += timedelta(seconds=1)
            said = decide(current, click, stage, at)
            pressed.append(Pressed(current, click, stage, at, said, number))
            current = pressed[-1].after
            drawn.append(current)
    return pressed


# Mostly what people do, on the message as it is, Done above all; late and forged clicks too.
_CLICKS = st.builds(
    Click,
    press=st.sampled_from([Press.DONE, Press.DONE, Press.TEST, *Press]),
    by=st.sampled_from(USERS),
    late=st.sampled_from([0, 0, 0, 1, 2, 3]),
    forged=st.one_of(st.none(), st.none(), st.none(), st.integers(0, 9)),
    found=st.sampled_from([HealthKind.TOKEN_DEAD, HealthKind.OK, HealthKind.NO_ACCESS]),
)
STEPS = st.lists(_CLICKS | st.builds(Burst, _CLICKS, st.integers(2, 4)), max_size=40)
# Most rotations are followed from step 1; the others start further on, to reach the last
# steps within a few dozen clicks.
STARTS = st.sampled_from([Stage.CONFIRM, Stage.CONFIRM, *Stage])


def _where(r: Rotation) -> tuple[int, Outcome]:
    return int(r.stage), r.outcome


@CLICKS
@given(STARTS, STEPS)
def test_no_click_skips_a_step_or_moves_two_at_once(
    start: Stage, steps: list[Click | Burst]
) -> None:
    for p in play(start, steps):
        assert abs(p.after.stage - p.before.stage) <= 1, (p.click, p.stage, _where(p.before))
        if not p.before.active:
            assert p.after == p.before, ("an ended rotation moved", p.click)


@CLICKS
@given(STARTS, STEPS)
def test_a_rotation_moves_only_by_the_button_of_the_step_it_is_at(
    start: Stage, steps: list[Click | Burst]
) -> None:
    for p in play(start, steps):
        before, after, press = p.before, p.after, p.click.press
        if _where(after) == _where(before):
            continue
        assert before.active, p.click
        assert p.stage == before.stage, ("a click on another step moved it", p.click, p.stage)
        if after.outcome is Outcome.CANCELLED:
            assert press is Press.CANCEL, p.click
        elif after.outcome is Outcome.FINISHED:
            assert (press, before.stage) == (Press.DONE, LAST), p.click
        elif after.stage == before.stage + 1:
            # Forward: Done, except on step 6, where only a passing re-test moves it; a Test on
            # step 1 moves it when it confirms the dead token.
            assert (press, before.stage) in {
                *((Press.DONE, stage) for stage in Stage if stage not in (Stage.RETEST, LAST)),
                (Press.TEST, Stage.CONFIRM),
                (Press.TEST, Stage.RETEST),
            }, p.click
            if press is Press.TEST:
                wanted = HealthKind.TOKEN_DEAD if before.stage is Stage.CONFIRM else HealthKind.OK
                assert p.click.found is wanted, p.click
        else:
            assert after.stage == before.stage - 1, (p.click, _where(before), _where(after))
            assert press is Press.BACK, p.click
        assert (after.moved_by, after.moved_at) == (p.click.by, p.at), "who moved it, and when"


@CLICKS
@given(STARTS, STEPS)
def test_a_click_on_another_step_than_the_current_one_or_after_the_end_changes_nothing(
    start: Stage, steps: list[Click | Burst]
) -> None:
    for p in play(start, steps):
        if p.stage != p.before.stage or not p.before.active:
            assert isinstance(p.said, str), (p.click, p.stage, _where(p.before))
            assert p.after == p.before


@CLICKS
@given(STARTS, STEPS)
def test_a_double_click_or_a_burst_moves_one_step_at_most(
    start: Stage, steps: list[Click | Burst]
) -> None:
    pressed = play(start, steps)
    for number in {p.burst for p in pressed}:
        burst = [p for p in pressed if p.burst == number]
        first, last = burst[0].before, burst[-1].after
        moves = [p for p in burst if _where(p.after) != _where(p.before)]
        assert len(moves) <= 1, [(p.click.press, p.stage) for p in moves]
        assert abs(last.stage - first.stage) <= 1, (burst[0].click, _where(first), _where(last))


@CLICKS
@given(STARTS, STEPS)
def test_a_rotation_finishes_only_after_walking_every_step_from_where_it_started(
    start: Stage, steps: list[Click | Burst]
) -> None:
    pressed = play(start, steps)
    for number, p in enumerate(pressed):
        if p.after.outcome is Outcome.FINISHED and p.before.active:
            walked = [int(start), *(int(q.after.stage) for q in pressed[:number])]
            assert set(range(int(start), int(LAST) + 1)) <= set(walked), walked


@CLICKS
@given(STARTS, STEPS, st.sampled_from(USERS))
def test_who_clicks_changes_only_the_name_it_records(
    start: Stage, steps: list[Click | Burst], other: str
) -> None:
    for p in play(start, steps):
        theirs = decide(p.before, replace(p.click, by=other), p.stage, p.at)
        after = theirs.rotation if isinstance(theirs, Moved) else p.before
        assert _where(after) == _where(p.after), (p.click, other)
        assert isinstance(theirs, Moved) == isinstance(p.said, Moved), (p.click, other)
        if isinstance(theirs, Moved):
            assert after.moved_by == other
            assert after.ended_by == (other if not after.active else None)
