"""The facts pactbot reasons about, as plain immutable values.

They are built by `bot.broker` from the broker's answers and read by the pure functions of
`bot.domain`; nothing here knows HTTP, Slack or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
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


@dataclass(frozen=True, slots=True)
class Scope:
    """Which pacts a webhook fires for; a missing side means any pacticipant."""

    consumer: str | None = None
    provider: str | None = None
    consumer_label: str | None = None
    provider_label: str | None = None

    def covers(self, pair: PairKey) -> bool:
        # Label-scoped webhooks would need every pacticipant's labels; they are listed but not
        # matched to pairs (see README, "What pactbot does not read").
        if self.consumer_label or self.provider_label:
            return False
        return self.consumer in (None, pair.consumer) and self.provider in (None, pair.provider)

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


@dataclass(frozen=True, slots=True)
class DispatchTarget:
    """A GitHub `repository_dispatch` endpoint a webhook posts to."""

    api_url: str
    owner: str
    repo: str
    event_type: str | None

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def web_url(self) -> str:
        """Where people sign in and manage tokens: github.com, or the Enterprise host."""
        if self.api_url.rstrip("/") == "https://api.github.com":
            return "https://github.com"
        return self.api_url.rstrip("/").removesuffix("/api/v3")


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
    message: str | None = None  # GitHub's JSON `message`, e.g. "Bad credentials"
    error: str | None = None  # why no answer came: DNS, refused, TLS, timeout
    hidden: bool = False  # the broker's webhook host whitelist hides the answer


@dataclass(frozen=True, slots=True)
class Execution:
    """One real HTTP attempt of a webhook (never a Test: the broker records no Tests)."""

    at: datetime
    answer: TargetAnswer


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything read from the broker in one pass."""

    taken_at: datetime
    pairs: tuple[PairRecord, ...]
    webhooks: tuple[Webhook, ...]
    # Real executions per webhook uuid, for the webhooks whose history was read.
    executions: Mapping[str, tuple[Execution, ...]]
