"""Which run a re-test's dispatch started: the first dispatch run created after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.workflow_runs import run_started_by
from bot.github import WorkflowRun

DISPATCHED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def run(
    run_id: int, after: timedelta, event: str = "repository_dispatch", status: str = "queued"
) -> WorkflowRun:
    return WorkflowRun(
        id=run_id,
        name="contract-test-provider",
        display_title="contract_requiring_verification_published",
        event=event,
        status=status,
        conclusion=None,
        created_at=DISPATCHED + after,
        html_url=f"https://github.com/octo-org/octo-repo/actions/runs/{run_id}",
        head_branch="main",
    )


def test_the_first_dispatch_run_after_the_re_test_is_the_one_it_started() -> None:
    runs = [run(3, timedelta(minutes=5)), run(2, timedelta(seconds=4)), run(4, timedelta(hours=1))]

    assert run_started_by(runs, DISPATCHED) == runs[1]


def test_a_run_github_dates_up_to_a_minute_before_the_dispatch_still_counts() -> None:
    early = run(2, -timedelta(seconds=60))

    assert run_started_by([early], DISPATCHED) == early


def test_a_run_from_more_than_a_minute_before_belongs_to_an_earlier_dispatch() -> None:
    runs = [run(1, -timedelta(seconds=61)), run(2, timedelta(seconds=30))]

    assert run_started_by(runs, DISPATCHED) == runs[1]


def test_runs_started_by_a_push_or_a_schedule_are_not_the_dispatch_s() -> None:
    runs = [run(1, timedelta(seconds=2), event="push"), run(2, timedelta(seconds=3), "schedule")]

    assert run_started_by(runs, DISPATCHED) is None


def test_before_github_has_created_the_run_there_is_none() -> None:
    assert run_started_by([], DISPATCHED) is None
    assert run_started_by([run(1, -timedelta(hours=2))], DISPATCHED) is None


def test_two_runs_created_in_the_same_second_are_told_apart_by_id() -> None:
    runs = [run(8, timedelta(seconds=5)), run(7, timedelta(seconds=5))]

    assert run_started_by(runs, DISPATCHED) == runs[1]
