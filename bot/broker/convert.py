"""From the broker's JSON (`bot.broker.schema`) to pactbot's facts (`bot.domain.model`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import MappingProxyType
from urllib.parse import unquote

from bot.broker import schema
from bot.broker.hal import last_segment
from bot.domain.lint import inline_credentials
from bot.domain.model import (
    Execution,
    History,
    Pact,
    PairKey,
    PairRecord,
    ProviderVersions,
    Scope,
    TargetAnswer,
    Trigger,
    Verification,
    Webhook,
)
from bot.domain.webhook_logs import parse_log, target_message
from bot.domain.webhooks import dispatch_target

_SECRET = re.compile(r"\$\{user\.(\w+)\}")


def latest_per_pair(items: Iterable[schema.DashboardItem]) -> dict[PairKey, schema.DashboardItem]:
    """Collapse dashboard rows (one per tag or environment, too) to each pair's newest pact."""
    latest: dict[PairKey, schema.DashboardItem] = {}
    for item in items:
        key = PairKey(item.consumer, item.provider)
        known = latest.get(key)
        if known is None or item.published_at > known.published_at:
            latest[key] = item
    return latest


def to_record(
    key: PairKey, item: schema.DashboardItem, history: History | None = None
) -> PairRecord:
    """`item`, the dashboard row of the pair `key`, as pactbot's facts."""
    result = item.latest_verification_result
    return PairRecord(
        key=key,
        latest_pact=Pact(item.published_at, item.consumer_version or "", item.branch),
        latest_verification=(
            Verification(result.verified_at, result.success, item.provider_version)
            if result
            else None
        ),
        history=history,
    )


def _verification(
    result: schema.VerificationResult | None, provider: schema.Pacticipant
) -> Verification | None:
    if result is None:
        return None
    number = provider.version.number if provider.version else None
    return Verification(result.verified_at, result.success, number)


def to_history(
    rows: Sequence[schema.MatrixRow], pair: PairKey, latest_published: datetime, complete: bool
) -> History:
    """The newest verification of any content, and since when publications wait unverified."""
    own = rows_of(rows, pair)
    verified = [(row.verification_result, row.provider) for row in own if row.verification_result]
    newest = max(verified, key=lambda found: found[0].verified_at, default=None)
    waiting = waiting_run(own, pair)
    return History(
        newest_verification=_verification(*newest) if newest else None,
        waiting_since=min([latest_published, *(row.pact.created_at for row in waiting)]),
        complete=complete,
    )


def waiting_run(rows: Sequence[schema.MatrixRow], pair: PairKey) -> list[schema.MatrixRow]:
    """One row per unverified publication in the run that ends with the latest, newest first.

    The matrix has a row per consumer version and verifying provider version: a consumer
    version is verified when any of its rows is. The broker lists newer consumer versions
    first, which settles publications made within the same second (the sort is stable).
    """
    own = rows_of(rows, pair)
    verified = {_number(row) for row in own if row.verification_result is not None}
    run: dict[str, schema.MatrixRow] = {}
    for row in sorted(own, key=lambda row: row.pact.created_at, reverse=True):
        if _number(row) in verified:
            break
        run.setdefault(_number(row), row)
    return list(run.values())


def rows_of(rows: Sequence[schema.MatrixRow], pair: PairKey) -> list[schema.MatrixRow]:
    """The rows of one pair in a batched matrix answer."""
    return [row for row in rows if PairKey(row.consumer.name, row.provider.name) == pair]


def rows_by_pair(rows: Sequence[schema.MatrixRow]) -> dict[PairKey, list[schema.MatrixRow]]:
    """The rows of each pair in a batched matrix answer, in one pass over it."""
    found: dict[PairKey, list[schema.MatrixRow]] = {}
    for row in rows:
        found.setdefault(PairKey(row.consumer.name, row.provider.name), []).append(row)
    return found


def _number(row: schema.MatrixRow) -> str:
    return row.consumer.version.number if row.consumer.version else ""


def to_webhook(resource: schema.WebhookResource, github_api_url: str) -> Webhook:
    consumer, provider, request = resource.consumer, resource.provider, resource.request
    return Webhook(
        uuid=resource.uuid,
        description=resource.description or "",
        scope=Scope(
            consumer=consumer.name if consumer else None,
            provider=provider.name if provider else None,
            consumer_label=consumer.label if consumer else None,
            provider_label=provider.label if provider else None,
        ),
        enabled=resource.enabled,
        events=tuple(event.name for event in resource.events),
        method=request.method.upper(),
        url=request.url,
        target=dispatch_target(request.url, request.body, github_api_url, request.headers),
        inline_credentials=inline_credentials(request.url, request.headers, request.body),
        created_at=resource.created_at,
        secret=secret_reference(request.headers, request.url, request.body),
        team=resource.team,
    )


def secret_reference(headers: dict[str, str], url: str, body: object) -> str | None:
    """The secret the webhook's credential references: in its Authorization header
    (`Bearer ${user.githubToken}`) when the broker shows it (PactFlow; the open-source broker
    masks the header), else in its URL (GitLab's `?token=${user.…}`) or its body."""
    authorization = [value for name, value in headers.items() if name.lower() == "authorization"]
    for text in (*authorization, unquote(url), json.dumps(body)):
        if found := _SECRET.search(text):
            return found[1]
    return None


def to_trigger(entry: schema.TriggeredWebhook) -> Trigger:
    return Trigger(
        last_segment(entry.links.webhook.href), entry.event_name, entry.triggered_at, entry.status
    )


def to_provider_versions(
    resource: schema.PacticipantResource, main_branch_version: bool
) -> ProviderVersions:
    return ProviderVersions(
        any_version=resource.embedded.latest_version is not None,
        main_branch=resource.main_branch,
        main_branch_version=main_branch_version,
    )


def to_execution(logged: schema.LoggedExecution) -> Execution:
    return Execution(logged.created_at, parse_log(logged.logs, success=logged.success))


def answer_from_test(result: schema.ExecuteResult) -> TargetAnswer:
    """The target's answer in a Test result: the JSON where shown, else what the logs say."""
    from_logs = parse_log(result.logs, success=result.success)
    response = result.response
    if response is None:
        return TargetAnswer(
            success=result.success,
            status=from_logs.status,
            headers=from_logs.headers,
            message=from_logs.message,
            error=result.error.message if result.error else from_logs.error,
            hidden=result.message is not None or from_logs.hidden,
        )
    headers = {name.lower(): value for name, value in response.headers.items()}
    return TargetAnswer(
        success=result.success,
        status=response.status,
        headers=MappingProxyType(headers),
        message=target_message(response.body) or from_logs.message,
        error=None,
        hidden=False,
    )
