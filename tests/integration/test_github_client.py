"""The real httpx client against the sample GitHub on loopback: headers, filters, errors."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from bot import __version__
from bot.errors import GitHubError
from bot.github import GitHubClient
from bot.retry import RetryPolicy
from bot.sample.github import Failure, SampleGitHub
from tests.conftest import GITHUB_TOKEN
from tests.helpers.bot import Sleeps

REPO = "octo-org/orders-api"
SINCE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RUNS = f"/repos/{REPO}/actions/runs"


def client(
    github: SampleGitHub, token: str = GITHUB_TOKEN, sleeps: Sleeps | None = None, **options: float
) -> GitHubClient:
    return GitHubClient(github.url, SecretStr(token), sleep=sleeps or Sleeps(), **options)


async def runs_of(github: SampleGitHub, repo: str = REPO, **options: float) -> list[int]:
    owner, name = repo.split("/")
    async with client(github, **options) as reader:
        return [run.id for run in await reader.dispatch_runs(owner, name, SINCE)]


async def failure_of(github: SampleGitHub, token: str = GITHUB_TOKEN) -> GitHubError:
    with pytest.raises(GitHubError) as raised:
        async with client(github, token) as reader:
            await reader.dispatch_runs("octo-org", "orders-api", SINCE)
    return raised.value


async def test_every_request_carries_the_token_the_api_version_and_pactbot_as_user_agent(
    github: SampleGitHub,
) -> None:
    await runs_of(github)

    (request,) = github.requests
    assert request.method == "GET"
    assert request.path == RUNS
    assert request.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["user-agent"] == f"pactbot/{__version__}"


async def test_dispatch_runs_come_newest_first_with_what_a_rotation_reads(
    github: SampleGitHub,
) -> None:
    first = github.add_run(REPO, SINCE + timedelta(minutes=1))
    second = github.add_run(REPO, SINCE + timedelta(minutes=2), run_attempt=2)
    github.finish(first.id, "failure")

    async with client(github) as reader:
        runs = await reader.dispatch_runs("octo-org", "orders-api", SINCE)

    assert [run.id for run in runs] == [second.id, first.id]
    newest, oldest = runs
    assert (newest.status, newest.conclusion, newest.run_attempt) == ("queued", None, 2)
    assert (oldest.status, oldest.conclusion) == ("completed", "failure")
    assert oldest.created_at == SINCE + timedelta(minutes=1)
    assert oldest.name == "contract-test-provider"
    assert oldest.display_title == "contract_requiring_verification_published"
    assert oldest.head_branch == "main"
    assert oldest.html_url == f"https://github.com/{REPO}/actions/runs/{first.id}"


async def test_only_dispatch_runs_of_the_repository_created_since_are_asked_for(
    github: SampleGitHub,
) -> None:
    wanted = github.add_run(REPO, SINCE)
    github.add_run(REPO, SINCE - timedelta(seconds=1))
    github.add_run(REPO, SINCE + timedelta(minutes=1), event="push")
    github.add_run("octo-org/billing-api", SINCE + timedelta(minutes=1))

    assert await runs_of(github) == [wanted.id]
    assert github.requests[0].query == (
        "event=repository_dispatch&created=%3E%3D2026-12-01T09%3A00%3A00Z&per_page=100"
    )


async def test_more_runs_than_a_page_holds_are_read_by_following_the_next_link(
    github: SampleGitHub,
) -> None:
    for minute in range(150):
        github.add_run(REPO, SINCE + timedelta(minutes=minute))

    found = await runs_of(github)

    assert len(found) == 150
    assert found == sorted(found, reverse=True)
    assert [request.query.split("&")[-1] for request in github.requests] == [
        "per_page=100",
        "page=2",
    ]


async def test_a_next_link_to_another_host_is_not_followed_with_the_token() -> None:
    asked: list[str] = []

    def elsewhere(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        link = '<https://collector.example/repos/o/r/actions/runs?page=2>; rel="next"'
        return httpx.Response(
            200, json={"total_count": 0, "workflow_runs": []}, headers={"Link": link}
        )

    reader = GitHubClient(
        "https://api.github.com", SecretStr(GITHUB_TOKEN), transport=httpx.MockTransport(elsewhere)
    )
    async with reader:
        assert await reader.dispatch_runs("o", "r", SINCE) == ()

    assert len(asked) == 1


async def test_a_rejected_token_is_named_and_the_request_not_retried(github: SampleGitHub) -> None:
    error = await failure_of(github, token="ghp_revoked")

    assert str(error) == (
        "GitHub rejected GITHUB_TOKEN (401 Bad credentials): it is revoked, expired or mistyped; "
        "set GITHUB_TOKEN to a working token"
    )
    assert error.status == 401
    assert github.count() == 1


async def test_an_unknown_repository_may_also_be_one_the_token_cannot_see(
    github: SampleGitHub,
) -> None:
    github.fail(Failure.NOT_FOUND)

    error = await failure_of(github)

    assert str(error) == (
        "GitHub has no repository octo-org/orders-api, or GITHUB_TOKEN cannot see it (404): check "
        "the owner and name, and that the token may read it (a classic token needs the repo scope "
        "for a private repository)"
    )


async def test_a_used_up_rate_limit_says_when_it_resets(github: SampleGitHub) -> None:
    github.fail(Failure.RATE_LIMITED)

    error = await failure_of(github)

    assert str(error) == (
        "GitHub's API rate limit for GITHUB_TOKEN is used up (403); it resets at 2026-11-18 "
        "11:06 UTC"
    )
    assert github.count() == 1


async def test_a_token_without_sso_authorisation_is_told_how_to_authorise_it(
    github: SampleGitHub,
) -> None:
    github.fail(Failure.SSO_REQUIRED)

    error = await failure_of(github)

    assert "not authorised for the SAML single sign-on of octo-org/orders-api's" in str(error)
    assert "Configure SSO" in str(error)
    assert "authorization_request" not in str(error)


async def test_a_server_error_that_clears_is_retried_with_backoff(github: SampleGitHub) -> None:
    github.add_run(REPO, SINCE)
    github.fail(Failure.SERVER_ERROR, times=2)
    sleeps = Sleeps()

    async with client(github, sleeps=sleeps) as reader:
        assert len(await reader.dispatch_runs("octo-org", "orders-api", SINCE)) == 1

    assert sleeps.waits == [0.5, 1.0]


async def test_a_github_that_keeps_failing_gives_up_after_four_attempts(
    github: SampleGitHub,
) -> None:
    github.fail(Failure.SERVER_ERROR)

    error = await failure_of(github)

    assert str(error) == (
        "GitHub answered HTTP 500 4 times reading octo-org/orders-api's workflow runs: it is down "
        "or overloaded (https://www.githubstatus.com); try again later"
    )
    assert github.count() == 4


async def test_an_html_page_means_a_proxy_is_in_the_way(github: SampleGitHub) -> None:
    github.fail(Failure.HTML)

    error = await failure_of(github)

    assert str(error) == (
        f"GitHub's GET {RUNS} answered an HTML page instead of JSON: a proxy or login page is in "
        "the way; check GITHUB_API_URL (GitHub Enterprise: https://HOST/api/v3)"
    )


async def test_a_cut_off_body_is_malformed_json(github: SampleGitHub) -> None:
    github.fail(Failure.GARBAGE)

    assert str(await failure_of(github)) == f"GitHub's GET {RUNS} answered malformed JSON"


async def test_a_slow_github_times_out_with_a_sentence(github: SampleGitHub) -> None:
    github.delay = 0.3
    reader = GitHubClient(
        github.url,
        SecretStr(GITHUB_TOKEN),
        timeout=0.05,
        retry=RetryPolicy(attempts=2),
        sleep=Sleeps(),
    )

    with pytest.raises(GitHubError) as raised:
        async with reader:
            await reader.dispatch_runs("octo-org", "orders-api", SINCE)

    assert str(raised.value) == (
        f"cannot reach GitHub at {github.url}: no answer in time (timeout); check GITHUB_API_URL "
        "and the network"
    )
    assert raised.value.status is None


async def test_an_unreachable_github_names_github_api_url() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
    reader = GitHubClient(url, SecretStr(GITHUB_TOKEN), sleep=Sleeps())

    with pytest.raises(GitHubError, match=r"^cannot reach GitHub at .*: connection failed"):
        async with reader:
            await reader.dispatch_runs("octo-org", "orders-api", SINCE)


@pytest.mark.parametrize("failure", [*Failure, None])
async def test_the_token_shows_in_no_error_and_no_log(
    github: SampleGitHub, failure: Failure | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    github.add_run(REPO, SINCE)
    github.fail(failure)

    async with client(github) as reader:
        try:
            found = repr(await reader.dispatch_runs("octo-org", "orders-api", SINCE))
        except GitHubError as error:
            found = f"{error} {error!r}"
        found += repr(reader.__dict__)

    assert caplog.records
    assert GITHUB_TOKEN not in caplog.text
    assert GITHUB_TOKEN not in found


async def test_a_naive_since_is_refused_rather_than_guessed(github: SampleGitHub) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        async with client(github) as reader:
            await reader.dispatch_runs("octo-org", "orders-api", datetime(2026, 12, 1, 9, 0))
