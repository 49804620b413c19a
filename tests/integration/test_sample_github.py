"""The sample GitHub must answer like GitHub: compared key by key with GitHub's own examples
(fixtures/broker-api/github-*.json and derived/github-workflow-runs-repository-dispatch.json),
so it cannot drift; and it must refuse every write, since pactbot never makes one."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from bot.github import WorkflowRun
from bot.sample.github import SampleGitHub
from tests.conftest import GITHUB_TOKEN
from tests.helpers.fixtures import fixture, shape

REPO = "octo-org/octo-repo"
RUNS = f"/repos/{REPO}/actions/runs"
CREATED = datetime(2020, 1, 22, 19, 33, 8, tzinfo=UTC)
LISTED = fixture("derived/github-workflow-runs-repository-dispatch.json")


def get(github: SampleGitHub, path: str = RUNS, token: str | None = GITHUB_TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(github.url + path, headers=headers)


def test_a_dispatch_run_has_every_key_and_type_of_the_fixture(github: SampleGitHub) -> None:
    # Attempt 2: GitHub's example has a previous attempt, which a first attempt has not.
    run = github.add_run(REPO, CREATED, status="completed", conclusion="success", run_attempt=2)

    answer = get(github)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert shape(answer.json()) == shape(LISTED)
    (ours,) = answer.json()["workflow_runs"]
    (theirs,) = LISTED["workflow_runs"]
    assert list(ours) == list(theirs)
    assert ours["id"] == run.id
    assert (ours["event"], ours["created_at"]) == (theirs["event"], theirs["created_at"])


def test_a_queued_run_matches_github_s_own_example_with_no_conclusion(
    github: SampleGitHub,
) -> None:
    github.add_run(REPO, CREATED, run_attempt=2)

    (ours,) = get(github).json()["workflow_runs"]

    assert shape(ours) == shape(fixture("github-workflow-run.json"))
    assert (ours["status"], ours["conclusion"]) == ("queued", None)


def test_a_first_attempt_has_no_previous_attempt(github: SampleGitHub) -> None:
    github.add_run(REPO, CREATED)

    (ours,) = get(github).json()["workflow_runs"]

    assert ours["previous_attempt_url"] is None


def test_pactbot_reads_the_fixture_runs() -> None:
    (listed,) = LISTED["workflow_runs"]

    run = WorkflowRun.model_validate(listed)
    queued = WorkflowRun.model_validate(fixture("github-workflow-run.json"))

    assert (run.event, run.status, run.conclusion) == (
        "repository_dispatch",
        "completed",
        "success",
    )
    assert run.created_at == CREATED
    assert (queued.status, queued.conclusion) == ("queued", None)


@pytest.mark.parametrize("token", [None, "ghp_wrong"])
def test_a_missing_or_wrong_token_gets_github_s_bad_credentials(
    github: SampleGitHub, token: str | None
) -> None:
    answer = get(github, token=token)

    assert answer.status_code == 401
    assert answer.json() == fixture("github-dispatch-401.json")


def test_an_unknown_path_is_github_s_not_found(github: SampleGitHub) -> None:
    answer = get(github, "/repos/octo-org/octo-repo/hooks")

    assert answer.status_code == 404
    assert shape(answer.json()) == shape(fixture("github-dispatch-404.json"))
    assert answer.json()["message"] == "Not Found"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_write_is_refused_and_recorded(github: SampleGitHub, method: str) -> None:
    answer = httpx.request(
        method,
        f"{github.url}/repos/{REPO}/dispatches",
        headers={"Authorization": f"Bearer {GITHUB_TOKEN}"},
        json={"event_type": "contract_requiring_verification_published"},
    )

    assert answer.status_code == 405
    assert github.count(method) == 1


def test_finish_completes_a_run_with_its_conclusion(github: SampleGitHub) -> None:
    run = github.add_run(REPO, CREATED)

    github.finish(run.id, "failure")

    (ours,) = get(github).json()["workflow_runs"]
    assert (ours["status"], ours["conclusion"]) == ("completed", "failure")


def test_an_unsupported_created_filter_is_refused_not_ignored(github: SampleGitHub) -> None:
    github.add_run(REPO, CREATED)

    answer = get(github, RUNS + "?created=2020-01-22")

    assert answer.status_code == 422
