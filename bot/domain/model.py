"""The facts pactbot reasons about, as plain immutable values.

They are built by `bot.broker` from the broker's answers and read by the pure functions of
`bot.domain`; nothing here knows HTTP, Slack or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

# Events after which the broker expects a provider verification: a webhook listening to one of
# them is the one whose failure leaves pairs waiting.
VERIFICATION_EVENTS = frozenset(
    {
        "contract_requiring_verification_published",
        "contract_content_changed",
        "contract_published",
    }
)


@dataclass(frozen=True, slots=True, order=True)
class PairKey:
    """One consumer and one provider with a pact between them."""

    consumer: str
    provider: str

    def __str__(self) -> str:
        return f"{self.consumer} → {self.provider}"


@dataclass(frozen=True, slots=True)
class Pact:
    """The latest publication of a pair's pact."""

    published_at: datetime
    consumer_version: str
    branch: str | None = None


@dataclass(frozen=True, slots=True)
class Verification:
    verified_at: datetime
    success: bool
    provider_version: str | None = None


@dataclass(frozen=True, slots=True)
class History:
    """What the matrix says about a pair whose latest pact content is not verified yet."""

    newest_verification: Verification | None
    # The first publication of the run of unverified publications that ends with the latest
    # pact: re-publishing unchanged content on every consumer build must not reset the wait.
    waiting_since: datetime
    # False when the matrix's row limit cut the history before any verification showed up.
    complete: bool = True


@dataclass(frozen=True, slots=True)
class PairRecord:
    key: PairKey
    latest_pact: Pact
    # The newest verification of the latest pact's *content* (any consumer version with the
    # same content counts), as the dashboard reports it.
    latest_verification: Verification | None
    history: History | None = None

    @property
    def awaits_verification(self) -> bool:
        return self.latest_verification is None


# Each label a webhook is scoped by, and the pacticipants that carry it.
Labelled = Mapping[str, frozenset[str]]
NO_LABELS: Labelled = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Scope:
    """Which pacts a webhook fires for; a missing side means any pacticipant.

    Each side is a name, a label, or neither, as the broker matches them
    (`webhooks/repository.rb`, `find_by_consumer_and_or_provider`).
    """

    consumer: str | None = None
    provider: str | None = None
    consumer_label: str | None = None
    provider_label: str | None = None

    def covers(self, pair: PairKey, labelled: Labelled = NO_LABELS) -> bool:
        """Whether the broker fires this webhook for `pair`; a label side matches only the
        pacticipants `labelled` lists under it (unread labels match nothing)."""
        if self.consumer_label is None and self.provider_label is None:
            # Asked for every pair of every webhook at each read: the common case, inline.
            return self.consumer in (None, pair.consumer) and self.provider in (None, pair.provider)
        return _side(self.consumer, self.consumer_label, pair.consumer, labelled) and _side(
            self.provider, self.provider_label, pair.provider, labelled
        )

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for label in (self.consumer_label, self.provider_label) if label)

    def __str__(self) -> str:
        consumer = self.consumer or (
            f"consumers labelled {self.consumer_label}" if self.consumer_label else None
        )
        provider = self.provider or (
            f"providers labelled {self.provider_label}" if self.provider_label else None
        )
        if consumer and provider:
            return f"{consumer} → {provider}"
        if provider:
            return f"every consumer of {provider}"
        if consumer:
            return f"every provider of {consumer}"
        return "every pact"


def _side(name: str | None, label: str | None, actual: str, labelled: Labelled) -> bool:
    if label is not None:
        return actual in labelled.get(label, frozenset())
    return name in (None, actual)


DEFAULT_GITHUB_API_URL = "https://api.github.com"


@dataclass(frozen=True, slots=True)
class Advice:
    """A lint finding about a target's request: its `Lint` value, the problem and the fix."""

    kind: str
    problem: str
    fix: str


@dataclass(frozen=True, slots=True)
class DispatchTarget:
    """The CI build a webhook triggers, as `bot.targets` recognises it from its request: a
    GitHub `repository_dispatch`, a GitLab pipeline trigger, an Azure DevOps pipeline run..."""

    api_url: str
    owner: str  # what holds it: a GitHub owner, a GitLab group, an Azure DevOps organisation
    repo: str  # what is built: a repository, a project, a pipeline, a job
    event_type: str | None  # GitHub's repository_dispatch `event_type`
    ci: str = "github"  # its key in `bot.targets.REGISTRY`
    web: str | None = None  # where people sign in and manage credentials, when not GitHub's
    pipeline: str | None = None  # Azure DevOps: the pipeline (definition) it runs
    # What the lint says of the request itself: no event_type, a retired host...
    advice: tuple[Advice, ...] = ()

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.repo}" if self.owner else self.repo

    @property
    def web_url(self) -> str:
        """Where people sign in and manage credentials: github.com, or the Enterprise host."""
        if self.web is not None:
            return self.web
        if self.api_url.rstrip("/") == DEFAULT_GITHUB_API_URL:
            return "https://github.com"
        return self.api_url.rstrip("/").removesuffix("/api/v3")


