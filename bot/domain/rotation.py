"""The field guide's PAT rotation runbook as a state machine, one step at a time.

A rotation belongs to one CI-trigger webhook and moves through eight steps. Each press
names the step it was pressed on, so a double click, or a click on a message that moved on
meanwhile, finds the rotation elsewhere and changes nothing. The Test (steps 1 and 6) and the
look at the provider's runs (step 7) happen outside; what they found comes back here, and
decides whether the rotation moves on. Nothing here ever sees a token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from bot.domain.canary import CanaryRun, Verdict
from bot.domain.freshness import State
from bot.domain.model import NO_LABELS, DispatchTarget, HealthKind, Labelled, PairKey, Scope
from bot.domain.report import PairRow

# After the re-test passes, the pairs the outage held up are watched for this long at most.
WATCH_FOR = timedelta(days=1)
# A rotation's message is posted right after it is written; longer, and it never will be.
_POSTED_WITHIN = timedelta(minutes=1)


class Stage(IntEnum):
    CONFIRM = 1
    SIGN_IN = 2
    GENERATE = 3
    COPY = 4
    PASTE = 5
    RETEST = 6
    WATCH = 7
    REVOKE = 8


LAST = Stage.REVOKE


class Press(StrEnum):
    DONE = "done"
    BACK = "back"
    CANCEL = "cancel"
    TEST = "test"  # steps 1 and 6: run the webhook's Test
    CHECK = "check"  # step 7: look for the provider's run again


# Where each press other than Done, Back and Cancel may be made.
_ONLY_ON = {Press.TEST: (Stage.CONFIRM, Stage.RETEST), Press.CHECK: (Stage.WATCH,)}


class Outcome(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class SeenTest:
    """What a Test run during the rotation said."""

    at: datetime
    by: str
    kind: HealthKind
    passed: bool
    headline: str
    on: Stage = Stage.CONFIRM  # the step it ran on
    canary: bool = False  # the canary asked GitHub: no CI run started


@dataclass(frozen=True, slots=True)
class RunSeen:
    """The provider's workflow run the re-test started, as GitHub last showed it."""

    at: datetime = field(compare=False)  # when it was looked at: not a change of the run
    url: str
    title: str
    status: str
    conclusion: str | None = None


@dataclass(frozen=True, slots=True)
class Waiting:
    """A pair that waited for a verification when the re-test passed."""

    pair: PairKey
    since: datetime
    verified_at: datetime | None = None
    success: bool | None = None  # the verification that arrived passed


@dataclass(frozen=True, slots=True)
class Rotation:
    id: str
    webhook: str  # the webhook's uuid
    webhook_name: str
    target: DispatchTarget
    channel: str
    started_by: str
    started_at: datetime
    scope: Scope
    # Who may act besides admins: the on-call groups of the route of the webhook's pairs.
    groups: tuple[str, ...] = ()
    ts: str | None = None  # the rotation's message, once posted
    stage: Stage = Stage.CONFIRM
    outcome: Outcome = Outcome.ACTIVE
    ended_by: str | None = None
    ended_at: datetime | None = None
    moved_by: str | None = None  # who made the last move, and when
    moved_at: datetime | None = None
    test: SeenTest | None = None
    passed_at: datetime | None = None  # when the re-test passed
    run: RunSeen | None = None
    waiting: tuple[Waiting, ...] = ()
    listed: bool = True  # False: the broker could not be read when the re-test passed
    watch_told: bool = False  # the end of the watch, with pairs still waiting, was said

    @property
    def active(self) -> bool:
        return self.outcome is Outcome.ACTIVE

    @property
    def duration(self) -> timedelta | None:
        return self.ended_at - self.started_at if self.ended_at else None

    @property
    def one_pair(self) -> PairKey | None:
        """The pair, when the webhook fires for one pair only: its Test dispatches that pact."""
        scope = self.scope
        if scope.consumer and scope.provider and not (scope.consumer_label or scope.provider_label):
            return PairKey(scope.consumer, scope.provider)
        return None

    def watching(self, now: datetime) -> bool:
        """Whether the pairs the outage held up are still watched for their verification; a
        rotation cancelled after its re-test passed fixed the token all the same."""
        return (
            self.passed_at is not None
            and now < self.passed_at + WATCH_FOR
            and (self._unverified or not self.listed)
        )

    def abandoned(self, now: datetime) -> bool:
        """Started, but its message never went out (the post failed, or the process died)."""
        return self.active and self.ts is None and now - self.started_at > _POSTED_WITHIN

    def awaits_run(self, now: datetime) -> bool:
        """Whether step 7 still waits to see the provider's run conclude (for a day at most)."""
        return (
            self.active
            and self.stage is Stage.WATCH
            and self.passed_at is not None
            and now < self.passed_at + WATCH_FOR
            and (self.run is None or self.run.conclusion is None)
            and self.target.ci == "github"  # only GitHub's runs are read
            and not (self.test is not None and self.test.canary)  # it started no run
        )

    def watch_ended(self, now: datetime) -> bool:
        """Whether the watch ran out with pairs still waiting, and nobody was told yet."""
        return (
            self.passed_at is not None
            and now >= self.passed_at + WATCH_FOR
            and self._unverified
            and not self.watch_told
        )

    def kept(self, now: datetime) -> bool:
        """Whether the store keeps it: active, watched, or ended lately (a click on its
        message is then told who ended it)."""
        recent = self.ended_at is not None and now - self.ended_at < WATCH_FOR
        return self.active or recent or self.watching(now) or self.watch_ended(now)

    @property
    def _unverified(self) -> bool:
        return any(waiting.verified_at is None for waiting in self.waiting)


