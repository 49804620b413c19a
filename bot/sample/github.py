"""A sample GitHub REST API: a real HTTP server on 127.0.0.1 that lists workflow runs.

It serves `GET /repos/{owner}/{repo}/actions/runs` with the fields of GitHub's own run objects
(shared/broker-api/fixtures/derived/github-workflow-runs-repository-dispatch.json, checked key by
key by tests/integration/test_sample_github.py) and nothing else: every other method is refused,
because pactbot never writes to GitHub. Tests script the runs (`add_run`, `finish`), make it
misbehave (`fail`, `delay`) and read every request it received (`requests`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode

from bot.sample.loopback import LoopbackService, RecordingHandler, Request

Json = Any
JSON = "application/json; charset=utf-8"
_RUNS = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions/runs$")
_PLAIN: dict[str, str] = {}  # no headers beyond the usual
_DOCS = "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository"


@dataclass(frozen=True, slots=True)
class SampleRun:
    """A workflow run as a test describes it; the rest of GitHub's fields are filled in."""

    id: int
    repository: str  # owner/name
    created_at: datetime
    name: str = "contract-test-provider"
    display_title: str = "contract_requiring_verification_published"
    event: str = "repository_dispatch"
    status: str = "queued"
    conclusion: str | None = None
    head_branch: str = "main"
    run_attempt: int = 1


class Failure(Enum):
    """Ways to answer instead of the runs."""

    # The body GitHub sends for a revoked, expired or mistyped token (fixture github-dispatch-401).
    BAD_CREDENTIALS = (
        401,
        {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        },
        _PLAIN,
    )
    NOT_FOUND = (404, {"message": "Not Found", "documentation_url": _DOCS}, _PLAIN)
    # Illustrative bodies: GitHub's texts for these are not among the captured fixtures.
    RATE_LIMITED = (
        403,
        {"message": "API rate limit exceeded for user ID 1.", "documentation_url": _DOCS},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795000000"},
    )
    SSO_REQUIRED = (
        403,
        {
            "message": "Resource protected by organization SAML enforcement.",
            "documentation_url": _DOCS,
        },
        {
            "X-GitHub-SSO": "required; url=https://github.com/orgs/octo-org/sso?authorization_request=x"
        },
    )
    SERVER_ERROR = (500, {"message": "Server Error"}, _PLAIN)
    GARBAGE = (200, b'{"total_count": 1, "workflow_runs": [{"id": ', _PLAIN)
    HTML = (200, "<!DOCTYPE html><html><body><h1>Sign in to your proxy</h1></body></html>", _PLAIN)

    @property
    def answer(self) -> tuple[int, Json, dict[str, str]]:
        """The status, the body (JSON; str: HTML; bytes: sent as they are) and extra headers."""
        status, body, headers = self.value
        return int(status), body, dict(headers)


