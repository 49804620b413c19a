"""Explain the result of the broker's webhook Test to the person who ran it.

The broker answers HTTP 200 whatever the target said, so the verdict is read from the result:
`success`, then the target's status (`response.status` or the `HTTP/1.1 NNN` log line), else the
answer is hidden. GitHub's own headers, when the broker shows them, tell about the token itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.model import TargetAnswer, Webhook
from bot.domain.webhooks import HealthKind, classify, sso_required
from bot.duration import format_duration

EXPIRY_WARNING = timedelta(days=14)

WHITELIST = (
    "the broker's webhook host whitelist (PACT_BROKER_WEBHOOK_HOST_WHITELIST, e.g. "
    '"api.github.com") makes Tests and logs show the target\'s answer'
)


@dataclass(frozen=True, slots=True)
class TestReport:
    kind: HealthKind
    passed: bool  # the target answered 2xx (or the broker says success and hides the answer)
    headline: str
    answer: TargetAnswer
    advice: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def explain_test(webhook: Webhook, answer: TargetAnswer, now: datetime) -> TestReport:
    """Turn the Test's result for `webhook` into a verdict, what to do, and warnings."""
    kind = classify(answer)
    target = webhook.target
    where = f"GitHub ({target.slug})" if target else "the target"
    headline, advice = _verdict(kind, answer, where)
    warnings, notes = _token_findings(answer, now)
    if not webhook.enabled:
        warnings.append("the webhook is disabled: the Test ran it, but real publications do not")
    if answer.hidden and answer.success:
        warnings.append(f"the broker hides the target's answer; {WHITELIST}")
    return TestReport(
        kind=kind,
        passed=answer.success,
        headline=headline,
        answer=answer,
        advice=tuple(advice),
        warnings=tuple(warnings),
        notes=tuple(notes),
    )


# What each answer means and what to do, worded with {where} (GitHub and the repository),
# {said} (GitHub's own message), {status} and {error}.
_VERDICTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ok": ("{where} accepted the request ({shown}): the provider's verification should start.", ()),
    "token_dead": (
        "{where} rejected the token (HTTP 401{said}): the PAT in the broker's secret is expired, "
        "revoked or wrong.",
        (
            "Rotate it: sign in to GitHub as the machine user, generate a classic token with the "
            "repo scope, paste it into the secret the webhook references, then Test again.",
        ),
    ),
    "sso": (
        "{where} refused the token (HTTP 403): it is not authorised for the organisation's SAML "
        "single sign-on.",
        (
            "As the machine user open Settings → Developer settings → Personal access tokens "
            "(classic), choose Configure SSO on the token and authorise the organisation.",
        ),
    ),
    "forbidden": (
        "{where} refused the request (HTTP 403{said}).",
        (
            "A fine-grained token without permission, a rate limit, or GitHub's lock-out after "
            "repeated bad credentials: read GitHub's message above.",
        ),
    ),
    "no_access": (
        "{where} answered 404{said}: the repository does not exist, or the token cannot see it, "
        "or it lacks the repo scope (GitHub hides private repositories behind 404).",
        (
            "Check that the machine user can write to the repository and that its classic token "
            "has the repo scope.",
        ),
    ),
    "rejected": (
        "{where} rejected the request body (HTTP 422{said}).",
        ("event_type must be 1 to 100 characters and client_payload at most 10 keys.",),
    ),
    "target_error": (
        "{where} failed (HTTP {status}{said}): an outage on its side.",
        ("Test again later.",),
    ),
    "unreachable": (
        "The broker could not reach {where}: {error}.",
        ("Check DNS, firewall and proxy settings between the broker and the target.",),
    ),
    "hidden": (
        "The Test failed, but the broker hides what {where} answered, so a dead token (401) "
        "cannot be told from a missing repository (404) or a timeout.",
        (f"Setting {WHITELIST}.",),
    ),
    "failing": ("{where} answered HTTP {status}{said}.", ()),
}


def _verdict(kind: HealthKind, answer: TargetAnswer, where: str) -> tuple[str, list[str]]:
    key = "sso" if kind is HealthKind.FORBIDDEN and sso_required(answer) else kind.value
    headline, advice = _VERDICTS[key]
    values = {
        "where": where,
        "said": f' "{answer.message}"' if answer.message else "",
        "status": answer.status,
        "error": answer.error,
        "shown": f"HTTP {answer.status}" if answer.status else "details hidden by the broker",
    }
    return headline.format(**values), list(advice)


def _token_findings(answer: TargetAnswer, now: datetime) -> tuple[list[str], list[str]]:
    """What GitHub's headers say about the token: warnings, then plain notes."""
    warnings: list[str] = []
    notes: list[str] = []
    scopes = answer.headers.get("x-oauth-scopes", "").strip()
    if scopes and "repo" not in {scope.strip() for scope in scopes.split(",")}:
        warnings.append(
            f'the token\'s scopes are "{scopes}": repository_dispatch needs the classic repo scope'
        )
    expires = token_expiry(answer)
    if expires is not None:
        left = expires - now
        when = expires.strftime("%Y-%m-%d")
        if left <= timedelta(0):
            warnings.append(f"the token expired on {when}")
        elif left <= EXPIRY_WARNING:
            warnings.append(
                f"the token expires on {when}, in {format_duration(left)}: rotate it before then"
            )
        else:
            notes.append(f"the token expires on {when}")
    return warnings, notes


def token_expiry(answer: TargetAnswer) -> datetime | None:
    """When GitHub says the token expires; None for tokens without expiry or when hidden."""
    raw = answer.headers.get("github-authentication-token-expiration", "").strip()
    for pattern in ("%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d %H:%M:%S %z"):
        try:
            parsed = datetime.strptime(raw, pattern)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
