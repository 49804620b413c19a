"""The state of a sample Pact Broker: pacts, verifications, webhooks and their executions.

It behaves like the real broker where pactbot can tell the difference: verifications belong to
pact *content* (re-publishing unchanged content carries the verification over);
`contract_requiring_verification_published` fires once per provider version that matters (the
latest of the provider's main branch, its deployed and released versions) and has not verified
the content, so a provider without such a version gets no dispatch at all; a real webhook
execution is recorded with every attempt, while a Test records nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

REQUIRING_VERIFICATION = "contract_requiring_verification_published"
CONTENT_CHANGED = "contract_content_changed"
PUBLISHED = "contract_published"
# The broker's `main_branch_candidates`: the first version on one of these sets the main branch.
MAIN_BRANCH_CANDIDATES = ("develop", "main", "master")
# The captured broker retried twice: 5 s after the first attempt, then 10 s after the second
# (offsets from the first attempt).
RETRY_DELAYS = (timedelta(seconds=5), timedelta(seconds=15))
# The broker's default schedule (`webhook_retry_schedule`: 10 s, 1, 2, 5, 10, 20 min apart): a
# failing dispatch is `retrying` for about 38 minutes before it is `failure`.
DEFAULT_RETRY_DELAYS = tuple(
    timedelta(seconds=sum((10, 60, 120, 300, 600, 1200)[: count + 1])) for count in range(6)
)
DISPATCH_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/vnd.github.everest-preview+json",
    "Authorization": "Bearer ${user.githubToken}",
}


@dataclass(frozen=True, slots=True)
class Target:
    """What a webhook's target answers: an HTTP status, or no answer at all (`error`)."""

    status: int | None = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: object = None
    error: str | None = None
    error_class: str = "Errno::ECONNREFUSED"

    @property
    def success(self) -> bool:
        return self.status is not None and 200 <= self.status <= 206


_GITHUB_HEADERS = {
    "server": "github.com",
    "content-type": "application/json; charset=utf-8",
    "x-github-media-type": "github.v3; format=json",
}
GITHUB_ACCEPTED = Target(204, {"server": "github.com", "x-oauth-scopes": "repo"})
GITHUB_BAD_CREDENTIALS = Target(
    401,
    _GITHUB_HEADERS,
    {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    },
)
GITHUB_NOT_FOUND = Target(
    404,
    _GITHUB_HEADERS,
    {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event",
    },
)

# Other CIs' answers, as `tests/fixtures/targets/` holds them (a test keeps them equal).
_JSON = {"content-type": "application/json"}
GITLAB_PIPELINE_CREATED = Target(
    201,
    _JSON,
    {
        "id": 287,
        "iid": 144,
        "project_id": 21,
        "sha": "50f0acb76a40e34a4ff304f7347dcc6587da8a14",
        "ref": "main",
        "status": "created",
        "source": "trigger",
        "web_url": "https://gitlab.example.com/acme/shipping/-/pipelines/287",
    },
)
GITLAB_TOKEN_UNKNOWN = Target(404, _JSON, {"message": "404 Not Found"})
AZURE_RUN_QUEUED = Target(
    200,
    _JSON,
    {
        "id": 1517,
        "name": "20261206.1",
        "state": "inProgress",
        "url": "https://dev.azure.com/acme/Orders/_apis/pipelines/12/runs/1517",
        "pipeline": {"id": 12, "name": "orders-verify"},
    },
)


# GitHub's answer to a live token asking it to render Markdown (POST /markdown): the HTML, and
# the headers that describe the token.
GITHUB_RENDERED = Target(
    200,
    {"content-type": "text/html;charset=utf-8", "x-oauth-scopes": "repo"},
    "<p>pactbot canary</p>",
)
_SECRET = re.compile(r"\$\{user\.(\w+)\}")


@dataclass(slots=True)
class Publication:
    consumer: str
    provider: str
    version: str
    branch: str | None
    content: str
    created_at: datetime
    order: int


