"""An async GitHub REST client that only reads: the workflow runs of a repository.

It holds GITHUB_TOKEN (a read-only token is enough) and sends it to GITHUB_API_URL only: a
pagination link to any other host is not followed. GETs are retried like the broker's
(`bot.retry`); every failure becomes one `GitHubError` that says what to fix, never the token.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from pydantic import SecretStr, ValidationError

from bot import __version__
from bot.errors import GitHubError
from bot.github.schema import WorkflowRun, WorkflowRuns
from bot.retry import Answer, Clock, RetryPolicy, Sleep, transport_failure, with_retries

API_VERSION = "2022-11-28"
PER_PAGE = 100  # GitHub's largest page
# Filtered run lists stop at 1,000 results: following `next` further would only loop.
MOST_PAGES = 10


class GitHubClient:
    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = asyncio.sleep,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token.get_secret_value()}",
                "User-Agent": f"pactbot/{__version__}",
                "X-GitHub-Api-Version": API_VERSION,
            },
            transport=transport,
            timeout=timeout,
            # A renamed repository answers 301; httpx drops the token on a redirect elsewhere.
            follow_redirects=True,
        )
        self._retry = retry
        self._sleep = sleep
        self._clock = clock

    async def __aenter__(self) -> GitHubClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._http.aclose()

    async def dispatch_runs(
        self, owner: str, repo: str, since: datetime
    ) -> tuple[WorkflowRun, ...]:
        """The `repository_dispatch` runs of `owner/repo` created at or after `since`,
        newest first."""
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        path = f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/actions/runs"
        created = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = {"event": "repository_dispatch", "created": f">={created}", "per_page": PER_PAGE}
        url: str | None = str(httpx.URL(self._base_url + path, params=params))
        runs: list[WorkflowRun] = []
        for _ in range(MOST_PAGES):
            if url is None:
                break
            response = await self._get(url, f"{owner}/{repo}")
            runs.extend(_decode(response, f"GET {path}").workflow_runs)
            url = self._next_page(response)
        # GitHub's docs do not promise an order, so make it one.
        return tuple(sorted(runs, key=lambda run: (run.created_at, run.id), reverse=True))

    async def _get(self, url: str, repo: str) -> httpx.Response:
        try:
            answer = await with_retries(
                lambda: self._http.get(url), self._retry, self._sleep, self._clock
            )
        except httpx.TransportError as error:
            raise GitHubError(
                f"cannot reach GitHub at {self._base_url}: {transport_failure(error)}; "
                "check GITHUB_API_URL and the network"
            ) from None
        except httpx.TooManyRedirects:
            # Not a TransportError: httpx gives up after 20 redirects, a loop of a proxy's.
            raise GitHubError(
                f"GitHub's answer for {repo}'s workflow runs redirects in a loop: a proxy or "
                f"login page is in the way; check GITHUB_API_URL ({self._base_url})"
            ) from None
        if answer.gave_up:
            raise _gave_up(answer, repo)
        refusal = _refusal(answer.response, repo)
        if refusal is not None:
            raise refusal
        return answer.response

    def _next_page(self, response: httpx.Response) -> str | None:
        url = response.links.get("next", {}).get("url")
        if url is None or not url.startswith(self._base_url + "/"):
            return None
        return url


def _gave_up(answer: Answer, repo: str) -> GitHubError:
    status = answer.response.status_code
    if status == 429:
        return GitHubError(
            f"GitHub rate limits GITHUB_TOKEN (HTTP 429) reading {repo}'s workflow runs; "
            "try again later",
            status,
        )
    times = "once" if answer.attempts == 1 else f"{answer.attempts} times"
    return GitHubError(
        f"GitHub answered HTTP {status} {times} reading {repo}'s workflow runs: it is down or "
        "overloaded (https://www.githubstatus.com); try again later",
        status,
    )


def _refusal(response: httpx.Response, repo: str) -> GitHubError | None:
    """The error a 4xx means, None for 2xx."""
    status = response.status_code
    said = _github_says(response)
    if status == 401:
        return GitHubError(
            f"GitHub rejected GITHUB_TOKEN (401 {said or 'Bad credentials'}): it is revoked, "
            "expired or mistyped; set GITHUB_TOKEN to a working token",
            status,
        )
    if status == 403:
        return GitHubError(_forbidden(response, repo, said), status)
    if status == 404:
        return GitHubError(
            f"GitHub has no repository {repo}, or GITHUB_TOKEN cannot see it (404): check the "
            "owner and name, and that the token may read it (a classic token needs the repo "
            "scope for a private repository)",
            status,
        )
    if status >= 400:
        return GitHubError(
            f"GitHub answered HTTP {status} reading {repo}'s workflow runs: "
            f"{said or response.reason_phrase}",
            status,
        )
    return None


def _forbidden(response: httpx.Response, repo: str, said: str | None) -> str:
    headers = response.headers
    if headers.get("x-ratelimit-remaining") == "0":
        return f"GitHub's API rate limit for GITHUB_TOKEN is used up (403){_resets(headers)}"
    if "required" in headers.get("x-github-sso", ""):
        # The header's URL is a one-hour authorisation link for the token: not for a channel.
        return (
            f"GITHUB_TOKEN is not authorised for the SAML single sign-on of {repo}'s "
            "organisation (403): authorise it on GitHub under Settings → Developer settings → "
            "Personal access tokens → Configure SSO"
        )
    if said and "rate limit" in said.lower():
        return f"GitHub's secondary rate limit stopped GITHUB_TOKEN (403: {said}); try again later"
    return (
        f"GitHub refused GITHUB_TOKEN access to {repo}'s workflow runs (403: "
        f"{said or 'Forbidden'}): a fine-grained token needs the Actions read permission on it, "
        "a classic token the repo scope"
    )


def _resets(headers: httpx.Headers) -> str:
    """When the rate limit resets (`x-ratelimit-reset`, epoch seconds), or nothing."""
    try:
        moment = datetime.fromtimestamp(int(headers.get("x-ratelimit-reset", "")), UTC)
    except (ValueError, OverflowError, OSError):
        return ""
    return f"; it resets at {moment:%Y-%m-%d %H:%M} UTC"


def _github_says(response: httpx.Response) -> str | None:
    """GitHub's own `message`, when the body is its JSON error."""
    try:
        body = response.json()
    except ValueError:
        return None
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else None


def _decode(response: httpx.Response, endpoint: str) -> WorkflowRuns:
    content_type = response.headers.get("content-type", "")
    if "html" in content_type or response.content.lstrip()[:1] == b"<":
        raise GitHubError(
            f"GitHub's {endpoint} answered an HTML page instead of JSON: a proxy or login page "
            "is in the way; check GITHUB_API_URL (GitHub Enterprise: https://HOST/api/v3)"
        )
    try:
        return WorkflowRuns.model_validate_json(response.content)
    except ValidationError as error:
        problem = error.errors()[0]
        if problem["type"] == "json_invalid":
            raise GitHubError(f"GitHub's {endpoint} answered malformed JSON") from None
        field = ".".join(str(part) for part in problem["loc"]) or "(body)"
        raise GitHubError(
            f"GitHub's {endpoint} answered JSON without a usable {field} ({problem['msg']})"
        ) from None