@dataclass(frozen=True, slots=True)
class LastRotation:
    """A webhook's last finished rotation: "token last rotated <date> by <user>"."""

    webhook: str
    id: str
    by: str
    started_at: datetime
    ended_at: datetime

    def practice_due(self, every: timedelta, now: datetime) -> bool:
        """The field guide's advice: rotate once in a while, so the runbook is known."""
        return now - self.ended_at >= every


@dataclass(frozen=True, slots=True)
class Rotated:
    """The webhooks' last rotations (by webhook uuid), and how often a practice one is due."""

    last: Mapping[str, LastRotation] = field(default_factory=dict)
    practice_every: timedelta = timedelta(days=365)


NONE_ROTATED = Rotated()


@dataclass(frozen=True, slots=True)
class Moved:
    """A press that changed the rotation, and the line its thread and audit log get."""

    rotation: Rotation
    said: str


def refusal(rotation: Rotation, stage: int, press: Press) -> str | None:
    """Why `press` on `stage` cannot be made now, or None when it can."""
    if not rotation.active:
        return f"this rotation is over: {_ended(rotation)}"
    if stage != rotation.stage:
        moved = f", moved there by <@{rotation.moved_by}>" if rotation.moved_by else ""
        return f"this rotation is at step {int(rotation.stage)} now{moved}"
    if press in _ONLY_ON and rotation.stage not in _ONLY_ON[press]:
        return f"step {stage} has no “{press.value}” button"
    if press is Press.BACK and rotation.stage is Stage.CONFIRM:
        return "this is the first step"
    if press is Press.DONE and rotation.stage is Stage.RETEST:
        return (
            "step 6 moves on when the Test passes: run it again once the secret holds the "
            "new token, or cancel"
        )
    return None


def move(rotation: Rotation, stage: int, press: Press, by: str, now: datetime) -> Moved | str:
    """Done, Back or Cancel pressed on `stage` by `by`; or why nothing changed."""
    refused = refusal(rotation, stage, press)
    if refused is not None:
        return refused
    moved = replace(rotation, moved_by=by, moved_at=now)
    if press is Press.CANCEL:
        ended = replace(moved, outcome=Outcome.CANCELLED, ended_by=by, ended_at=now)
        return Moved(ended, f"cancelled the rotation at step {stage}")
    if press is Press.BACK:
        return Moved(replace(moved, stage=Stage(stage - 1)), f"went back to step {stage - 1}")
    if rotation.stage is LAST:
        finished = replace(moved, outcome=Outcome.FINISHED, ended_by=by, ended_at=now)
        return Moved(finished, "revoked the old token: the rotation is finished")
    return Moved(replace(moved, stage=Stage(stage + 1)), f"finished step {stage}")


def after_test(
    rotation: Rotation, stage: int, seen: SeenTest, waiting: Iterable[Waiting] | None
) -> Moved:
    """The rotation once the Test run on `stage` said `seen`: step 1 moves on when GitHub
    rejects the token (the diagnosis is confirmed), step 6 when it accepts the new one, and
    then starts watching `waiting`, the pairs the outage held up (None: not known yet, the
    watch lists them at its next broker read)."""
    seen = replace(seen, on=Stage(stage))
    moved = replace(rotation, test=seen, moved_by=seen.by, moved_at=seen.at)
    said = f"{'asked the canary (no CI run)' if seen.canary else 'ran the Test'}: {seen.headline}"
    if stage == Stage.CONFIRM and seen.kind is HealthKind.TOKEN_DEAD:
        return Moved(replace(moved, stage=Stage.SIGN_IN), said + " Diagnosis confirmed.")
    if stage == Stage.RETEST and seen.passed:
        passed = replace(
            moved,
            stage=Stage.WATCH,
            passed_at=seen.at,
            waiting=tuple(waiting or ()),
            listed=waiting is not None,
        )
        return Moved(passed, said + " The new token works.")
    return Moved(moved, said)


