"""The field guide's diagnosis in one answer: evidence, a verdict, and the next step.

The evidence is the webhook Test's result, the webhook's last real execution against how
recently consumers published, the provider repository's recent `repository_dispatch` runs when
GitHub can be asked, and the webhook's lint. The verdict names the first thing to fix: a dead
token before a hidden answer, before a disabled webhook, before the wrong event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.domain.explain import TestReport
from bot.domain.lint import MEANT_EVENT, Finding, Lint, lint
from bot.domain.model import HealthKind, Scope, Webhook
from bot.domain.report import PairRow, Report, WebhookView
from bot.duration import format_duration
from bot.targets import ci_of, is_github
from bot.targets.base import WHITELIST

# A real trigger's first attempt runs seconds after the publication; allow for a slow broker.
_FIRES_WITHIN = timedelta(minutes=10)
RUNS_HINT = "Set GITHUB_TOKEN to see the provider's runs."


class DispatchRun(Protocol):
    """A GitHub Actions run started by `repository_dispatch`, as far as a diagnosis reads it."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def status(self) -> str | None: ...
    @property
    def conclusion(self) -> str | None: ...
    @property
    def html_url(self) -> str: ...
    @property
    def display_title(self) -> str: ...


class Verdict(StrEnum):
    TOKEN_DEAD = "token dead: start rotation"
    HIDDEN = "the broker hides the target's answer: set its webhook host whitelist"
    DISABLED = "webhook disabled"
    DID_NOT_FIRE = "the broker did not fire the webhook"
    EVERY_PUBLISH = "listens to contract_published: fires on every publish"
    DISPATCH_FAILS = "the dispatch fails"
    UNKNOWN = "cannot tell without the Test"
    NO_WEBHOOK = "no webhook reaches this provider"
    UNSEEN = "the webhooks cannot be read with these credentials"
    HEALTHY = "all healthy"


@dataclass(frozen=True, slots=True)
class Facts:
    """What a diagnosis is made from; `runs` None means GitHub could not be asked."""

    provider: str
    webhook: WebhookView | None
    pairs: Sequence[PairRow]
    test: TestReport | None = None
    test_skipped: str | None = None  # why the Test did not run
    runs: Sequence[DispatchRun] | None = None
    runs_skipped: str | None = None  # why GitHub could not be asked, though it was set up


@dataclass(frozen=True, slots=True)
class Diagnosis:
    provider: str
    verdict: Verdict
    next_step: str
    webhook: WebhookView | None
    test: str | None  # the Test's headline, or why it did not run
    evidence: tuple[str, ...]
    runs: tuple[DispatchRun, ...] | None
    findings: tuple[Finding, ...]


def facts_from(report: Report, provider: str | None, webhook: Webhook | None) -> Facts:
    """The facts `report` holds about `webhook` and the pairs of `provider` (None: every pair
    the webhook serves) it serves; the Test and the runs are added by whoever can get them."""
    view = next((view for view in report.webhooks if webhook and view.webhook == webhook), None)
    scope = webhook.scope if webhook else Scope(provider=provider)
    pairs = [row for row in report.covered(scope) if provider in (None, row.key.provider)]
    return Facts(provider or str(scope), view, pairs)


def diagnose(facts: Facts, now: datetime) -> Diagnosis:
    """Judge `facts` at `now`."""
    view, test = facts.webhook, facts.test
    expires = test.expires if test else None
    findings = tuple(lint(view.webhook, expires=expires, now=now)) if view else ()
    verdict = _verdict(facts, {finding.kind for finding in findings})
    said = test.headline if test else facts.test_skipped
    return Diagnosis(
        provider=facts.provider,
        verdict=verdict,
        next_step=_next_step(verdict, facts, bool(findings)),
        webhook=view,
        test=f"The Test did not run: {said}" if test is None and said else said,
        evidence=tuple(_evidence(facts, now)),
        runs=tuple(facts.runs) if facts.runs is not None else None,
        findings=findings,
    )


def _verdict(facts: Facts, linted: set[Lint]) -> Verdict:
    view, test = facts.webhook, facts.test
    if view is None:
        unseen = any(row.unseen for row in facts.pairs)
        return Verdict.UNSEEN if unseen else Verdict.NO_WEBHOOK
    # Without a Test, the newest real execution says what the target answers.
    kind = test.kind if test else view.health.kind
    if kind is HealthKind.TOKEN_DEAD:
        return Verdict.TOKEN_DEAD
    if kind is HealthKind.HIDDEN:
        return Verdict.HIDDEN
    if Lint.DISABLED in linted:
        return Verdict.DISABLED
    # A Test that passes dispatches once; it does not make the broker fire for publications.
    if view.health.unfired is not None:
        return Verdict.DID_NOT_FIRE
    if Lint.EVERY_PUBLISH in linted:
        return Verdict.EVERY_PUBLISH
    if (test is not None and not test.passed) or (test is None and kind.failing):
        return Verdict.DISPATCH_FAILS
    if test is None and kind is not HealthKind.OK:
        return Verdict.UNKNOWN
    return Verdict.HEALTHY


