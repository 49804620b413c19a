"""The broker's JSON, as far as pactbot reads it (shapes: shared/broker-api/fixtures/).

Unknown keys are ignored; a key we need that is missing or of the wrong type fails validation,
which the client reports as a bad answer naming the endpoint and the field.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasPath, AwareDatetime, BaseModel, ConfigDict, Field


class _Json(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Link(_Json):
    href: str
    title: str | None = None
    name: str | None = None


Links = dict[str, Link | list[Link]]


class Index(_Json):
    links: Links = Field(alias="_links")


class Version(_Json):
    number: str
    branch: str | None = None


class Pacticipant(_Json):
    name: str
    version: Version | None = None


class PublishedPact(_Json):
    created_at: AwareDatetime = Field(alias="createdAt")
    links: dict[str, Link] = Field(default_factory=dict, alias="_links")


class VerificationResult(_Json):
    success: bool
    verified_at: AwareDatetime = Field(alias="verifiedAt")


class DashboardItem(_Json):
    """One dashboard row, flattened to what pactbot reads: a large broker's dashboard is
    thousands of rows, read every few minutes, and each nested model is an object more."""

    consumer: str = Field(validation_alias=AliasPath("consumer", "name"))
    consumer_version: str | None = Field(
        None, validation_alias=AliasPath("consumer", "version", "number")
    )
    branch: str | None = Field(None, validation_alias=AliasPath("consumer", "version", "branch"))
    provider: str = Field(validation_alias=AliasPath("provider", "name"))
    provider_version: str | None = Field(
        None, validation_alias=AliasPath("provider", "version", "number")
    )
    published_at: AwareDatetime = Field(validation_alias=AliasPath("pact", "createdAt"))
    # Present and null when the latest pact's content was never verified.
    latest_verification_result: VerificationResult | None = Field(
        validation_alias="latestVerificationResult"
    )
    webhook_status: str = Field(validation_alias=AliasPath("_links", "pb:webhook-status", "href"))


class Dashboard(_Json):
    items: list[DashboardItem]


class MatrixRow(_Json):
    consumer: Pacticipant
    provider: Pacticipant
    pact: PublishedPact
    verification_result: VerificationResult | None = Field(alias="verificationResult")


class Matrix(_Json):
    matrix: list[MatrixRow]


class WebhookListLinks(_Json):
    webhooks: list[Link] = Field(default_factory=list, alias="pb:webhooks")


class WebhookList(_Json):
    links: WebhookListLinks = Field(alias="_links")


class WebhookSelector(_Json):
    name: str | None = None
    label: str | None = None


class WebhookRequest(_Json):
    method: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None


class WebhookEvent(_Json):
    name: str


class WebhookLinks(_Json):
    # Only the Test needs it; a webhook without it can still be watched.
    execute: Link | None = Field(default=None, alias="pb:execute")
    # A label-scoped side links to the pacticipants that carry the label.
    consumers: Link | None = Field(default=None, alias="pb:consumers")
    providers: Link | None = Field(default=None, alias="pb:providers")


class WebhookResource(_Json):
    uuid: str
    description: str | None = None
    consumer: WebhookSelector | None = None
    provider: WebhookSelector | None = None
    enabled: bool = True
    request: WebhookRequest
    events: list[WebhookEvent] = Field(default_factory=list)
    created_at: AwareDatetime | None = Field(default=None, alias="createdAt")
    team: str | None = Field(default=None, alias="teamUuid")  # PactFlow
    links: WebhookLinks = Field(alias="_links")


class TriggeredWebhookLinks(_Json):
    logs: Link = Field(alias="pb:logs")
    webhook: Link = Field(alias="pb:webhook")


class TriggeredWebhook(_Json):
    status: str  # not_run, retrying, success, failure
    event_name: str = Field(default="", alias="eventName")
    triggered_at: AwareDatetime = Field(alias="triggeredAt")
    links: TriggeredWebhookLinks = Field(alias="_links")


class TriggeredWebhooks(_Json):
    triggered_webhooks: list[TriggeredWebhook] = Field(
        default_factory=list, alias="triggeredWebhooks"
    )


class TriggeredWebhookList(_Json):
    """A pair's webhook status, or the webhooks one publication triggered: the same list."""

    embedded: TriggeredWebhooks = Field(alias="_embedded")


class LoggedExecution(_Json):
    success: bool
    logs: str
    created_at: AwareDatetime = Field(alias="createdAt")


class TriggeredWebhookLogs(_Json):
    executions: list[LoggedExecution]


class ExecuteError(_Json):
    message: str


class ExecuteResponse(_Json):
    status: int
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None


class ExecuteResult(_Json):
    """The answer of `POST /webhooks/{uuid}/execute`: always HTTP 200, the verdict is inside."""

    error: ExecuteError | None = None
    response: ExecuteResponse | None = None
    message: str | None = None  # present when the broker hides the target's answer
    logs: str = ""
    success: bool


class Label(_Json):
    name: str


class PacticipantEmbedded(_Json):
    latest_version: Version | None = Field(default=None, alias="latestVersion")
    labels: list[Label] = Field(default_factory=list)


class PacticipantResource(_Json):
    """`GET /pacticipants/{name}`, or one of a list's `_embedded.pacticipants`."""

    name: str
    main_branch: str | None = Field(default=None, alias="mainBranch")
    embedded: PacticipantEmbedded = Field(default_factory=PacticipantEmbedded, alias="_embedded")


class Branch(_Json):
    """`GET /pacticipants/{name}/branches/{branch}`: there only once a version is on it."""

    name: str


class Pacticipants(_Json):
    pacticipants: list[PacticipantResource] = Field(default_factory=list)


class PacticipantListLinks(_Json):
    next: Link | None = None


class PacticipantList(_Json):
    """`GET /pacticipants/label/{label}` (and `/pacticipants`), paged when asked to be."""

    embedded: Pacticipants = Field(default_factory=Pacticipants, alias="_embedded")
    links: PacticipantListLinks = Field(default_factory=PacticipantListLinks, alias="_links")
