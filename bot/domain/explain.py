"""Explain the result of the broker's webhook Test to the person who ran it.

The broker answers HTTP 200 whatever the target said, so the verdict is read from the result:
`success`, then the target's status (`response.status` or the `HTTP/1.1 NNN` log line), else the
answer is hidden. A CI's own headers, when the broker shows them, tell about the credential itself
(GitHub says when a token expires and what it may do).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.model import HealthKind, TargetAnswer, Webhook
from bot.duration import format_duration
from bot.targets import ci_of, read
from bot.targets.base import WHITELIST, Ci

EXPIRY_WARNING = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class TestReport:
    kind: HealthKind
    passed: bool  # the target started a build (or the broker says success and hides the answer)
    headline: str
    answer: TargetAnswer
    expires: datetime | None = None  # when the CI says the credential expires
    advice: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def explain_test(webhook: Webhook, answer: TargetAnswer, now: datetime) -> TestReport:
    """Turn the Test's result for `webhook` into a verdict, what to do, and warnings."""
    reading = read(answer, webhook.target)
    expires = token_expiry(answer, ci_of(webhook.target))
    warnings, notes = _token_findings(answer, expires, now)
    if not webhook.enabled:
        warnings.append("the webhook is disabled: the Test ran it, but real publications do not")
    if answer.hidden and answer.success:
        warnings.append(f"the broker hides the target's answer; {WHITELIST}")
    return TestReport(
        kind=reading.kind,
        passed=reading.passed,
        headline=reading.headline,
        answer=answer,
        expires=expires,
        advice=reading.fix,
        warnings=tuple(warnings),
        notes=tuple(notes),
    )


def _token_findings(
    answer: TargetAnswer, expires: datetime | None, now: datetime
) -> tuple[list[str], list[str]]:
    """What the CI's headers say about the credential: warnings, then plain notes."""
    warnings: list[str] = []
    notes: list[str] = []
    scopes = answer.headers.get("x-oauth-scopes", "").strip()
    if scopes and "repo" not in {scope.strip() for scope in scopes.split(",")}:
        warnings.append(
            f'the token\'s scopes are "{scopes}": repository_dispatch needs the classic repo scope'
        )
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


def token_expiry(answer: TargetAnswer, ci: Ci | None) -> datetime | None:
    """When `ci` says the credential expires, in the header its documentation names; None for
    a CI that says nothing of it, a credential without expiry, or a hidden answer."""
    if ci is None or ci.expiry_header is None:
        return None
    raw = answer.headers.get(ci.expiry_header, "").strip()
    for pattern in ("%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d %H:%M:%S %z"):
        try:
            parsed = datetime.strptime(raw, pattern)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
