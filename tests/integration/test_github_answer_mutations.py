"""Every GitHub answer pactbot reads, spoilt at random, gives runs or one `GitHubError` sentence.

The real `GitHubClient` reads a repository's dispatch runs from one loopback server that answers
what the example scripted: the captured list of runs (or GitHub's error bodies) with fields
dropped, nulled, retyped or cut short, cut off, replaced by an HTML page, a 5xx, another status,
with GitHub's own headers spoilt (rate limit, SSO, pagination links, redirects). Any exception
but a `GitHubError` that names what to fix, without the token, is a bug of the client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.errors import GitHubError
from bot.github import GitHubClient, WorkflowRun
from tests.helpers.fixtures import BROKER_FIXTURES
from tests.helpers.mutations import Answer, answers, mutated
from tests.helpers.stage import Stage, no_wait, shared_transport

TOKEN = "ghp_fuzzT0kenThatMustNeverShow000000000"
SINCE = datetime(2026, 11, 28, tzinfo=UTC)
# GitHub's answers and the status each came with.
ANSWERS = {
    "derived/github-workflow-runs-repository-dispatch.json": 200,
    "github-workflow-run.json": 200,  # one run, not the list: refused as it is
    "github-dispatch-401.json": 401,
    "github-dispatch-404.json": 404,
    "github-422-validation-failed.json": 422,
}
# GitHub's own response headers, as api.github.com sent them; the framing ones are the stage's.
HEADERS: dict[str, str] = {
    name: value
    for name, value in json.loads(
        (BROKER_FIXTURES / "github-response-headers-classic-pat.json").read_text(encoding="utf-8")
    ).items()
    if name not in {"content-length", "connection", "status"}
}
# Header values the client reads: `{url}` is the stage's. Redirects stay on loopback: a
# Location to another host would make the test resolve it.
SPOILT_HEADERS: dict[str, st.SearchStrategy[str]] = {
    "x-ratelimit-remaining": st.sampled_from(("0", "", "-1", "none")),
    "x-ratelimit-reset": st.sampled_from(("", "soon", "1507651200", "1507651200000", "9" * 30)),
    "x-github-sso": st.sampled_from(("required; url=https://github.com/orgs/o/sso?x=1", "")),
    "link": st.sampled_from(
        (
            '<{url}/repos/octo-org/orders-api/actions/runs?page=2>; rel="next"',
            '<{url}/repos/octo-org/orders-api/actions/runs?page=2>; rel=next, <>; rel="last"',
            '<http://[::1>; rel="next"',
            '<http://127.0.0.1:1/runs?page=2>; rel="next"',  # elsewhere, without a DNS query
            '<>; rel="next"',
            "garbage",
            ";;,,<",
        )
    ),
    "location": st.sampled_from(("/login", "", "login?next=/", "http://[::1", "{url}/moved")),
}
REDIRECTS = (301, 307)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    # The stage and the connection pool are shared by every example on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def served(name: str) -> Answer:
    body = (BROKER_FIXTURES / name).read_bytes()
    return Answer(ANSWERS[name], body, HEADERS)


@pytest.fixture(scope="module")
def stage() -> Iterator[Stage]:
    with Stage() as serving:
        yield serving


Connect = Callable[[], GitHubClient]


@pytest.fixture
async def connect(stage: Stage) -> AsyncIterator[Connect]:
    async with shared_transport() as transport:
        yield lambda: GitHubClient(stage.url, SecretStr(TOKEN), transport=transport, sleep=no_wait)


async def outcome(connect: Connect) -> Any:
    """The runs, or the GitHubError the read raised."""
    async with connect() as reader:
        try:
            return await reader.dispatch_runs("octo-org", "orders-api", SINCE)
        except GitHubError as error:
            return error


def assert_runs_or_a_sentence(found: Any) -> None:
    if not isinstance(found, GitHubError):
        assert all(isinstance(run, WorkflowRun) for run in found), found
        return
    message = str(found)
    assert message.startswith(("GitHub", "GITHUB_TOKEN", "cannot reach GitHub")), message
    assert TOKEN not in message


@pytest.mark.parametrize("name", ANSWERS)
async def test_every_captured_github_answer_is_read_as_it_was_captured(
    stage: Stage, connect: Connect, name: str
) -> None:
    stage.play(served(name))

    found = await outcome(connect)

    if name.endswith("repository-dispatch.json"):
        assert [run.id for run in found] == [30433642]
    else:
        assert isinstance(found, GitHubError)
        assert found.status == (None if ANSWERS[name] == 200 else ANSWERS[name])


@FUZZ
@given(data=st.data())
async def test_a_spoilt_github_answer_gives_runs_or_a_sentence(
    stage: Stage, connect: Connect, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(tuple(ANSWERS)), label="fixture")
    answer = data.draw(answers(served(name)), label="answer")
    spoilt = data.draw(st.fixed_dictionaries({}, optional=SPOILT_HEADERS), label="headers")
    headers = answer.headers | {key: value.format(url=stage.url) for key, value in spoilt.items()}
    # The client follows redirects: one answer in three is one, wherever its Location points.
    status = data.draw(st.sampled_from((answer.status,) * 4 + REDIRECTS), label="status")
    stage.play(Answer(status, answer.body, headers))

    assert_runs_or_a_sentence(await outcome(connect))


@FUZZ
@given(runs=mutated(json.loads(served(next(iter(ANSWERS))).body)))
async def test_spoilt_runs_on_every_page_give_runs_or_a_sentence(
    stage: Stage, connect: Connect, runs: Any
) -> None:
    # Every page links to the next: up to the client's last page, each one is spoilt.
    link = f'<{stage.url}/repos/octo-org/orders-api/actions/runs?page=2>; rel="next"'
    stage.play(Answer(200, json.dumps(runs).encode(), HEADERS | {"link": link}))

    assert_runs_or_a_sentence(await outcome(connect))
