"""Which webhook a person means by `test [provider | webhook id]`."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bot.domain.model import NO_LABELS, Labelled, PairKey, Scope, Webhook
from bot.domain.selection import closest
from bot.errors import BrokerNotFound


def dispatching(
    webhooks: Sequence[Webhook],
    wanted: str = "",
    pairs: Collection[PairKey] | None = None,
    labelled: Labelled = NO_LABELS,
) -> list[Webhook]:
    """The CI-trigger webhooks `wanted` names: one id, a provider's, or (empty) all.

    Without a webhook of the provider's own, the webhooks that fire for its pairs serve (for
    every pact, or by label), but only when `wanted` is the provider of one of the `pairs`
    known to have a pact: a typo must not start a real CI run.
    """
    providers = {pair.provider for pair in pairs or ()}
    targets = [webhook for webhook in webhooks if webhook.target]
    if not wanted:
        if not targets:
            raise BrokerNotFound(
                "webhook that dispatches to GitHub (repos/{owner}/{repo}/dispatches)"
            )
        return targets
    by_id = [webhook for webhook in webhooks if webhook.uuid == wanted]
    if by_id:
        return by_id
    found = [webhook for webhook in targets if webhook.scope.provider == wanted]
    everyone = [webhook for webhook in targets if webhook.scope == Scope()]
    if not found and wanted in providers:
        own = [pair for pair in pairs or () if pair.provider == wanted]
        found = [
            webhook
            for webhook in targets
            if any(webhook.scope.covers(pair, labelled) for pair in own)
        ]
    if not found:
        names = {webhook.scope.provider for webhook in targets if webhook.scope.provider}
        near = closest(wanted, names | {webhook.uuid for webhook in webhooks} | providers)
        subject = f"CI-trigger webhook for {wanted!r}"
        if everyone:
            ids = ", ".join(webhook.uuid for webhook in everyone)
            subject += f" (webhooks for every pact, testable by id: {ids})"
        raise BrokerNotFound(subject, near)
    return found