class HealthKind(StrEnum):
    """What one answer of a webhook's target (or its history) says, as a CI-agnostic class."""

    OK = "ok"
    TOKEN_DEAD = "token_dead"
    FORBIDDEN = "forbidden"
    NO_ACCESS = "no_access"
    REJECTED = "rejected"
    TARGET_ERROR = "target_error"
    UNREACHABLE = "unreachable"
    HIDDEN = "hidden"
    FAILING = "failing"
    DID_NOT_FIRE = "did_not_fire"
    NEVER_RUN = "never_run"
    DISABLED = "disabled"
    NOT_CHECKED = "not_checked"
    UNKNOWN = "unknown"  # the broker refused to show its executions

    @property
    def failing(self) -> bool:
        return self in _FAILING

    @property
    def read(self) -> bool:
        """Whether its executions were read: an unread webhook is neither failing nor well."""
        return self not in (HealthKind.NOT_CHECKED, HealthKind.UNKNOWN)


_FAILING = frozenset(HealthKind) - {
    HealthKind.OK,
    HealthKind.NEVER_RUN,
    HealthKind.DISABLED,
    HealthKind.NOT_CHECKED,
    HealthKind.UNKNOWN,
}


@dataclass(frozen=True, slots=True)
class Webhook:
    uuid: str
    description: str
    scope: Scope
    enabled: bool
    events: tuple[str, ...]
    method: str
    url: str
    target: DispatchTarget | None = None
    # Where a credential is written into the request itself instead of a `${user.<secret>}`
    # reference (`header Authorization`, `body client_payload.token`); never the value.
    inline_credentials: tuple[str, ...] = ()
    # The broker fires a webhook only for events after it exists.
    created_at: datetime | None = None
    # The PactFlow secret its Authorization header references (`${user.<name>}`), where the
    # broker shows it; PactFlow's team, whose secrets only its webhooks may use.
    secret: str | None = None
    team: str | None = None

    @property
    def triggers_verification(self) -> bool:
        return any(event in VERIFICATION_EVENTS for event in self.events)

    @property
    def name(self) -> str:
        return self.description or self.uuid


@dataclass(frozen=True, slots=True)
class TargetAnswer:
    """What the webhook's target answered, as far as the broker lets us see it."""

    success: bool
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    message: str | None = None  # the CI's own error text, e.g. GitHub's "Bad credentials"
    error: str | None = None  # why no answer came: DNS, refused, TLS, timeout
    hidden: bool = False  # the broker's webhook host whitelist hides the answer


@dataclass(frozen=True, slots=True)
class Execution:
    """One real HTTP attempt of a webhook (never a Test: the broker records no Tests)."""

    at: datetime
    answer: TargetAnswer


@dataclass(frozen=True, slots=True)
class Trigger:
    """A triggered webhook: the broker fired `webhook` for an event of a pair."""

    webhook: str  # the webhook's id
    event: str
    at: datetime  # when the event created it (a publication's own time), not when it ran
    status: str  # not_run, retrying, success, failure


@dataclass(frozen=True, slots=True)
class ProviderVersions:
    """What decides whether the broker fires `contract_requiring_verification_published` for a
    provider: it fires only for the latest version of its main branch and its deployed and
    released versions (`verifications/service.rb`, `calculate_required_verifications_for_pact`).
    """

    any_version: bool
    main_branch: str | None
    main_branch_version: bool  # a version on the main branch exists


class Unseen(StrEnum):
    """A part of the broker pactbot reads only to explain freshness, not to judge it."""

    WEBHOOKS = "webhooks"  # the list of webhooks
    WEBHOOK = "webhook"  # one webhook
    STATUS = "webhook_status"  # a pair's webhook status: the executions
    LOGS = "logs"  # a triggered webhook's logs: what the target answered
    LABELS = "labels"  # the pacticipants with a label


@dataclass(frozen=True, slots=True)
class Blind:
    """A read the broker refused (403, or 404 where the resource is optional): what, where
    (the URL's path), its status, and what it was about (a webhook, a pair, a label)."""

    what: Unseen
    path: str
    status: int
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything read from the broker in one pass."""

    taken_at: datetime
    pairs: tuple[PairRecord, ...]
    webhooks: tuple[Webhook, ...]
    # Real executions per webhook uuid, for the webhooks whose history was read.
    executions: Mapping[str, tuple[Execution, ...]]
    # The newest trigger per webhook and event, for each pair whose webhook status was read.
    triggers: Mapping[PairKey, tuple[Trigger, ...]] = field(default_factory=dict)
    # For providers a webhook did not fire for: why the broker had nothing to fire for.
    providers: Mapping[str, ProviderVersions] = field(default_factory=dict)
    labelled: Labelled = field(default_factory=lambda: NO_LABELS)
    # What the credentials could not read: freshness stands, these parts are unknown.
    blind: tuple[Blind, ...] = ()
    # The webhooks whose executions could not be read (their statuses were refused).
    unread: frozenset[str] = frozenset()
