"""Which webhooks dispatch to GitHub, how healthy their real executions are, and where to look.

A webhook's health comes from its last *real* executions (the broker records no Test). The
newest execution decides: a webhook that failed on every execution since its last success is
failing, since the first of those failures; one failure followed by a success is healthy. A
Test that pactbot saw pass after the newest failure counts as that success (a rotation ends
with one), and a webhook that works but did not fire for a waiting publication is failing too
(`bot.domain.unfired`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from operator import attrgetter
from types import MappingProxyType

from bot.domain.model import (
    DEFAULT_GITHUB_API_URL,
    NO_LABELS,
    DispatchTarget,
    Execution,
    HealthKind,
    Labelled,
    PairKey,
    PairRecord,
    TargetAnswer,
    Webhook,
)
from bot.domain.sight import NO_PERMISSION
from bot.domain.unfired import Unfired
from bot.targets import passed, read, recognise

_NO_HEADERS: Mapping[str, str] = MappingProxyType({})
_PUBLISHED = attrgetter("latest_pact.published_at")
_AWAITS = attrgetter("awaits_verification")


def dispatch_target(
    url: str,
    body: object,
    github_api_url: str = DEFAULT_GITHUB_API_URL,
    headers: Mapping[str, str] = _NO_HEADERS,
) -> DispatchTarget | None:
    """The CI build a webhook's request triggers (`bot.targets`), or None."""
    return recognise(url, body, headers, github_api_url)


def classify(answer: TargetAnswer, target: DispatchTarget | None = None) -> HealthKind:
    """Name what went wrong (or not) in one answer of a webhook's target."""
    return read(answer, target).kind


@dataclass(frozen=True, slots=True)
class WebhookHealth:
    kind: HealthKind
    last_run: datetime | None = None
    # The first failure after the last success; for a webhook that did not fire, the first
    # publication left without a dispatch.
    since: datetime | None = None
    answer: TargetAnswer | None = None  # the newest execution's
    unfired: Unfired | None = None  # why it did not fire (DID_NOT_FIRE)
    # A waiting publication without a dispatch yet: the first sign of a webhook that does not
    # fire, before it has waited long enough to say so.
    unanswered_since: datetime | None = None
    tested: datetime | None = None  # a Test passed after the newest failed execution
    last_success: datetime | None = None  # the newest real execution that succeeded
    # Since when the canary has found the token dead (`bot.domain.canary`): no need to wait
    # for a publication, nor for `for`: a 401 from GitHub is not a guess.
    canary: datetime | None = None
    short: str | None = None  # the newest answer in the CI's own words: "token dead (404)"

    @property
    def failing(self) -> bool:
        return self.kind.failing

    def describe(self) -> str:
        """A few words for a table cell: `token dead (401)`, `ok`, `never run`."""
        if self.unfired is not None:
            return self.unfired.short
        if self.tested is not None:
            return "ok (a Test passed)"
        if self.canary is not None and (self.since is None or self.since >= self.canary):
            return "token dead (401), found by the canary before any publication"
        return self.short or _DESCRIPTIONS[self.kind]


_DESCRIPTIONS = {
    HealthKind.OK: "ok",
    HealthKind.TOKEN_DEAD: "token dead (401)",
    HealthKind.FORBIDDEN: "forbidden (403)",
    HealthKind.NO_ACCESS: "no access or no repo scope (404)",
    HealthKind.REJECTED: "body rejected (422)",
    HealthKind.TARGET_ERROR: "target error (5xx)",
    HealthKind.UNREACHABLE: "target unreachable",
    HealthKind.HIDDEN: "failing (answer hidden)",
    HealthKind.FAILING: "failing",
    HealthKind.DID_NOT_FIRE: "did not fire",
    HealthKind.NEVER_RUN: "never run",
    HealthKind.DISABLED: "disabled",
    HealthKind.NOT_CHECKED: "not checked",
    HealthKind.UNKNOWN: NO_PERMISSION,
}