@dataclass(slots=True)
class VersionRecord:
    number: str
    branch: str | None
    created_at: datetime
    order: int
    environments: set[str] = field(default_factory=set)  # deployed or released there now


@dataclass(slots=True)
class Pacticipant:
    name: str
    created_at: datetime
    main_branch: str | None = None
    labels: list[str] = field(default_factory=list)
    versions: dict[str, VersionRecord] = field(default_factory=dict)

    @property
    def latest_version(self) -> VersionRecord | None:
        return max(self.versions.values(), key=lambda version: version.order, default=None)

    def branch_versions(self, branch: str) -> list[VersionRecord]:
        return [version for version in self.versions.values() if version.branch == branch]


@dataclass(slots=True)
class VerificationRecord:
    id: int
    provider: str
    content: str
    provider_version: str
    provider_branch: str | None
    success: bool
    verified_at: datetime


@dataclass(slots=True)
class WebhookDefinition:
    uuid: str
    description: str
    consumer: str | None
    provider: str | None
    url: str
    events: list[str]
    target: Target
    enabled: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    body: object = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    consumer_label: str | None = None
    provider_label: str | None = None

    @property
    def token(self) -> str:
        """Which GitHub token it sends: the PactFlow secret its Authorization header
        references (`${user.<name>}`), else the header as written in."""
        sent = next((v for k, v in self.headers.items() if k.lower() == "authorization"), "")
        found = _SECRET.search(sent)
        return found[1] if found else sent


@dataclass(slots=True)
class Attempt:
    at: datetime
    target: Target


@dataclass(slots=True)
class TriggeredRecord:
    uuid: str
    webhook: WebhookDefinition
    publication: Publication
    event: str
    triggered_at: datetime
    attempts: list[Attempt]  # made and scheduled

    def made(self, now: datetime) -> list[Attempt]:
        """The attempts made by `now`."""
        return [attempt for attempt in self.attempts if attempt.at <= now]

    def status(self, now: datetime) -> str:
        made = self.made(now)
        if not made:
            return "not_run"
        if made[-1].target.success:
            return "success"
        return "retrying" if len(made) < len(self.attempts) else "failure"


