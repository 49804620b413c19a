"""The canary: a webhook that shares a GitHub token's secret and asks GitHub, through the
broker's own Test, whether the token is alive, before any publication needs it.

pactbot never holds the webhooks' token; the broker does. A webhook that sends the same
`Authorization: Bearer ${user.<secret>}` to GitHub's `POST /markdown` (render a snippet of
Markdown: no side effect, no scope needed, no CI run) lets its Test ask GitHub for us: `401 Bad
credentials` for a dead token, `200` for a live one, with `x-oauth-scopes` and, for a token that
expires, `github-authentication-token-expiration`. It is scoped to a provider pacticipant of its
own that no consumer publishes a pact with, so no publication ever fires it (the broker fires a
webhook only for the pacts of the pacticipants its scope names), and listens to an event the
broker accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.explain import EXPIRY_WARNING, TestReport, token_expiry
from bot.domain.model import Webhook
from bot.duration import format_duration
from bot.targets import is_github
from bot.targets.base import WHITELIST
from bot.targets.github import GITHUB

PROVIDER = "pactbot-canary"
EVENT = "contract_requiring_verification_published"
_MARK = "pactbot canary"
_DESCRIBED = re.compile(
    r"^pactbot canary: is the GitHub token of (?:the secret (?P<secret>\w+)|webhook "
    r"(?P<webhook>\S+)) alive\?"
)


@dataclass(frozen=True, slots=True)
class Canary:
    """A canary webhook, and the token it speaks for: a PactFlow secret's, or the token of
    one webhook (a broker that masks Authorization headers: the open-source one)."""

    uuid: str
    secret: str | None = None
    webhook: str | None = None
    team: str | None = None  # PactFlow: a secret belongs to a team

    @property
    def asks_about(self) -> str:
        return _about(self.secret, self.webhook)

    def asks_like(self, other: Canary) -> bool:
        """Whether `other` asks about the same token, whatever their uuids."""
        return (self.secret, self.webhook, self.team) == (other.secret, other.webhook, other.team)

    def speaks_for(self, webhook: Webhook) -> bool:
        """Whether `webhook`'s GitHub token is the one this canary asks about."""
        if not is_github(webhook.target) or webhook.uuid == self.uuid:
            return False
        if self.secret is not None:
            return webhook.secret == self.secret and webhook.team == self.team
        return webhook.uuid == self.webhook


def recognise(webhook: Webhook) -> Canary | None:
    """The canary `webhook` is, by the description pactbot gives every canary; else None."""
    found = _DESCRIBED.match(webhook.description)
    if found is None or not webhook.url.rstrip("/").endswith("/markdown"):
        return None
    return Canary(webhook.uuid, found["secret"], found["webhook"], webhook.team)


def _about(secret: str | None, webhook: str | None) -> str:
    """What a canary asks about, in words: `the secret githubToken`, `webhook <uuid>`."""
    return f"the secret {secret}" if secret else f"webhook {webhook}"


def _description(*, secret: str | None = None, webhook: str | None = None) -> str:
    return (
        f"{_MARK}: is the GitHub token of {_about(secret, webhook)} alive? It asks GitHub to "
        "render Markdown (POST /markdown): nothing starts, and no publication fires it. Made "
        "by pactbot."
    )


