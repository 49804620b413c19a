"""What every CI target is made of: how a webhook's request is recognised as its trigger, what
its answers mean, and the steps that rotate the credential it takes.

Each CI is one module of data (`bot.targets.github`, `bot.targets.gitlab`, ...). An answer a
CI documents (or its public source shows: `tests/fixtures/targets/SOURCES.md`) has its own
meaning; any other is read by its HTTP class alone, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.domain.model import DispatchTarget, HealthKind, TargetAnswer

# The broker's webhook host whitelist: without it, the broker hides the target's answer.
WHITELIST = (
    "the broker's webhook host whitelist (PACT_BROKER_WEBHOOK_HOST_WHITELIST, e.g. "
    '"api.github.com") makes Tests and logs show the target\'s answer'
)

NEVER_IN_SLACK = (
    ":no_entry: Never paste it into Slack: pactbot refuses it, and a token typed here is "
    "exposed and must be revoked."
)

# (url, body, headers): the target a webhook's request triggers, or None.
Recognise = Callable[[str, object, Mapping[str, str]], DispatchTarget | None]


@dataclass(frozen=True, slots=True)
class Meaning:
    """What an answer means: its class, a few words for a table cell, the Test's headline and
    what to do. The texts may hold {where} (the CI and what it builds), {said} (the CI's own
    message), {status}, {error}, {shown} and {token} (what its credential is called)."""

    kind: HealthKind
    short: str
    says: str
    fix: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Documented:
    """An answer of the CI's trigger endpoint that it documents, and what it means."""

    status: int
    meaning: Meaning
    # What else tells this answer from others with its status: a header, GitHub's message.
    when: Callable[[TargetAnswer], bool] | None = None

    def matches(self, answer: TargetAnswer) -> bool:
        return answer.status == self.status and (self.when is None or self.when(answer))


@dataclass(frozen=True, slots=True)
class Step:
    """A step of the rotation: its title and what to do, in Slack mrkdwn; `{link}` is where
    `link` (label, URL) goes, `{account}` who holds the credential."""

    title: str
    text: str
    link: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Runbook:
    """The CI's own words for the steps of the field guide's rotation that differ by CI."""

    confirm: str  # step 1: what answer of the Test confirms the diagnosis
    sign_in: Step  # step 2
    generate: Step  # step 3
    copy: str  # step 4, before the warning every CI's step 4 carries (NEVER_IN_SLACK)
    revoke: Step  # step 8


@dataclass(frozen=True, slots=True)
class Ci:
    """One CI a Pact webhook triggers."""

    key: str  # in the config (`rotation.accounts.<key>`) and in `DispatchTarget.ci`
    name: str  # GitHub, GitLab, Azure DevOps
    token: str  # what its credential is called: "token", "pipeline trigger token", "PAT"
    account: str  # who holds that credential, in words, when the config does not name them
    recognise: Recognise
    runbook: Callable[[DispatchTarget, str], Runbook]  # (target, the new credential's note)
    runs: Callable[[DispatchTarget], str]  # where the builds it starts are listed
    runs_name: str  # "its Actions", "its pipelines"
    # Whether a URL is this CI's API at all: one that is, but is no trigger endpoint, starts
    # nothing (the lint says so, with `endpoint`).
    near: Callable[[str], bool]
    endpoint: str
    not_a_trigger: str  # what the lint says of a webhook to its API that triggers nothing
    documented: tuple[Documented, ...] = ()
    expiry_header: str | None = None  # a response header that says when the credential expires
    where_it_sits: str = "in the webhook"  # where the webhook sends the credential

    def where(self, target: DispatchTarget) -> str:
        return f"{self.name} ({target.slug})"


def on_host(host: str) -> Callable[[str], bool]:
    """Whether a URL is on `host`."""
    return lambda url: urlsplit(url).hostname == host


def says(*words: str) -> Callable[[TargetAnswer], bool]:
    """Whether the CI's own message holds one of `words`."""
    return lambda answer: any(word in (answer.message or "") for word in words)


def generic(answer: TargetAnswer) -> HealthKind:
    """The class of an answer by HTTP alone."""
    if answer.success:
        return HealthKind.OK
    if answer.error:
        return HealthKind.UNREACHABLE
    status = answer.status
    if status is None:
        return HealthKind.HIDDEN if answer.hidden else HealthKind.FAILING
    by_status = {401: HealthKind.TOKEN_DEAD, 403: HealthKind.FORBIDDEN, 404: HealthKind.NO_ACCESS}
    if status in by_status:
        return by_status[status]
    if status == 422:
        return HealthKind.REJECTED
    if status >= 500:
        return HealthKind.TARGET_ERROR
    return HealthKind.FAILING


# What each class means when the CI does not say more: worded for any target.
GENERIC: dict[HealthKind, Meaning] = {
    HealthKind.OK: Meaning(
        HealthKind.OK,
        "ok",
        "{where} accepted the request ({shown}): the provider's verification should start.",
    ),
    HealthKind.TOKEN_DEAD: Meaning(
        HealthKind.TOKEN_DEAD,
        "token dead ({status})",
        "{where} rejected the {token} (HTTP {status}{said}): the {token} in the broker's secret "
        "is expired, revoked or wrong.",
        (
            "Rotate it: a new {token} from the account the webhooks use, pasted into the secret "
            "the webhook references, then Test again.",
        ),
    ),
    HealthKind.FORBIDDEN: Meaning(
        HealthKind.FORBIDDEN,
        "forbidden (403)",
        "{where} refused the request (HTTP 403{said}).",
        ("The {token} lacks a permission, or a rate limit: read the message above.",),
    ),
    HealthKind.NO_ACCESS: Meaning(
        HealthKind.NO_ACCESS,
        "no access (404)",
        "{where} answered 404{said}: what the webhook triggers does not exist, or the {token} "
        "cannot see it.",
        ("Check the URL, and that the {token}'s account may start builds there.",),
    ),
    HealthKind.REJECTED: Meaning(
        HealthKind.REJECTED,
        "body rejected (422)",
        "{where} rejected the request body (HTTP 422{said}).",
    ),
    HealthKind.TARGET_ERROR: Meaning(
        HealthKind.TARGET_ERROR,
        "target error ({status})",
        "{where} failed (HTTP {status}{said}): an outage on its side.",
        ("Test again later.",),
    ),
    HealthKind.UNREACHABLE: Meaning(
        HealthKind.UNREACHABLE,
        "target unreachable",
        "The broker could not reach {where}: {error}.",
        ("Check DNS, firewall and proxy settings between the broker and the target.",),
    ),
    HealthKind.HIDDEN: Meaning(
        HealthKind.HIDDEN,
        "failing (answer hidden)",
        "The Test failed, but the broker hides what {where} answered, so a dead {token} "
        "cannot be told from a missing project or a timeout.",
        (f"Setting {WHITELIST}.",),
    ),
    HealthKind.FAILING: Meaning(
        HealthKind.FAILING,
        "failing (HTTP {status})",
        "{where} answered HTTP {status}{said}.",
    ),
}


@dataclass(frozen=True, slots=True)
class Reading:
    """An answer read for one target: what it means, with the words filled in."""

    kind: HealthKind
    short: str
    headline: str
    fix: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.kind is HealthKind.OK