class World:
    """A broker's data. Mutate it from tests; the server reads it under `lock`."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.show_responses = True  # the broker's webhook host whitelist is set
        self.deliver = True  # False: triggered webhooks wait for their first attempt (not_run)
        self.retry_delays = RETRY_DELAYS  # when a failed dispatch is tried again
        # PactFlow shows a `${user.<name>}` reference in a stored header; the open-source
        # broker masks every Authorization header (broker-api 5; PactFlow's is unconfirmed).
        self.shows_secret_references = False
        # The tokens GitHub no longer accepts, and what it says of the live ones, by
        # `WebhookDefinition.token` (a secret's name, such as githubToken).
        self.dead_tokens: set[str] = set()
        self.token_headers: dict[str, dict[str, str]] = {}
        self.publications: dict[tuple[str, str], list[Publication]] = {}
        self.verifications: dict[tuple[str, str], list[VerificationRecord]] = {}
        self.webhooks: dict[str, WebhookDefinition] = {}
        self.triggered: list[TriggeredRecord] = []
        self.known: dict[str, Pacticipant] = {}
        self._order = itertools.count(1)
        self._verification_ids = itertools.count(101)

    # -- building the story -----------------------------------------------------------------------

    def publish(
        self,
        consumer: str,
        provider: str,
        version: str,
        *,
        at: datetime,
        content: str | None = None,
        branch: str | None = "main",
    ) -> Publication:
        """Publish a pact; fire the webhooks a real broker would fire for it."""
        with self.lock:
            self.version(consumer, version, branch=branch, at=at)
            self._pacticipant(provider, at)
            publication = Publication(
                consumer, provider, version, branch, _sha(content or version), at, next(self._order)
            )
            earlier = self.publications.get((consumer, provider), [])
            changed = not earlier or earlier[-1].content != publication.content
            required = self._requiring_verification(provider, publication.content)
            self.publications.setdefault((consumer, provider), []).append(publication)
            for webhook in list(self.webhooks.values()):
                if not (webhook.enabled and self.covers(webhook, consumer, provider)):
                    continue
                if PUBLISHED in webhook.events:
                    self._trigger(webhook, publication, PUBLISHED, at)
                if CONTENT_CHANGED in webhook.events and changed:
                    self._trigger(webhook, publication, CONTENT_CHANGED, at)
                if REQUIRING_VERIFICATION in webhook.events:
                    for provider_version in required:
                        self._trigger(
                            webhook, publication, REQUIRING_VERIFICATION, at, provider_version
                        )
            return publication

    def version(
        self,
        pacticipant: str,
        number: str,
        *,
        branch: str | None = "main",
        at: datetime,
        environments: tuple[str, ...] = (),
    ) -> VersionRecord:
        """A version of `pacticipant` (made if new); the first on a main-branch candidate sets
        its main branch, as the broker's `auto_detect_main_branch` does."""
        with self.lock:
            known = self._pacticipant(pacticipant, at)
            found = known.versions.get(number)
            if found is None:
                found = VersionRecord(number, branch, at, next(self._order))
                known.versions[number] = found
            if known.main_branch is None and branch in MAIN_BRANCH_CANDIDATES:
                known.main_branch = branch
            found.environments.update(environments)
            return found

    def pacticipant(self, name: str) -> Pacticipant:
        """The pacticipant `name`, made now if new (the broker's `POST /pacticipants`)."""
        with self.lock:
            return self._pacticipant(name, self.clock())

    def label(self, pacticipant: str, label: str) -> None:
        with self.lock:
            self._pacticipant(pacticipant, self.clock()).labels.append(label)

    def covers(self, webhook: WebhookDefinition, consumer: str, provider: str) -> bool:
        """Whether the broker fires `webhook` for the pair, by name or by label."""
        return self._side(webhook.consumer, webhook.consumer_label, consumer) and self._side(
            webhook.provider, webhook.provider_label, provider
        )

    def _side(self, name: str | None, label: str | None, actual: str) -> bool:
        if label is not None:
            known = self.known.get(actual)
            return known is not None and label in known.labels
        return name in (None, actual)

    def _pacticipant(self, name: str, at: datetime) -> Pacticipant:
        if name not in self.known:
            self.known[name] = Pacticipant(name, at)
        return self.known[name]

    def _requiring_verification(self, provider: str, content: str) -> list[str]:
        """The provider versions a publication of `content` fires
        `contract_requiring_verification_published` for: the latest of the main branch and
        those deployed or released, that have not verified `content`."""
        known = self.known[provider]
        versions = []
        if known.main_branch is not None:
            on_main = known.branch_versions(known.main_branch)
            if on_main:
                versions.append(max(on_main, key=lambda version: version.order))
        versions += [version for version in known.versions.values() if version.environments]
        verified = {record.provider_version for record in self.verifications_of(provider, content)}
        return list(dict.fromkeys(v.number for v in versions if v.number not in verified))

    def verify(
        self,
        publication: Publication,
        *,
        at: datetime,
        success: bool = True,
        provider_version: str = "1.0.0",
        provider_branch: str | None = "main",
    ) -> VerificationRecord:
        with self.lock:
            self.version(publication.provider, provider_version, branch=provider_branch, at=at)
            record = VerificationRecord(
                next(self._verification_ids),
                publication.provider,
                publication.content,
                provider_version,
                provider_branch,
                success,
                at,
            )
            self.verifications.setdefault((publication.provider, publication.content), []).append(
                record
            )
            return record

    def add_webhook(
        self,
        uuid: str,
        *,
        url: str,
        target: Target = GITHUB_ACCEPTED,
        description: str = "",
        consumer: str | None = None,
        provider: str | None = None,
        events: tuple[str, ...] = (REQUIRING_VERIFICATION,),
        enabled: bool = True,
        headers: dict[str, str] | None = None,
        created_at: datetime | None = None,
        consumer_label: str | None = None,
        provider_label: str | None = None,
    ) -> WebhookDefinition:
        with self.lock:
            webhook = WebhookDefinition(
                uuid=uuid,
                description=description,
                consumer=consumer,
                provider=provider,
                url=url,
                events=list(events),
                target=target,
                enabled=enabled,
                headers=dict(DISPATCH_HEADERS if headers is None else headers),
                body=_dispatch_body(),
                created_at=created_at or self.clock(),
                consumer_label=consumer_label,
                provider_label=provider_label,
            )
            self.webhooks[uuid] = webhook
            return webhook

    def answer(self, webhook: WebhookDefinition) -> Target:
        """What the webhook's target answers now: GitHub refuses a dead token on every
        endpoint (one in `dead_tokens`, or one a dispatch that sends it is refused with); its
        Markdown endpoint renders for a live one, with the token's headers."""
        if webhook.token in self.dead_tokens:
            return GITHUB_BAD_CREDENTIALS
        if webhook.url.rstrip("/").endswith("/markdown"):
            # GitHub refuses a dead token everywhere: where a dispatch sending it answers 401.
            refused = any(
                other.token == webhook.token and other.target.status == 401
                for other in self.webhooks.values()
                if other is not webhook
            )
            if refused:
                return GITHUB_BAD_CREDENTIALS
            headers = GITHUB_RENDERED.headers | self.token_headers.get(webhook.token, {})
            return Target(GITHUB_RENDERED.status, headers, GITHUB_RENDERED.body)
        return webhook.target

    def _trigger(
        self,
        webhook: WebhookDefinition,
        publication: Publication,
        event: str,
        at: datetime,
        provider_version: str = "",
    ) -> None:
        first = at + timedelta(seconds=5)
        target = self.answer(webhook)
        attempts = [Attempt(first, target)] if self.deliver else []
        if attempts and not target.success:
            attempts += [Attempt(first + delay, target) for delay in self.retry_delays]
        uuid = _sha(f"{webhook.uuid}/{publication.order}/{event}/{provider_version}")[:32]
        uuid = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
        self.triggered.append(TriggeredRecord(uuid, webhook, publication, event, at, attempts))

    # -- reading, for the server ---------------------------------------------------------------

    def pairs(self) -> Iterator[tuple[str, str]]:
        return iter(sorted(self.publications))

    def latest(self, consumer: str, provider: str) -> Publication:
        return max(self.publications[(consumer, provider)], key=lambda pub: pub.order)

    def verifications_of(self, provider: str, content: str) -> list[VerificationRecord]:
        return self.verifications.get((provider, content), [])

    def latest_verification(self, publication: Publication) -> VerificationRecord | None:
        found = self.verifications_of(publication.provider, publication.content)
        return max(found, key=lambda record: record.id, default=None)

    def pacticipants(self) -> set[str]:
        return set(self.known)


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def _dispatch_body() -> dict[str, object]:
    return {
        "event_type": REQUIRING_VERIFICATION,
        "client_payload": {
            "pact_url": "${pactbroker.pactUrl}",
            "sha": "${pactbroker.providerVersionNumber}",
            "branch": "${pactbroker.providerVersionBranch}",
            "message": "Verify changed pact for ${pactbroker.consumerName} version "
            "${pactbroker.consumerVersionNumber}",
        },
    }


def render_body(body: object, values: dict[str, str]) -> str:
    """The webhook body as the broker sends it, with `${pactbroker.*}` filled in."""
    text = json.dumps(body, separators=(",", ":"))
    for name, value in values.items():
        text = text.replace("${pactbroker." + name + "}", value)
    return text