def health(
    webhook: Webhook,
    executions: Iterable[Execution],
    *,
    unfired: Unfired | None = None,
    unanswered_since: datetime | None = None,
    passed_test: datetime | None = None,
    canary_dead: datetime | None = None,
) -> WebhookHealth:
    """The health of `webhook` from its real executions (in any order), whether it left a
    waiting publication unanswered, when a Test of it last passed (or its canary found the
    token alive), and since when its canary finds the token dead."""
    ordered = sorted(executions, key=lambda execution: execution.at)
    successes = [e.at for e in ordered if passed(e.answer, webhook.target)]
    found = _from_executions(webhook, ordered, passed_test)
    last_success = successes[-1] if successes else None
    proven = max(filter(None, (last_success, found.tested)), default=None)
    if canary_dead is not None and webhook.enabled and (proven is None or proven < canary_dead):
        dead = TargetAnswer(success=False, status=401, message="Bad credentials")
        since = found.since if found.kind is HealthKind.TOKEN_DEAD else canary_dead
        return WebhookHealth(
            HealthKind.TOKEN_DEAD,
            last_run=found.last_run,
            since=min(filter(None, (since, canary_dead))),
            answer=found.answer if found.kind is HealthKind.TOKEN_DEAD else dead,
            last_success=last_success,
            canary=canary_dead,
            short=found.short if found.kind is HealthKind.TOKEN_DEAD else None,
        )
    if unfired is not None and not found.failing:
        return WebhookHealth(
            HealthKind.DID_NOT_FIRE,
            last_run=found.last_run,
            since=unfired.since,
            answer=found.answer,
            unfired=unfired,
            unanswered_since=unfired.since,
            last_success=last_success,
        )
    return replace(found, unanswered_since=unanswered_since, last_success=last_success)


def _from_executions(
    webhook: Webhook, ordered: Sequence[Execution], passed_test: datetime | None
) -> WebhookHealth:
    if not webhook.enabled:
        return WebhookHealth(HealthKind.DISABLED)
    if not ordered:
        return WebhookHealth(HealthKind.NEVER_RUN)
    newest = ordered[-1]
    reading = read(newest.answer, webhook.target)
    if reading.passed:
        return WebhookHealth(reading.kind, last_run=newest.at, answer=newest.answer)
    if passed_test is not None and passed_test > newest.at:
        return WebhookHealth(HealthKind.OK, last_run=newest.at, tested=passed_test)
    since = newest.at
    for execution in reversed(ordered):
        if passed(execution.answer, webhook.target) or (
            passed_test is not None and execution.at < passed_test
        ):
            break
        since = execution.at
    return WebhookHealth(
        reading.kind, last_run=newest.at, since=since, answer=newest.answer, short=reading.short
    )


def watched(webhooks: Iterable[Webhook]) -> list[Webhook]:
    """The webhooks whose health explains waiting pairs: enabled, fired by pact publications."""
    return [webhook for webhook in webhooks if webhook.enabled and webhook.triggers_verification]


def history_pairs(
    webhooks: Sequence[Webhook], pairs: Sequence[PairRecord], labelled: Labelled = NO_LABELS
) -> Mapping[str, PairKey]:
    """For each webhook, the one pair whose webhook status best shows its latest executions.

    A pair waiting for a verification comes first (its publication fired the webhook and
    nothing answered it), then the most recently published; a webhook that covers no pair gets
    none. One status read per webhook keeps broker requests in step with webhooks, not pairs.
    """
    # Two stable sorts on keys read in C, newest first and then the waiting ones first: the
    # order of one sort on (not waiting, -published), without a Python call per pair.
    newest = sorted(pairs, key=_PUBLISHED, reverse=True)
    ranked = sorted(newest, key=_AWAITS, reverse=True)
    chosen: dict[str, PairKey] = {}
    for webhook in webhooks:
        for pair in ranked:
            if webhook.scope.covers(pair.key, labelled):
                chosen[webhook.uuid] = pair.key
                break
    return chosen


def newest_pairs(
    webhooks: Sequence[Webhook], pairs: Sequence[PairRecord], labelled: Labelled = NO_LABELS
) -> Mapping[str, PairKey]:
    """For each webhook, the covered pair published last: its webhook status has the newest
    dispatch, the one that says whether a webhook failing before works again."""
    ranked = sorted(pairs, key=_PUBLISHED, reverse=True)
    chosen: dict[str, PairKey] = {}
    for webhook in webhooks:
        found = next(
            (pair.key for pair in ranked if webhook.scope.covers(pair.key, labelled)), None
        )
        if found is not None:
            chosen[webhook.uuid] = found
    return chosen