def _next_step(verdict: Verdict, facts: Facts, findings: bool) -> str:
    test = facts.test
    target = facts.webhook.webhook.target if facts.webhook else None
    ci = ci_of(target)
    if verdict is Verdict.TOKEN_DEAD and ci is not None and not is_github(target):
        return (
            f"Start rotation: a new {ci.token} from {ci.account}, pasted into the broker secret "
            "the webhook references, then diagnose again."
        )
    if verdict is Verdict.DISPATCH_FAILS:
        if test is not None and test.advice:
            return test.advice[0]
        return "Diagnose again in a minute: the Test says what the target answers now."
    if verdict is Verdict.HEALTHY:
        if findings:
            return "Fix the findings below before they stop verifications."
        if any(row.record.awaits_verification for row in facts.pairs):
            run = "repository_dispatch run" if is_github(target) or ci is None else "build"
            return (
                f"The Test dispatched a verification: watch the provider's {run}; the waiting "
                "pairs turn fresh when it publishes its results."
            )
        return "Nothing to do."
    if verdict is Verdict.DID_NOT_FIRE and facts.webhook and facts.webhook.health.unfired:
        return f"It did not fire because {facts.webhook.health.unfired.explain()}"
    if verdict is Verdict.NO_WEBHOOK:
        return (
            f"Create a webhook for {facts.provider} on {MEANT_EVENT} that POSTs to "
            "https://api.github.com/repos/<owner>/<repo>/dispatches with the header "
            "Authorization: Bearer ${user.githubToken} (the field guide's Example 1)."
        )
    return _NEXT_STEPS[verdict]


_NEXT_STEPS = {
    Verdict.TOKEN_DEAD: (
        "Start rotation: generate a classic token (repo scope, no expiration) as the machine "
        "user, paste it into the broker secret the webhook references, then diagnose again."
    ),
    Verdict.HIDDEN: f"Setting {WHITELIST}; then diagnose again.",
    Verdict.DISABLED: (
        "Enable the webhook in the broker (Settings → Webhooks): until then no publication "
        "fires it."
    ),
    Verdict.EVERY_PUBLISH: (
        f"Change its event to {MEANT_EVENT}: it fires once for each content that needs a "
        "verification, not on every publish."
    ),
    Verdict.UNKNOWN: "Diagnose again in a minute: the Test says what the target answers now.",
    Verdict.UNSEEN: (
        "Give the token's user permission to read webhooks (PactFlow: webhook:manage:team or "
        "webhook:manage:*), or use credentials that have it, then diagnose again."
    ),
}


def _evidence(facts: Facts, now: datetime) -> list[str]:
    lines = []
    view = facts.webhook
    if view is not None:
        lines.append(_executions(view, now))
    lines += _publications(facts, now)
    target = view.webhook.target if view else None
    if target is not None and is_github(target):  # only GitHub's runs are read
        lines.append(_runs(facts, target.slug, now))
    return lines


def _executions(view: WebhookView, now: datetime) -> str:
    health = view.health
    if health.last_run is None:
        if not view.webhook.enabled:
            return "The webhook is disabled: the broker does not execute it."
        return {
            HealthKind.NEVER_RUN: "The webhook has never executed for real.",
            HealthKind.DID_NOT_FIRE: "The webhook has never executed for real.",
        }.get(health.kind, "The webhook's real executions were not read.")
    line = f"The webhook last executed for real {_ago(health.last_run, now)}: {health.describe()}"
    if health.since is not None and health.since < health.last_run:
        line += f", failing since {_ago(health.since, now)}"
    return line + "."


def _publications(facts: Facts, now: datetime) -> list[str]:
    if not facts.pairs:
        return [f"No consumer has a pact with {facts.provider} yet."]
    latest = max(row.record.latest_pact.published_at for row in facts.pairs)
    waiting = [row.freshness.waiting_since for row in facts.pairs if row.record.awaits_verification]
    line = f"Consumers last published {_ago(latest, now)}"
    since = [moment for moment in waiting if moment is not None]
    if not since:
        return [line + "; no pair waits for a verification."]
    count = "1 pair waits" if len(since) == 1 else f"{len(since)} pairs wait"
    lines = [line + f"; {count} for a verification, the longest since {_ago(min(since), now)}."]
    unfired = facts.webhook.health.unfired if facts.webhook else None
    if unfired is not None:
        lines.append(
            f"It did not fire for the publication of {unfired.pair} {_ago(unfired.since, now)}: "
            + unfired.explain()
        )
        return lines
    last_run = facts.webhook.health.last_run if facts.webhook else None
    unanswered = [moment for moment in since if last_run is None or moment > last_run]
    if facts.webhook is not None and unanswered and min(unanswered) + _FIRES_WITHIN < now:
        lines.append(
            "The webhook has not executed since those publications: the broker did not fire it."
        )
    return lines


def _runs(facts: Facts, slug: str, now: datetime) -> str:
    if facts.runs_skipped is not None:
        return f"GitHub could not be asked for the provider's runs: {facts.runs_skipped}"
    if facts.runs is None:
        return RUNS_HINT
    if not facts.runs:
        return f"No repository_dispatch run in {slug} lately."
    newest = max(facts.runs, key=lambda run: run.created_at)
    started = _ago(newest.created_at, now)
    outcome = newest.conclusion or newest.status or "queued"
    return f"The newest repository_dispatch run in {slug} started {started}: {outcome}."


def _ago(moment: datetime, now: datetime) -> str:
    return f"{format_duration(now - moment)} ago"