class SampleGitHub(LoopbackService):
    """Serve scripted workflow runs on 127.0.0.1 (an ephemeral port) to holders of `token`."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[Request] = []
        self.delay = 0.0  # seconds before every answer, to run into a client's timeout
        self._runs: dict[int, SampleRun] = {}
        self._failure: Failure | None = None
        self._failures_left: int | None = None
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    def add_run(self, repository: str, created_at: datetime, **fields: Any) -> SampleRun:
        """A new run of `repository` (owner/name); `fields` override SampleRun's defaults."""
        with self._lock:
            run_id = max(self._runs, default=30433641) + 1
            run = SampleRun(run_id, repository, created_at, **fields)
            self._runs[run_id] = run
        return run

    def finish(self, run_id: int, conclusion: str = "success") -> None:
        with self._lock:
            self._runs[run_id] = replace(
                self._runs[run_id], status="completed", conclusion=conclusion
            )

    def fail(self, failure: Failure | None, times: int | None = None) -> None:
        """Answer `failure` to the next `times` requests (None: until told otherwise)."""
        with self._lock:
            self._failure, self._failures_left = failure, times

    def count(self, method: str | None = None) -> int:
        return sum(1 for request in self.requests if method in (None, request.method))

    def _take_failure(self) -> Failure | None:
        with self._lock:
            failure = self._failure
            if failure is not None and self._failures_left is not None:
                self._failures_left -= 1
                if self._failures_left == 0:
                    self._failure = None
            return failure

    def _authorised(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") in (f"Bearer {self.token}", f"token {self.token}")

    def _page(self, repository: str, query: str) -> tuple[int, Json, dict[str, str]]:
        params = {key: values[-1] for key, values in parse_qs(query).items()}
        created = params.get("created", "")
        if created and not created.startswith(">="):
            return 422, {"message": "Validation Failed", "documentation_url": _DOCS}, {}
        since = _parse_time(created[2:]) if created else None
        per_page = min(int(params.get("per_page", "30")), 100)
        page = int(params.get("page", "1"))
        with self._lock:
            runs = [
                run
                for run in self._runs.values()
                if run.repository == repository
                and params.get("event", run.event) == run.event
                and (since is None or run.created_at >= since)
            ]
        runs.sort(key=lambda run: (run.created_at, run.id), reverse=True)
        shown = runs[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(runs):
            following = urlencode(params | {"page": str(page + 1)})
            headers["Link"] = (
                f'<{self.url}/repos/{repository}/actions/runs?{following}>; rel="next"'
            )
        return (
            200,
            {"total_count": len(runs), "workflow_runs": [_run_json(run) for run in shown]},
            headers,
        )


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(login: str, user_id: int, node_id: str) -> Json:
    api = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": node_id,
        "avatar_url": "https://github.com/images/error/octocat_happy.gif",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "User",
        "site_admin": False,
    }


def _run_json(run: SampleRun) -> Json:
    """GitHub's run object, field for field as in the fixture; values that tests do not script
    are the fixture's."""
    api = f"https://api.github.com/repos/{run.repository}/actions/runs/{run.id}"
    sha = "acb5820ced9479c074f688cc328bf03f341a511d"
    actor = _user("octocat", 1, "MDQ6VXNlcjE=")
    return {
        "id": run.id,
        "name": run.name,
        "node_id": "MDEyOldvcmtmbG93IFJ1bjI2OTI4OQ==",
        "check_suite_id": 42,
        "check_suite_node_id": "MDEwOkNoZWNrU3VpdGU0Mg==",
        "head_branch": run.head_branch,
        "head_sha": sha,
        "path": f".github/workflows/{run.name}.yml",
        "run_number": 562,
        "event": run.event,
        "display_title": run.display_title,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": 159038,
        "url": api,
        "html_url": f"https://github.com/{run.repository}/actions/runs/{run.id}",
        "pull_requests": [],
        "created_at": _stamp(run.created_at),
        "updated_at": _stamp(run.created_at),
        "actor": actor,
        "run_attempt": run.run_attempt,
        "referenced_workflows": [
            {
                "path": f"{run.repository}/.github/workflows/report.yml@v2",
                "sha": "79e9790903e1c3373b1a3e3a941d57405478a232",
                "ref": "refs/tags/v2",
            }
        ],
        "run_started_at": _stamp(run.created_at),
        "triggering_actor": actor,
        "jobs_url": f"{api}/jobs",
        "logs_url": f"{api}/logs",
        "check_suite_url": f"https://api.github.com/repos/{run.repository}/check-suites/414944374",
        "artifacts_url": f"{api}/artifacts",
        "cancel_url": f"{api}/cancel",
        "rerun_url": f"{api}/rerun",
        "previous_attempt_url": None
        if run.run_attempt == 1
        else f"{api}/attempts/{run.run_attempt - 1}",
        "workflow_url": f"https://api.github.com/repos/{run.repository}/actions/workflows/159038",
        "head_commit": {
            "id": sha,
            "tree_id": "d23f6eedb1e1b9610bbc754ddb5197bfe7271223",
            "message": "Create linter.yaml",
            "timestamp": _stamp(run.created_at),
            "author": {"name": "Octo Cat", "email": "octocat@github.com"},
            "committer": {"name": "GitHub", "email": "noreply@github.com"},
        },
    }


def _handler_for(github: SampleGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(RecordingHandler):
        def serve(self, request: Request) -> None:
            github.requests.append(request)
            if github.delay:
                time.sleep(github.delay)
            status, body, extra = self._answer(
                request.method, request.path, request.query, request.headers
            )
            if isinstance(body, str):
                self.reply(status, body.encode(), "text/html; charset=utf-8", extra)
                return
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.reply(status, raw, JSON, extra)

        def _answer(
            self, method: str, path: str, query: str, headers: dict[str, str]
        ) -> tuple[int, Json, dict[str, str]]:
            if method != "GET":
                # The sample serves no write at all: a test that sees this, caught the bot writing.
                return 405, {"message": "pactbot's sample GitHub only answers GET"}, {}
            if not github._authorised(headers):
                return Failure.BAD_CREDENTIALS.answer
            failure = github._take_failure()
            if failure is not None:
                return failure.answer
            found = _RUNS.match(path)
            if found is None:
                return Failure.NOT_FOUND.answer
            return github._page(f"{found['owner']}/{found['repo']}", query)

    return Handler
