"""The CI targets a Pact webhook triggers, one module each: how pactbot recognises one from the
webhook's request, what its answers mean, and how its credential is rotated.

A webhook to anything else is "a webhook to <host>", read by its HTTP class alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeGuard

from bot.domain.model import DEFAULT_GITHUB_API_URL, DispatchTarget, HealthKind, TargetAnswer
from bot.targets.azure_devops import AZURE_DEVOPS
from bot.targets.base import GENERIC, Ci, Meaning, Reading, generic
from bot.targets.bitbucket import BITBUCKET
from bot.targets.buildkite import BUILDKITE
from bot.targets.circleci import CIRCLECI
from bot.targets.github import GITHUB, dispatch
from bot.targets.gitlab import GITLAB
from bot.targets.jenkins import JENKINS
from bot.targets.travis import TRAVIS

REGISTRY: Mapping[str, Ci] = {
    ci.key: ci
    for ci in (GITHUB, GITLAB, AZURE_DEVOPS, BITBUCKET, CIRCLECI, BUILDKITE, JENKINS, TRAVIS)
}


def recognise(
    url: str,
    body: object,
    headers: Mapping[str, str],
    github_api_url: str = DEFAULT_GITHUB_API_URL,
) -> DispatchTarget | None:
    """The CI build a webhook's request triggers; None when no registered CI knows it. GitHub's
    API is the one GITHUB_API_URL names, as well as github.com's and an Enterprise Server's."""
    found = dispatch(url, body, headers, github_api_url)
    every = (ci.recognise(url, body, headers) for ci in REGISTRY.values())
    return found or next(filter(None, every), None)


def ci_of(target: DispatchTarget | None) -> Ci | None:
    return REGISTRY.get(target.ci) if target is not None else None


def label(target: DispatchTarget) -> str:
    """What a webhook triggers, in a line of Slack: `acme/orders-api` for a GitHub repository
    (what most webhooks trigger), `GitLab acme/shipping` for the others."""
    ci = ci_of(target)
    return target.slug if ci is None or ci is GITHUB else f"{ci.name} {target.slug}"


def named(target: DispatchTarget) -> str:
    """The CI and what it builds: `GitHub acme/orders-api`, `GitLab acme/shipping`."""
    ci = ci_of(target)
    return f"{ci.name if ci else 'CI'} {target.slug}"


def is_github(target: DispatchTarget | None) -> TypeGuard[DispatchTarget]:
    """Whether `target` is a GitHub repository: only there pactbot reads the runs a dispatch
    started (with GITHUB_TOKEN), and only there a canary can ask about the token."""
    return target is not None and target.ci == GITHUB.key


def they_trigger(targets: Iterable[DispatchTarget | None]) -> str:
    """What several webhooks do, in words: "dispatch to GitHub" when they all do."""
    return "dispatch to GitHub" if all(map(is_github, targets)) else "trigger CI builds"


def near(url: str) -> Ci | None:
    """The registered CI whose API `url` is on, trigger endpoint or not."""
    return next((ci for ci in REGISTRY.values() if ci.near(url)), None)


def read(answer: TargetAnswer, target: DispatchTarget | None) -> Reading:
    """What `answer` means from `target`: as its CI documents it, else by its HTTP class."""
    ci = ci_of(target)
    meaning = _meaning(answer, ci)
    words = {
        "{where}": ci.where(target) if ci and target else "the target",
        "{said}": f' "{answer.message}"' if answer.message else "",
        "{status}": str(answer.status),
        "{error}": str(answer.error),
        "{shown}": f"HTTP {answer.status}" if answer.status else "details hidden by the broker",
        "{token}": ci.token if ci else "token",
    }
    short = meaning.short if answer.status is not None else meaning.short.split(" (HTTP")[0]
    return Reading(
        meaning.kind,
        fill(short, words),
        fill(meaning.says, words),
        tuple(fill(fix, words) for fix in meaning.fix),
    )


def passed(answer: TargetAnswer, target: DispatchTarget | None) -> bool:
    """Whether `answer` started a build: `read(...).passed`, without its words."""
    return _meaning(answer, ci_of(target)).kind is HealthKind.OK


def _meaning(answer: TargetAnswer, ci: Ci | None) -> Meaning:
    documented = (d.meaning for d in ci.documented if d.matches(answer)) if ci else iter(())
    return next(documented, None) or GENERIC[generic(answer)]


def fill(text: str, words: Mapping[str, str]) -> str:
    """`text` with each placeholder replaced: never `str.format`, as texts hold `${user.x}`."""
    for placeholder, word in words.items():
        text = text.replace(placeholder, word)
    return text


__all__ = [
    "REGISTRY",
    "Ci",
    "Reading",
    "ci_of",
    "fill",
    "is_github",
    "label",
    "named",
    "near",
    "passed",
    "read",
    "recognise",
    "they_trigger",
]