def definition(
    *,
    authorization: str,
    github_api_url: str,
    secret: str | None = None,
    webhook: str | None = None,
    team: str | None = None,
) -> dict[str, object]:
    """The canary webhook's JSON, for `POST /webhooks`: `authorization` is the header value
    the webhooks send (`Bearer ${user.githubToken}`); `team`, PactFlow's team of the webhooks
    (a team's secret may only be used by the webhooks of its team)."""
    made: dict[str, object] = {
        "description": _description(secret=secret, webhook=webhook),
        "provider": {"name": PROVIDER},
        "events": [{"name": EVENT}],
        "enabled": True,
        "request": {
            "method": "POST",
            "url": github_api_url.rstrip("/") + "/markdown",
            "headers": {
                "Accept": "application/vnd.github+json",
                "Authorization": authorization,
                "Content-Type": "application/json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
            "body": {"text": "pactbot canary", "mode": "markdown"},
        },
    }
    if team is not None:
        made["teamUuid"] = team
    return made


class Verdict(StrEnum):
    ALIVE = "alive"
    DEAD = "dead"  # 401: the token is dead, whoever publishes next is blocked
    NO_REPO = "no_repo"  # alive, but without the repo scope a private repository needs
    CANNOT_RUN = "cannot_run"  # the Test cannot run (403), or the broker hides the answer


@dataclass(frozen=True, slots=True)
class CanaryRun:
    """What one run of a canary's Test said."""

    at: datetime
    verdict: Verdict
    status: int | None = None
    expires: datetime | None = None  # GitHub's github-authentication-token-expiration
    scopes: str | None = None  # GitHub's x-oauth-scopes
    said: str = ""  # why it could not run

    @property
    def headline(self) -> str:
        """What the run found, in words (no CI run was started by it)."""
        if self.verdict is Verdict.DEAD:
            return "GitHub rejected the token (HTTP 401): it is expired, revoked or wrong."
        if self.verdict is Verdict.CANNOT_RUN:
            return f"The canary could not ask GitHub: {self.said.rstrip('.')}."
        scopes = f' (scopes "{self.scopes}")' if self.scopes is not None else ""
        return f"GitHub accepted the token (HTTP {self.status}){scopes}."


@dataclass(frozen=True, slots=True)
class CanaryState:
    """A canary as pactbot keeps it: its last run, and since when the token is dead."""

    last: CanaryRun
    dead_since: datetime | None = None

    def after(self, run: CanaryRun) -> CanaryState:
        """The state once `run` is in: a dead token stays dead since its first 401."""
        if run.verdict is Verdict.DEAD:
            return CanaryState(run, self.dead_since or run.at)
        if run.verdict is Verdict.CANNOT_RUN:
            return CanaryState(run, self.dead_since)  # it says nothing of the token
        return CanaryState(run, None)


def first_state(run: CanaryRun) -> CanaryState:
    return CanaryState(run, run.at if run.verdict is Verdict.DEAD else None)


CANNOT_TEST = (
    "the broker token may not run webhook Tests (403): the canary needs a read/write token "
    "(PactFlow: 'Read/write token (CI)'; open-source broker: the read/write basic-auth user)"
)


def refused(at: datetime) -> CanaryRun:
    """A canary whose Test the broker token may not run."""
    return CanaryRun(at, Verdict.CANNOT_RUN, said=CANNOT_TEST)


def found(report: TestReport, at: datetime) -> CanaryRun:
    """What a canary's Test, run at `at`, found."""
    answer = report.answer
    scopes = answer.headers.get("x-oauth-scopes")
    kind = verdict(answer.status, scopes, passed=report.passed, hidden=answer.hidden)
    said = ""
    if kind is Verdict.CANNOT_RUN:
        hides = f"the broker hides GitHub's answer; {WHITELIST}"
        said = hides if answer.hidden else report.headline
    # The canary asks GitHub's Markdown endpoint, not a trigger: its answer is GitHub's still.
    return CanaryRun(at, kind, answer.status, token_expiry(answer, GITHUB), scopes, said)


def verdict(status: int | None, scopes: str | None, *, passed: bool, hidden: bool) -> Verdict:
    """What GitHub's answer to a canary's Test means."""
    if status == 401:
        return Verdict.DEAD
    if hidden or status is None or not passed:
        return Verdict.CANNOT_RUN
    if scopes is not None and "repo" not in {scope.strip() for scope in scopes.split(",")}:
        return Verdict.NO_REPO
    return Verdict.ALIVE


@dataclass(frozen=True, slots=True)
class CanaryView:
    """A canary, the GitHub-dispatch webhooks whose token it asks about, and what it last
    found (None before its first run)."""

    canary: Canary
    name: str
    webhooks: tuple[Webhook, ...]
    state: CanaryState | None

    def warnings(self, now: datetime) -> list[str]:
        """What the digest says every day until it changes: a token without the repo scope,
        an expiry within two weeks. (A dead token is an incident.)"""
        if self.state is None:
            return []
        last = self.state.last
        found = []
        if last.verdict is Verdict.NO_REPO:
            found.append(
                f'the token\'s scopes are "{last.scopes}", without repo: the next dispatch '
                "to a private repository fails (GitHub answers 404)"
            )
        if last.expires is not None and last.expires - now <= EXPIRY_WARNING:
            left = last.expires - now
            when = f"{last.expires:%Y-%m-%d}"
            found.append(
                f"the token expired on {when}"
                if left <= timedelta(0)
                else f"the token expires on {when}, in {format_duration(left)}: rotate it before "
                "then"
            )
        return found


def views(webhooks: Sequence[Webhook], states: Mapping[str, CanaryState]) -> tuple[CanaryView, ...]:
    """Each canary among `webhooks`, with the webhooks it speaks for and what it found."""
    found = [(webhook, canary) for webhook in webhooks if (canary := recognise(webhook))]
    every = [canary for _, canary in found]
    return tuple(
        CanaryView(
            canary, webhook.name, spoken_for(canary, webhooks, every), states.get(canary.uuid)
        )
        for webhook, canary in found
    )


def spoken_for(
    canary: Canary, webhooks: Sequence[Webhook], canaries: Sequence[Canary]
) -> tuple[Webhook, ...]:
    """The GitHub-dispatch webhooks whose token `canary` asks about, among `canaries`: those
    seen to send its secret, or the one webhook it copies. Where the broker masks which secret
    a webhook sends (the open-source broker masks every Authorization header; PactFlow may),
    the only secret canary of the webhook's team asks about it: one machine user's token is
    the common case, and two canaries cannot tell whose it is."""
    copied = {other.webhook for other in canaries if other.webhook is not None}
    alone = [other for other in canaries if other.secret is not None and other.team == canary.team]
    return tuple(
        webhook
        for webhook in webhooks
        if canary.speaks_for(webhook)
        or (
            canary.secret is not None
            and len(alone) == 1
            and is_github(webhook.target)
            and webhook.secret is None
            and webhook.team == canary.team
            and webhook.uuid not in copied
        )
    )


def by_webhook(canaries: Iterable[CanaryView]) -> dict[str, CanaryState]:
    """What each GitHub-dispatch webhook's canary last found (by the webhook's uuid)."""
    return {
        webhook.uuid: view.state
        for view in canaries
        if view.state is not None
        for webhook in view.webhooks
    }


def secrets(webhooks: Iterable[Webhook]) -> dict[tuple[str, str | None], list[Webhook]]:
    """Each secret the GitHub-dispatch webhooks reference (with its PactFlow team), and
    those webhooks."""
    found: dict[tuple[str, str | None], list[Webhook]] = {}
    for webhook in webhooks:
        if is_github(webhook.target) and webhook.secret is not None:
            found.setdefault((webhook.secret, webhook.team), []).append(webhook)
    return found
