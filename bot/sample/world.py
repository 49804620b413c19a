"""The state of a sample Pact Broker: pacts, verifications, webhooks and their executions.

It behaves like the real broker where pactbot can tell the difference: verifications belong to
pact *content* (re-publishing unchanged content carries the verification over and fires no
`contract_requiring_verification_published`), and a real webhook execution is recorded with
every attempt, while a Test records nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

REQUIRING_VERIFICATION = "contract_requiring_verification_published"
# The captured broker retried twice: 5 s after the first attempt, then 10 s after the second.
RETRY_DELAYS = (timedelta(seconds=5), timedelta(seconds=15))
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

    def covers(self, consumer: str, provider: str) -> bool:
        return self.consumer in (None, consumer) and self.provider in (None, provider)


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
    attempts: list[Attempt]

    @property
    def status(self) -> str:
        if not self.attempts:
            return "not_run"
        return "success" if self.attempts[-1].target.success else "failure"


class World:
    """A broker's data. Mutate it from tests; the server reads it under `lock`."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.show_responses = True  # the broker's webhook host whitelist is set
        self.deliver = True  # False: triggered webhooks wait for their first attempt (not_run)
        self.publications: dict[tuple[str, str], list[Publication]] = {}
        self.verifications: dict[tuple[str, str], list[VerificationRecord]] = {}
        self.webhooks: dict[str, WebhookDefinition] = {}
        self.triggered: list[TriggeredRecord] = []
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
            publication = Publication(
                consumer, provider, version, branch, _sha(content or version), at, next(self._order)
            )
            needs_verification = not self.verifications_of(provider, publication.content)
            self.publications.setdefault((consumer, provider), []).append(publication)
            for webhook in list(self.webhooks.values()):
                fires = webhook.enabled and webhook.covers(consumer, provider)
                if fires and REQUIRING_VERIFICATION in webhook.events and needs_verification:
                    self._trigger(webhook, publication, REQUIRING_VERIFICATION, at)
                if fires and "contract_published" in webhook.events:
                    self._trigger(webhook, publication, "contract_published", at)
            return publication

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
            )
            self.webhooks[uuid] = webhook
            return webhook

    def _trigger(
        self, webhook: WebhookDefinition, publication: Publication, event: str, at: datetime
    ) -> None:
        first = at + timedelta(seconds=5)
        attempts = [Attempt(first, webhook.target)] if self.deliver else []
        if attempts and not webhook.target.success:
            attempts += [Attempt(first + delay, webhook.target) for delay in RETRY_DELAYS]
        uuid = _sha(f"{webhook.uuid}/{publication.order}/{event}")[:32]
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
        return {name for pair in self.publications for name in pair}


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