def canary_test(run: CanaryRun, by: str) -> SeenTest:
    """What the canary's run said, as a re-test: only a token with the repo scope passes."""
    kinds = {Verdict.ALIVE: HealthKind.OK, Verdict.DEAD: HealthKind.TOKEN_DEAD}
    kind = kinds.get(run.verdict, HealthKind.NO_ACCESS)
    return SeenTest(run.at, by, kind, run.verdict is Verdict.ALIVE, run.headline, canary=True)


def retest_advice(seen: SeenTest, ci: str = "github") -> str | None:
    """What a failing re-test of a webhook to `ci` means now that the secret should hold a new
    credential."""
    if seen.passed:
        return None
    if ci == "github":
        return _RETEST_ADVICE.get(seen.kind)
    return _ELSEWHERE_ADVICE.get(seen.kind)


_RETEST_ADVICE = {
    HealthKind.TOKEN_DEAD: (
        "Still 401: the secret was not updated (saved?), or the webhook references another "
        "secret than the one you changed: its Authorization header names it as ${user.<name>}."
    ),
    HealthKind.NO_ACCESS: (
        "404: the new token cannot see the repository, or lacks the repo scope: generate it "
        "again as the machine user, with repo ticked."
    ),
    HealthKind.FORBIDDEN: (
        "403: the token is not authorised for the organisation's SAML single sign-on: on the "
        "token's page choose Configure SSO and authorise the organisation (or read GitHub's "
        "message: a rate limit, or a lock-out after repeated bad credentials)."
    ),
    HealthKind.HIDDEN: (
        "The broker hides GitHub's answer: set its webhook host whitelist "
        "(PACT_BROKER_WEBHOOK_HOST_WHITELIST=api.github.com) to see it, or look in the "
        "provider's Actions for a run started just now."
    ),
}


# For other CIs: the Test's own headline says what their answer means.
_ELSEWHERE_ADVICE = {
    HealthKind.TOKEN_DEAD: (
        "Still refused: the secret was not updated (saved?), or the webhook references another "
        "secret than the one you changed."
    ),
    HealthKind.HIDDEN: (
        "The broker hides the CI's answer: set its webhook host whitelist "
        "(PACT_BROKER_WEBHOOK_HOST_WHITELIST, the CI's API host) to see it, or look for a build "
        "started just now."
    ),
}


def seen_run(rotation: Rotation, run: RunSeen | None, by: str, now: datetime) -> Moved:
    """The rotation once someone looked for the provider's run (`run`: None, not found)."""
    moved = replace(rotation, run=run or rotation.run, moved_by=by, moved_at=now)
    if run is None:
        return Moved(moved, "looked for the provider's run: none yet")
    outcome = run.conclusion or run.status.replace("_", " ")
    return Moved(moved, f"looked at the provider's run: {outcome}")


def still_waiting(rows: Iterable[PairRow]) -> list[Waiting]:
    """Of the webhook's pairs, those whose latest pact waits for a verification."""
    return [
        Waiting(row.key, row.freshness.waiting_since)
        for row in rows
        if row.freshness.waiting_since is not None and row.state is not State.FRESH
    ]


def verified(
    rotation: Rotation, rows: Iterable[PairRow], now: datetime, labelled: Labelled = NO_LABELS
) -> Rotation | None:
    """The rotation with the waiting pairs whose verification arrived (in `rows`, read now)
    ticked off, or None when nothing changed; `labelled` matches label-scoped webhooks."""
    if not rotation.watching(now):
        return None
    rows = list(rows)
    listing = not rotation.listed
    if listing:
        covered = [row for row in rows if rotation.scope.covers(row.key, labelled)]
        rotation = replace(rotation, waiting=tuple(still_waiting(covered)), listed=True)
    arrived = {
        row.key: row.record.latest_verification
        for row in rows
        if row.record.latest_verification is not None
    }
    ticked = tuple(
        replace(waiting, verified_at=found.verified_at, success=found.success)
        if waiting.verified_at is None
        and (found := arrived.get(waiting.pair)) is not None
        and found.verified_at >= waiting.since
        else waiting
        for waiting in rotation.waiting
    )
    changed = listing or ticked != rotation.waiting
    return replace(rotation, waiting=ticked) if changed else None


def _ended(rotation: Rotation) -> str:
    verb = "finished" if rotation.outcome is Outcome.FINISHED else "cancelled"
    when = f" on {rotation.ended_at:%Y-%m-%d %H:%M} UTC" if rotation.ended_at else ""
    return f"{verb} by <@{rotation.ended_by}>{when}"
