"""Webhook lint: what in a webhook's definition keeps (or will keep) verifications from starting.

Each finding says what is wrong and how to fix it, never what a credential is: an inline token
is named by where it sits (`header Authorization`), not by its value. The checks follow the
field guide (shared/seed/pact-broker-webhooks.md): the token lives in a `${user.<secret>}`, the
webhook listens to `contract_requiring_verification_published`, and it POSTs an `event_type`
to a repository's `/dispatches`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.canary import recognise
from bot.domain.explain import EXPIRY_WARNING
from bot.domain.model import Webhook
from bot.domain.tokens import holds_credential
from bot.duration import format_duration
from bot.targets import Ci, ci_of, near

EVERY_PUBLISH_EVENT = "contract_published"
MEANT_EVENT = "contract_requiring_verification_published"


class Lint(StrEnum):
    INLINE_CREDENTIAL = "inline_credential"
    DISABLED = "disabled"
    EVERY_PUBLISH = "every_publish"
    NOT_A_DISPATCH = "not_a_dispatch"  # on a CI's API, but no build trigger
    NO_EVENT_TYPE = "no_event_type"
    RETIRED_HOST = "retired_host"  # a CI host that no longer answers (api.travis-ci.org)
    SIGN_IN_PAGE = "sign_in_page"  # a dead credential the broker would count a success
    TOKEN_EXPIRES = "token_expires"


@dataclass(frozen=True, slots=True)
class Finding:
    webhook: Webhook
    kind: Lint
    problem: str
    fix: str


def inline_credentials(url: str, headers: Mapping[str, str], body: object) -> tuple[str, ...]:
    """Where the request carries a credential written in, rather than a secret reference.

    The open-source broker masks `Authorization` and `*token*` headers as `**********` when it
    shows a webhook: a token there cannot be seen, one in another header or the body can.
    """
    places = [f"header {name}" for name, value in headers.items() if holds_credential(value)]
    places += [f"body {path}" if path else "body" for path in _credential_paths(_parsed(body))]
    if holds_credential(url):
        places.append("URL")
    return tuple(places)


def lint(
    webhook: Webhook, *, expires: datetime | None = None, now: datetime | None = None
) -> list[Finding]:
    """The findings for `webhook`; with when GitHub said its token `expires` (a Test's
    headers) and `now`, whether that is soon too."""
    found = [
        Finding(webhook, kind, problem, fix) for kind, problem, fix in _definition_findings(webhook)
    ]
    expiry = _expiry(expires, now) if expires is not None and now is not None else None
    if expiry is not None:
        found.append(Finding(webhook, Lint.TOKEN_EXPIRES, *expiry))
    return found


def lint_all(
    webhooks: Iterable[Webhook],
    expiries: Mapping[str, datetime] | None = None,
    now: datetime | None = None,
) -> list[Finding]:
    """The findings of every webhook, in the order given; `expiries`: when GitHub last said
    each one's token expires, by webhook uuid."""
    known = expiries or {}
    return [
        finding
        for webhook in webhooks
        for finding in lint(webhook, expires=known.get(webhook.uuid), now=now)
    ]


def _definition_findings(webhook: Webhook) -> Iterator[tuple[Lint, str, str]]:
    ci = ci_of(webhook.target) or near(webhook.url)
    for place in webhook.inline_credentials:
        yield (
            Lint.INLINE_CREDENTIAL,
            f"a credential is written into the webhook ({place}) instead of a "
            "${user.<secret>} reference",
            _reference(ci),
        )
    builds = webhook.target is not None or ci is not None
    if not webhook.enabled and (builds or webhook.triggers_verification):
        yield (
            Lint.DISABLED,
            "it is disabled: publications do not fire it, so no verification starts",
            "enable it in the broker (Settings → Webhooks), or delete it if it is retired",
        )
    if builds and EVERY_PUBLISH_EVENT in webhook.events:
        yield (
            Lint.EVERY_PUBLISH,
            f"it listens to {EVERY_PUBLISH_EVENT}: it fires on every publish, unchanged "
            "content included",
            f"listen to {MEANT_EVENT} instead: it fires only when content needs a verification",
        )
    # A canary posts to GitHub's /markdown on purpose: it asks, it starts nothing.
    if webhook.target is None and ci is not None and recognise(webhook) is None:
        yield Lint.NOT_A_DISPATCH, ci.not_a_trigger, f"use {ci.endpoint}"
    for advice in webhook.target.advice if webhook.target else ():
        yield Lint(advice.kind), advice.problem, advice.fix


def _reference(ci: Ci | None) -> str:
    if ci is None or ci.key == "github":
        return (
            "revoke that token, store a new one as a broker secret (Settings → Secrets) and "
            "reference it as Bearer ${user.githubToken}"
        )
    return (
        f"revoke that {ci.token}, store a new one as a broker secret (Settings → Secrets) and "
        f"reference it as ${{user.<secret>}} {ci.where_it_sits}"
    )


def _expiry(expires: datetime, now: datetime) -> tuple[str, str] | None:
    if expires - now > EXPIRY_WARNING:
        return None
    left, when = expires - now, f"{expires:%Y-%m-%d}"
    said = f"expired on {when}" if left <= timedelta(0) else f"expires on {when}, in "
    said += format_duration(left) if left > timedelta(0) else ""
    return (
        f"GitHub says the webhook's token {said}",
        "rotate it now: a classic token of the machine user, repo scope, no expiration",
    )


def _parsed(body: object) -> object:
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _credential_paths(node: object, path: str = "") -> Iterator[str]:
    if isinstance(node, str):
        if holds_credential(node):
            yield path
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _credential_paths(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _credential_paths(value, f"{path}[{index}]")
