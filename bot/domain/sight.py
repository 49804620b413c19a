"""What pactbot could not see of the broker, said once, in words, with the permission that
would show it.

Freshness needs only the dashboard and the matrix; the webhooks, their executions and the
labels explain it. A read-only PactFlow token of a user without webhook permissions, or a
proxy in front of an open-source broker, may refuse those: the pairs' states stand, and every
surface says what is unknown and why instead of "no webhook" or "broker unreachable".
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.model import Blind, Unseen

# PactFlow's permissions (docs.pactflow.io, "Permissions"): `manage` includes reading.
WEBHOOK_PERMISSION = (
    "give its user permission to read webhooks (PactFlow: a role with webhook:manage:team or "
    "webhook:manage:*), or use credentials that have it; behind a proxy, let GET {path} through "
    "for them"
)
CONTRACT_PERMISSION = (
    "give its user permission to read contract data (PactFlow: contract_data:read:* or "
    "contract_data:manage:team), or use credentials that have it; behind a proxy, let GET "
    "{path} through for them"
)
# What each read is for, and the permission it needs, in `pactbot doctor`'s words.
NEEDS = {
    Unseen.WEBHOOKS: ("the webhooks", WEBHOOK_PERMISSION),
    Unseen.WEBHOOK: ("a webhook", WEBHOOK_PERMISSION),
    Unseen.STATUS: ("a webhook status", WEBHOOK_PERMISSION),
    Unseen.LOGS: ("a webhook's logs", WEBHOOK_PERMISSION),
    Unseen.LABELS: ("a label's pacticipants", CONTRACT_PERMISSION),
}
# The reads whose refusal leaves pairs whose webhooks cannot be known.
_COVERAGE = (Unseen.WEBHOOKS, Unseen.WEBHOOK, Unseen.LABELS)
NO_PERMISSION = "unknown (no permission)"


def coverage_unknown(blind: Sequence[Blind]) -> bool:
    """Whether a pair with no webhook known may have one pactbot could not read."""
    return any(found.what in _COVERAGE for found in blind)


def notes(blind: Sequence[Blind]) -> list[str]:
    """One sentence per kind of read refused: what is unknown, why, and what would fix it."""
    said = []
    for what in Unseen:
        found = [item for item in blind if item.what is what]
        if found:
            said.append(_note(what, found))
    return said


def permission(found: Blind) -> str:
    """What would let pactbot make the read `found` was refused."""
    return NEEDS[found.what][1].format(path=found.path)


def _note(what: Unseen, found: list[Blind]) -> str:
    first = found[0]
    where = ", ".join(f"{item.status} at {item.path}" for item in found[:3])
    if len(found) > 3:
        where += f" and {len(found) - 3} more"
    subjects = ", ".join(item.subject for item in found[:5] if item.subject)
    headline = {
        Unseen.WEBHOOKS: "webhook health unknown: the credentials may not read webhooks",
        Unseen.WEBHOOK: f"the webhooks {subjects} unknown: the credentials may not read them",
        Unseen.STATUS: (
            "the real executions of some webhooks unknown: the credentials may not read "
            f"webhook statuses (of {subjects})"
        ),
        Unseen.LOGS: (
            "what some webhooks' targets answered unknown: the credentials may not read "
            "triggered-webhook logs"
        ),
        Unseen.LABELS: (
            f"webhooks scoped by the label {subjects} match no pair: the credentials may not "
            "read pacticipants"
        ),
    }[what]
    cannot_fire = (
        "; no webhook incident can fire for what cannot be read" if what is not Unseen.LOGS else ""
    )
    return f"{headline} ({where}); {permission(first)}{cannot_fire}"
