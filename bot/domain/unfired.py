"""Webhooks that did not fire: a publication waits for a verification and nothing was dispatched.

The broker's trigger rules (pact_broker 2.120.0) decide what "should have fired" means:

- `contract_published` fires on every publication, a consumer re-publishing unchanged content
  included;
- `contract_requiring_verification_published` fires on a publication when a provider version
  that matters has not verified its content: the latest version of the provider's main branch,
  and its deployed and released versions (`webhooks/event_listener.rb`, `contract_published`,
  then `verifications/service.rb`, `calculate_required_verifications_for_pact`). A pair waits
  only while no provider version at all has verified its latest content (the dashboard carries
  a verification over to every publication of the same content), so every publication of it,
  unchanged re-publications included, fires this event, unless the provider has none of those
  versions: then nothing ever fires for it;
- `contract_content_changed` fires only when the content differs from the previous
  publication's: for a webhook listening to it alone, the first publication of the waiting run
  is the one that should have fired it, not a re-publication of the same content.

So a re-published unchanged pact is neither a false "did not fire" (it fires the first two
events again, and the third is looked for where it fired) nor a missed one (a re-publication
that triggered nothing is unanswered like any other).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.model import (
    NO_LABELS,
    Labelled,
    PairKey,
    PairRecord,
    ProviderVersions,
    Trigger,
    Webhook,
)

REQUIRING = "contract_requiring_verification_published"
PUBLISHED = "contract_published"
CHANGED = "contract_content_changed"
_EVERY_PUBLICATION = frozenset({REQUIRING, PUBLISHED})


class Why(StrEnum):
    DISABLED = "disabled"
    CREATED_AFTER = "created_after"
    NO_PROVIDER_VERSION = "no_provider_version"
    NO_MAIN_BRANCH = "no_main_branch"
    NO_MAIN_VERSION = "no_main_version"
    NOT_RUN = "not_run"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Unfired:
    """A publication of `pair` the webhook should have dispatched, unanswered since `since`."""

    pair: PairKey
    since: datetime
    why: Why
    main_branch: str | None = None

    @property
    def short(self) -> str:
        """A few words for a table cell."""
        return _SHORT[self.why]

    def explain(self) -> str:
        """Why nothing was dispatched, and what to run, in a sentence or two."""
        provider = self.pair.provider
        branch = self.main_branch or "main"
        not_required = (
            f"the broker fires {REQUIRING} only for the latest version of {provider}'s main "
            "branch and its deployed and released versions, so nothing was dispatched. "
        )
        publish = (
            f"Publish a version of {provider} from its main branch (run its main build, or "
            f"`pact-broker create-or-update-version --pacticipant {provider} --version <sha> "
            f"--branch {branch}`), or record a deployment (`pact-broker record-deployment`); "
            "then the provider's build verifies the waiting pacts."
        )
        texts = {
            Why.DISABLED: (
                "the webhook is disabled, and no other webhook triggers a verification for "
                "this pair: enable it in the broker (Settings → Webhooks), then run its Test "
                "to dispatch the waiting pact."
            ),
            Why.CREATED_AFTER: (
                "the webhook was created after the publication, and the broker fires a webhook "
                "only for publications made after it exists: run its Test to dispatch the "
                "latest pact now; the next publication fires it."
            ),
            Why.NO_PROVIDER_VERSION: (
                f"{provider} has no version in the broker yet (its CI never published one): "
                + not_required
                + publish
            ),
            Why.NO_MAIN_BRANCH: (
                f"{provider} has no main branch set and no version deployed or released: "
                + not_required
                + f"Set its main branch (`pact-broker create-or-update-pacticipant --name "
                f"{provider} --main-branch main`) and publish a version from it, or record a "
                "deployment."
            ),
            Why.NO_MAIN_VERSION: (
                f"{provider} has no version on its main branch ({branch}) and none deployed or "
                "released: " + not_required + publish
            ),
            Why.NOT_RUN: (
                "the broker triggered it but never ran it: its webhook worker may be stopped "
                "or overloaded; check the broker's logs, then run the webhook's Test."
            ),
            Why.UNKNOWN: (
                "the broker triggered nothing for the publication, although its rules say it "
                "should have: check the broker's logs and the webhook's events, then run its "
                "Test to dispatch the waiting pact."
            ),
        }
        return texts[self.why]


_SHORT = {
    Why.DISABLED: "did not fire (disabled)",
    Why.CREATED_AFTER: "did not fire (created after the publication)",
    Why.NO_PROVIDER_VERSION: "did not fire (the provider has no version)",
    Why.NO_MAIN_BRANCH: "did not fire (the provider has no main branch)",
    Why.NO_MAIN_VERSION: "did not fire (no main-branch version)",
    Why.NOT_RUN: "did not run (stuck in the broker)",
    Why.UNKNOWN: "did not fire",
}


@dataclass(frozen=True, slots=True)
class Unanswered:
    """Publications of a pair a webhook left without a dispatch, since `since`."""

    pair: PairKey
    since: datetime
    stuck: bool = False  # triggered, but never run


def dispatches(webhook: Webhook) -> bool:
    """A GitHub-dispatch webhook fired by pact publications: the one whose silence blocks."""
    return webhook.target is not None and webhook.triggers_verification


def waiting(
    webhook: Webhook, records: Sequence[PairRecord], labelled: Labelled = NO_LABELS
) -> list[PairRecord]:
    """The pairs `webhook` fires for whose latest pact waits, newest publication first."""
    found = [
        record
        for record in records
        if record.awaits_verification and webhook.scope.covers(record.key, labelled)
    ]
    return sorted(found, key=lambda record: record.latest_pact.published_at, reverse=True)


def checked_pairs(
    webhook: Webhook,
    records: Sequence[PairRecord],
    now: datetime,
    grace: timedelta,
    labelled: Labelled = NO_LABELS,
) -> list[PairKey]:
    """Whose webhook status tells whether `webhook` fired: per provider, the newest waiting
    publication older than `grace`. (Its newest waiting pair of all, the early sign, is the
    pair its health is read from.)"""
    if not webhook.enabled or not dispatches(webhook):
        return []
    chosen: dict[str, PairKey] = {}
    for record in waiting(webhook, records, labelled):
        if now - record.latest_pact.published_at > grace:
            chosen.setdefault(record.key.provider, record.key)
    return list(chosen.values())


def unanswered(
    webhook: Webhook,
    record: PairRecord,
    triggers: Sequence[Trigger],
    now: datetime,
    grace: timedelta,
) -> Unanswered | None:
    """Since when `record`'s waiting publications have no trigger of `webhook`, or None when
    it fired for them (or has just been triggered and is about to run)."""
    events = set(webhook.events)
    waiting_since = record.history.waiting_since if record.history else None
    first = min(filter(None, (waiting_since, record.latest_pact.published_at)))
    expected = record.latest_pact.published_at if events & _EVERY_PUBLICATION else first
    mine = [
        trigger
        for trigger in triggers
        if trigger.webhook == webhook.uuid and trigger.event in events and trigger.at >= expected
    ]
    if not mine:
        answered_run = any(
            trigger.webhook == webhook.uuid and trigger.event in events and trigger.at >= first
            for trigger in triggers
        )
        return Unanswered(record.key, expected if answered_run else first)
    newest = max(mine, key=lambda trigger: trigger.at)
    if newest.status == "not_run" and now - newest.at > grace:
        return Unanswered(record.key, newest.at, stuck=True)
    return None


def confirmed(
    webhook: Webhook,
    records: Sequence[PairRecord],
    triggers: Mapping[PairKey, Sequence[Trigger]],
    now: datetime,
    grace: timedelta,
    labelled: Labelled = NO_LABELS,
) -> list[Unanswered]:
    """The publications `webhook` left without a dispatch for longer than `grace`, one per
    provider, as far as the webhook statuses read (`triggers`) tell."""
    by_key = {record.key: record for record in records}
    return [
        found
        for key in checked_pairs(webhook, records, now, grace, labelled)
        if key in triggers
        and (found := unanswered(webhook, by_key[key], triggers[key], now, grace))
        and now - found.since > grace
    ]


def judge(
    webhook: Webhook,
    candidates: Sequence[Unanswered],
    providers: Mapping[str, ProviderVersions],
) -> Unfired | None:
    """Why `webhook` left the oldest of `candidates` (each older than the grace) unanswered."""
    if not candidates:
        return None
    oldest = min(candidates, key=lambda found: found.since)
    if not webhook.enabled:
        return Unfired(oldest.pair, oldest.since, Why.DISABLED)
    if oldest.stuck:
        return Unfired(oldest.pair, oldest.since, Why.NOT_RUN)
    if webhook.created_at is not None and webhook.created_at > oldest.since:
        return Unfired(oldest.pair, oldest.since, Why.CREATED_AFTER)
    facts = providers.get(oldest.pair.provider)
    if not _requiring_only(webhook) or facts is None:
        return Unfired(oldest.pair, oldest.since, Why.UNKNOWN)
    if not facts.any_version:
        why = Why.NO_PROVIDER_VERSION
    elif facts.main_branch is None:
        why = Why.NO_MAIN_BRANCH
    elif not facts.main_branch_version:
        why = Why.NO_MAIN_VERSION
    else:
        why = Why.UNKNOWN
    return Unfired(oldest.pair, oldest.since, why, facts.main_branch)


def needs_provider_facts(webhook: Webhook, candidates: Sequence[Unanswered]) -> str | None:
    """The provider whose versions would say why `webhook` did not fire, if they would: for
    a webhook of `contract_requiring_verification_published` alone, with no other reason."""
    found = judge(webhook, candidates, {})
    if found is None or found.why is not Why.UNKNOWN or not _requiring_only(webhook):
        return None
    return found.pair.provider


def _requiring_only(webhook: Webhook) -> bool:
    """Whether, of the events that ask for a verification, the webhook listens to
    `contract_requiring_verification_published` alone: only then do the provider's versions
    decide whether it fires."""
    return set(webhook.events) & {REQUIRING, PUBLISHED, CHANGED} == {REQUIRING}


def disabled_unfired(
    webhook: Webhook,
    webhooks: Sequence[Webhook],
    records: Sequence[PairRecord],
    labelled: Labelled = NO_LABELS,
) -> Unanswered | None:
    """For a disabled dispatch webhook: the longest-waiting pair it alone would serve (no
    enabled webhook that triggers a verification covers it), since it waits."""
    if webhook.enabled or not dispatches(webhook):
        return None
    others = [other for other in webhooks if other.enabled and other.triggers_verification]
    alone = [
        record
        for record in waiting(webhook, records, labelled)
        if not any(other.scope.covers(record.key, labelled) for other in others)
    ]
    if not alone:
        return None
    oldest = min(
        alone,
        key=lambda record: (
            record.history.waiting_since if record.history else record.latest_pact.published_at
        ),
    )
    since = oldest.history.waiting_since if oldest.history else oldest.latest_pact.published_at
    return Unanswered(oldest.key, since)
