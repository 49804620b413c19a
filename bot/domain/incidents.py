"""Webhook incidents: a failing CI trigger, or one that did not fire, as an alert shows it.

`bot.domain.alerts` decides when each fires and is fixed; this module holds what an incident
is, how long its webhook has been in trouble, and how a reading describes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.domain.freshness import State
from bot.domain.model import HealthKind, PairKey, Scope, Webhook
from bot.domain.report import Report, WebhookView
from bot.domain.silences import Silence
from bot.targets import label

# The pairs an incident lists; the message says how many more wait.
KEPT_WAITERS = 25


@dataclass(frozen=True, slots=True)
class Waiter:
    """A pair that waits for a verification behind a webhook, as the latest reading saw it."""

    pair: PairKey
    state: State
    waiting_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Cause:
    """A failing CI-trigger webhook: an incident of its own, or the root cause of stale
    pairs that fired (its own incident alerting elsewhere, silenced, or not sustained yet)."""

    webhook: str  # the broker's id
    name: str
    repository: str
    health: str  # e.g. "token dead (401)"
    since: datetime | None  # the first failed dispatch, or the first publication left unsent
    incident: bool = False
    scope: Scope = field(default_factory=Scope)
    # The pairs behind it, most urgent first: every waiting one (up to KEPT_WAITERS) for an
    # incident, pending ones included; the stale ones that fired, for a cause only.
    pairs: tuple[Waiter, ...] = ()
    waiting: int = 0  # how many pairs wait behind it in all
    # The pairs it fires for (up to KEPT_WAITERS), and how many: a token found dead before
    # any publication blocks their next one.
    serves: tuple[PairKey, ...] = ()
    serving: int = 0
    detail: str | None = None  # why it did not fire, and what to run
    silenced_by: str | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None  # what made it healthy: "a Test passed"

    @property
    def open(self) -> bool:
        """An incident still firing."""
        return self.incident and self.resolved_at is None


def in_trouble(
    since: Mapping[str, datetime], views: Mapping[str, WebhookView], now: datetime
) -> dict[str, datetime]:
    """Since when each webhook has been failing, or has had a publication waiting for its
    dispatch, on every reading (`since`: as the last reading left it); a webhook whose
    executions were not read keeps its clock."""
    found = {}
    for uuid, view in views.items():
        health = view.health
        if not health.kind.read:
            if uuid in since:
                found[uuid] = since[uuid]
        elif health.failing or health.unanswered_since is not None:
            found[uuid] = since.get(uuid, now)
    return found


def incident(
    view: WebhookView,
    report: Report,
    before: Cause | None,
    silence: Silence | None,
    now: datetime,
) -> Cause:
    """The incident of a failing webhook, as this reading sees it."""
    webhook, health = view.webhook, view.health
    waiting = waiters(webhook, report)
    served = [row.key for row in report.covered(webhook.scope)]
    assert webhook.target is not None  # only CI triggers are incidents
    return Cause(
        webhook.uuid,
        webhook.name,
        label(webhook.target),
        health.describe(),
        health.since,
        incident=True,
        scope=webhook.scope,
        pairs=tuple(waiting[:KEPT_WAITERS]),
        waiting=len(waiting),
        serves=tuple(served[:KEPT_WAITERS]),
        serving=len(served),
        detail=health.unfired.explain() if health.unfired else None,
        silenced_by=silence.id if silence else None,
        fired_at=before.fired_at if before else now,
    )


def fix(cause: Cause, view: WebhookView | None, report: Report, now: datetime) -> Cause:
    """An incident healthy again at this reading, with the pairs that still wait behind it."""
    if view is None:
        return replace(cause, resolved_at=now, resolution="the webhook was deleted")
    health = view.health
    if cause.detail is not None:  # it did not fire: did it, since?
        fired = health.last_run is not None and cause.since and health.last_run >= cause.since
        said = "it fired" if fired else "no publication waits for it any more"
    elif health.tested is not None:
        said = "a Test passed"
    elif health.kind is HealthKind.OK:
        said = "a real dispatch succeeded"
    elif health.kind is HealthKind.DISABLED:
        said = "it was disabled"
    else:
        said = "no dispatch of it fails any more"
    waiting = waiters(view.webhook, report)
    return replace(
        cause,
        resolved_at=now,
        resolution=said,
        pairs=tuple(waiting[:KEPT_WAITERS]),
        waiting=len(waiting),
    )


def waiters(webhook: Webhook, report: Report) -> list[Waiter]:
    """The pairs behind `webhook` whose latest pact waits for a verification, most urgent
    first."""
    return [
        Waiter(row.key, row.state, row.freshness.waiting_since)
        for row in report.waiting_behind(webhook)
    ]


def causes(report: Report) -> dict[str, Cause]:
    """Each failing CI trigger as the cause of the stale pairs it explains."""
    return {
        view.webhook.uuid: Cause(
            view.webhook.uuid,
            view.webhook.name,
            label(view.webhook.target),
            view.health.describe(),
            view.health.since,
            scope=view.webhook.scope,
        )
        for view in report.failing_webhooks
        if view.webhook.target is not None
    }
