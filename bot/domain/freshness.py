"""How long each pair has waited for a verification, and whether that is a problem.

Two policies decide `stale` (DESIGN.md, "Vocabulary"):

- `age`, the field guide's rule: the newest verification is older than `max_age`;
- `demand`, the default: a published pact has waited longer than `max_age` for a verification,
  so a quiet weekend with nothing to verify raises nothing (the pair is `idle`).

"Older than" is strict: a pair exactly `max_age` old is not stale yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.model import PairRecord, Verification
from bot.duration import format_duration


class Policy(StrEnum):
    AGE = "age"
    DEMAND = "demand"


class State(StrEnum):
    """Pair states, most urgent first."""

    BROKER_UNREACHABLE = "broker_unreachable"
    STALE = "stale"
    NEVER_VERIFIED = "never_verified"
    FAILING = "failing"
    PENDING = "pending"
    IDLE = "idle"
    FRESH = "fresh"

    @property
    def urgency(self) -> int:
        """0 for the most urgent state."""
        return _URGENCY[self]

    @property
    def is_problem(self) -> bool:
        """Whether `pactbot check` fails on this state."""
        return self in (State.BROKER_UNREACHABLE, State.STALE, State.NEVER_VERIFIED)


_URGENCY = {state: rank for rank, state in enumerate(State)}


@dataclass(frozen=True, slots=True)
class Rule:
    max_age: timedelta
    policy: Policy


@dataclass(frozen=True, slots=True)
class Freshness:
    state: State
    reason: str
    newest_verification: Verification | None = None
    verification_age: timedelta | None = None
    waiting_since: datetime | None = None
    waited: timedelta | None = None


def assess(pair: PairRecord, rule: Rule, now: datetime) -> Freshness:
    """Decide the state of `pair` under `rule` at `now`."""
    if pair.latest_verification is not None:
        return _assess_verified(pair.latest_verification, rule, now)
    return _assess_waiting(pair, rule, now)


def _assess_verified(latest: Verification, rule: Rule, now: datetime) -> Freshness:
    # Asked of every verified pair at every reading: plain branches, no closure.
    age = now - latest.verified_at
    if rule.policy is Policy.AGE and age > rule.max_age:
        limit = format_duration(rule.max_age)
        state = State.STALE
        reason = f"newest verification is {format_duration(age)} old (max {limit})"
    elif not latest.success:
        state = State.FAILING
        reason = f"the latest pact's verification failed {format_duration(age)} ago"
    elif age <= rule.max_age:
        state, reason = State.FRESH, f"verified {format_duration(age)} ago"
    else:
        state = State.IDLE
        reason = f"verified {format_duration(age)} ago; nothing waits for verification"
    return Freshness(state, reason, latest, age)


def _assess_waiting(pair: PairRecord, rule: Rule, now: datetime) -> Freshness:
    history = pair.history
    since = history.waiting_since if history else pair.latest_pact.published_at
    waited = now - since
    newest = history.newest_verification if history else None
    age = now - newest.verified_at if newest else None
    # A matrix cut at its row limit hides older verifications: never claim "never verified" then.
    ever_verified = newest is not None or (history is not None and not history.complete)

    def result(state: State, reason: str) -> Freshness:
        return Freshness(state, reason, newest, age, waiting_since=since, waited=waited)

    limit = format_duration(rule.max_age)
    waiting = f"the latest pact has waited {format_duration(waited)} for a verification"
    if not ever_verified:
        if waited > rule.max_age:
            return result(State.NEVER_VERIFIED, f"no content verified yet; {waiting} (max {limit})")
        return result(State.PENDING, f"{waiting}; no content verified yet")
    if rule.policy is Policy.AGE and age is not None:
        if age > rule.max_age:
            newest_age = format_duration(age)
            return result(State.STALE, f"newest verification is {newest_age} old (max {limit})")
    elif waited > rule.max_age:
        return result(State.STALE, f"{waiting} (max {limit})")
    return result(State.PENDING, waiting)
