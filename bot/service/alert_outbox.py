"""The Slack steps of the alerts, done exactly once: queued with the decision, done one at a time
under a claim, each one's outcome written before the next.

A replica writes the steps it decided together with the state, in one compare-and-set, and
claims them: no other replica does them while the claim lives (it is renewed with every step
written). A replica that finds a claim run out finishes what its holder left, and for a step
that may have reached Slack (tried, or under way when the holder died) it first looks for the
message that step marked, so nothing is posted twice and nothing is lost. Within a replica one
task does the steps, and whoever asked waits for it only so long: Slack being slow holds up no
evaluation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from bot.blocks.alert import (
    build_alert,
    build_fixed,
    build_joined,
    build_reminder,
    build_resolution,
)
from bot.domain.alerts import Action, Alert, AlertState, Silence, Step
from bot.errors import SlackError, SlackPermanent
from bot.service.alert_records import ALERTS, AlertRecord, Claim, Pending, load_alerts
from bot.service.liveness import alive, say_alive
from bot.service.poster import SlackPoster
from bot.store import Document, Store

log = logging.getLogger(__name__)

# How long one step may take: a Slack call's 10 s and one Retry-After wait of up to 30 s. A
# step still going then is given up and tried later, looked for in Slack first.
STEP = timedelta(seconds=40)
# A step whose try failed is tried again no sooner than this: a call Slack answered too late
# (or never) may still be taken, and a message it leaves must be there to be looked for.
SETTLE = timedelta(seconds=30)
# The claim is renewed after each step, so it need only outlast one: a replica that died
# mid-step holds the steps up for no longer than this.
CLAIM = STEP + timedelta(seconds=5)
_TRIES = 5
# Steps that render the message as it stands: a newer one makes an older UPDATE needless.
_RENDERS = (Step.UPDATE, Step.JOIN, Step.FIX, Step.RESOLVE)


class Result(Enum):
    DONE = "done"
    LATER = "later"  # Slack could not take it now: kept, and looked for before the next try
    DROP = "drop"  # nothing to do any more, or Slack refuses it for good


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    ts: str | None = None  # a posted alert's message


def queue(
    record: AlertRecord, actions: Sequence[Action], holder: str, now: datetime
) -> AlertRecord:
    """`record` with `actions` queued after its own steps, claimed by `holder` unless another
    replica holds a claim: `Outbox.say` takes that over once it is not held any more, with
    the step its holder may have left under way."""
    outbox = list(record.outbox)
    for action in actions:
        outbox = [p for p in outbox if not _superseded(p.action, action)]
        outbox.append(Pending(action=action))
    other = record.claim is not None and record.claim.holder != holder
    claim = record.claim if other else Claim(holder=holder, until=now + CLAIM)
    return record.model_copy(update={"outbox": tuple(outbox), "claim": claim if outbox else None})


def _superseded(queued: Action, newer: Action) -> bool:
    """Whether `queued`, not yet done, is needless once `newer` is queued: an edit that a newer
    render shows, or a reminder that a newer one repeats (steps wait while Slack fails or a
    slow replica holds them, and two reminders in a row would say the same)."""
    if queued.alert != newer.alert:
        return False
    if queued.step is Step.UPDATE:
        return newer.step in _RENDERS
    return queued.step is Step.REMIND and newer.step is Step.REMIND


def unposted(state: AlertState, outbox: Sequence[Pending], now: datetime) -> list[Action]:
    """A new post for each firing alert Slack refused to post (the channel was missing, or the
    bot not in it): tried again every evaluation, until a person fixes that."""
    waiting = {p.action.alert for p in outbox if p.action.step is Step.POST}
    return [
        Action(f"{alert.id}:post:{int(now.timestamp())}", Step.POST, alert.id, now)
        for alert in state.alerts
        if alert.firing and alert.ts is None and alert.id not in waiting
    ]


class Outbox:
    def __init__(
        self,
        store: Store,
        poster: SlackPoster,
        clock: Callable[[], datetime],
        holder: str,
        alive_for: timedelta,
        silences: Callable[[], Awaitable[Sequence[Silence]]],
    ) -> None:
        """`alive_for`: how long this replica is taken as alive once it says so (a lease);
        `silences`: the silences in force, which the messages show."""
        self._store = store
        self._poster = poster
        self._clock = clock
        self._holder = holder
        self._alive_for = alive_for
        self._silences = silences
        # One task does this replica's steps: two callers never do the same step at once, and
        # a caller that stops waiting (Slack is slow) leaves it going.
        self._saying: asyncio.Future[None] | None = None
        self._again = False
        self._fresh: set[str] = set()

    async def say(self, fresh: Iterable[str], patience: float | None = None) -> None:
        """Have the outbox's steps done (`fresh`: those the caller has just queued), waiting
        for them for at most `patience` seconds (None: until done) and raising what stopped
        them; steps still going then go on after the caller.

        A call while steps are under way has the outbox read and done once more after them:
        what was queued meanwhile does not wait for the next caller.
        """
        self._fresh.update(fresh)
        self._again = True
        if self._saying is None or self._saying.done():
            self._saying = asyncio.ensure_future(self._rounds())
            self._saying.add_done_callback(_log_failure)
        saying = self._saying
        try:
            done, _ = await asyncio.wait({saying}, timeout=patience)
        except asyncio.CancelledError:
            saying.cancel()  # the replica is stopping
            raise
        if done:
            saying.result()

    @property
    def busy(self) -> bool:
        """Whether this replica's steps are under way (and will look at the outbox again)."""
        return self._saying is not None and not self._saying.done()

    async def stop(self) -> None:
        """Stop the steps under way: the replica is going, and another takes them over."""
        if self._saying is not None:
            self._saying.cancel()
            await asyncio.gather(self._saying, return_exceptions=True)

    async def _rounds(self) -> None:
        while self._again:
            self._again = False
            fresh, self._fresh = self._fresh, set()
            # Read again, never the caller's copy: a round before this one may have done
            # steps that copy still lists.
            found = await self._store.get(ALERTS)
            if found is not None:
                await self._drain(found, await self._silences(), fresh)

    async def held_by_other(self, record: AlertRecord) -> bool:
        """Whether another replica holds the steps: its claim lives, and so does it."""
        if record.claim is None or not record.claimed_by_other(self._holder, self._clock()):
            return False
        return await alive(self._store, record.claim.holder)

    async def _drain(
        self, found: Document, silences: Sequence[Silence], fresh: Iterable[str]
    ) -> Document | None:
        """Do the steps of `found`'s outbox this replica may do; the document as left.

        `fresh` are the steps the caller has just queued: any other may have been tried before
        (by a replica that died, or by this one before the store failed it), so its message is
        looked for in Slack first.
        """
        queued = frozenset(fresh)
        record = load_alerts(found)
        now = self._clock()
        if await self.held_by_other(record):
            return found
        # Alive for as long as a lease, before any step: a replica that dies in the middle of
        # one is known to be dead that much later.
        await say_alive(self._store, self._holder, self._alive_for)
        if record.claim is None or record.claim.holder != self._holder:
            # Take the steps over first, so that no other replica does them at the same time.
            outbox = record.outbox
            if record.claim is not None:  # its holder died or ran late, maybe in a Slack call
                outbox = _settling(outbox, record.claim.until - CLAIM, now)
            taken = record.model_copy(
                update={"claim": Claim(holder=self._holder, until=now + CLAIM), "outbox": outbox}
            )
            written = await self._store.put(ALERTS, taken.dump(), expected=found.version)
            if written is None:
                return await self._store.get(ALERTS)
            log.info("doing %d alert steps left over", len(taken.outbox))
            found, record = written, taken
        attempted: set[str] = set()
        blocked: set[str] = set()  # alerts with a step deferred: their later steps wait too
        while True:
            record = _tried_unless(record, queued)
            pending = next(
                (
                    p
                    for p in record.outbox
                    if p.action.id not in attempted and p.action.alert not in blocked
                ),
                None,
            )
            if pending is None:
                break
            attempted.add(pending.action.id)
            if _waits(pending, self._clock()):
                blocked.add(pending.action.alert)
                continue
            outcome = await self._perform(record, pending, silences)
            if outcome.result is Result.LATER:
                blocked.add(pending.action.alert)
            written = await self._settle(found, pending, outcome)
            if written is None:
                return None
            found, record = written, load_alerts(written)
            if record.claimed_by_other(self._holder, self._clock()):
                return found
        return await self._release(found) if record.claim else found

    async def _perform(
        self, record: AlertRecord, pending: Pending, silences: Sequence[Silence]
    ) -> Outcome:
        action = pending.action
        alert = record.state.alert(action.alert)
        if alert is None:
            return Outcome(Result.DROP)
        try:
            async with asyncio.timeout(STEP.total_seconds()):
                return await self._step(alert, pending, silences)
        except TimeoutError:
            log.warning(
                "alert step %s took over %ds, tried again later",
                action.id,
                STEP.total_seconds(),
                extra={"alert": action.alert, "step": action.step.value},
            )
            return Outcome(Result.LATER)
        except SlackPermanent as error:
            log.error(
                "alert step %s refused by Slack for good, dropped: %s",
                action.id,
                error,
                extra={"alert": action.alert, "step": action.step.value, "slack": error.method},
            )
            return Outcome(Result.DROP)
        except SlackError as error:
            log.warning(
                "alert step %s not done, tried again later: %s",
                action.id,
                error,
                extra={"alert": action.alert, "step": action.step.value, "slack": error.method},
            )
            return Outcome(Result.LATER)

    async def _step(self, alert: Alert, pending: Pending, silences: Sequence[Silence]) -> Outcome:
        action, now = pending.action, self._clock()
        if action.step is Step.POST:
            if alert.ts is not None:
                return Outcome(Result.DROP)
            found = await self._find(alert, pending)
            if not alert.firing:  # over: unseen, unless a try reached Slack (its end goes next)
                return Outcome(Result.DONE, found) if found else Outcome(Result.DROP)
            ts = (
                found
                or (
                    await self._poster.post(
                        alert.channel, build_alert(alert, now, silences), mark=action.id
                    )
                ).ts
            )
            return Outcome(Result.DONE, ts)
        if alert.ts is None:  # never posted: the post, when it goes, shows all this
            return Outcome(Result.DROP)
        if action.step is Step.REMIND and not alert.firing:
            return Outcome(Result.DROP)
        if action.step in _RENDERS:
            await self._poster.update(alert.channel, alert.ts, build_alert(alert, now, silences))
        if action.step is not Step.UPDATE and not await self._find(alert, pending, alert.ts):
            if action.step is Step.JOIN:
                note = build_joined(alert, action.pairs, action.webhooks)
            elif action.step is Step.FIX:
                note = build_fixed(alert, action.webhooks)
            else:
                note = _NOTES[action.step](alert, now)
            broadcast = action.step is Step.JOIN  # what newly fired is news for the channel
            await self._poster.post(
                alert.channel, note, thread_ts=alert.ts, mark=action.id, broadcast=broadcast
            )
        webhooks = ",".join(action.webhooks) or None
        fields = {"alert": alert.id, "step": action.step.value, "webhook": webhooks}
        log.info("alert %s: %s done", alert.id, action.step.value, extra=fields)
        return Outcome(Result.DONE)

    async def _find(
        self, alert: Alert, pending: Pending, thread_ts: str | None = None
    ) -> str | None:
        """The message of a step that may have reached Slack before, if it did."""
        if not pending.tried:
            return None
        return await self._poster.find(
            alert.channel, pending.action.id, pending.action.at, thread_ts
        )

    async def _settle(self, found: Document, pending: Pending, outcome: Outcome) -> Document | None:
        """Write one step's outcome over whatever else changed meanwhile."""
        for _ in range(_TRIES):
            record = load_alerts(found)
            written = await self._store.put(
                ALERTS, self._settled(record, pending, outcome).dump(), expected=found.version
            )
            if written is not None:
                return written
            again = await self._store.get(ALERTS)
            if again is None:
                return None
            found = again
        log.error(
            "alert step %s done, but the state kept changing: not recorded", pending.action.id
        )
        return None

    def _settled(self, record: AlertRecord, pending: Pending, outcome: Outcome) -> AlertRecord:
        now, step = self._clock(), pending.action.id
        if outcome.result is Result.LATER:
            outbox = tuple(_failed(p, now) if p.action.id == step else p for p in record.outbox)
        else:
            outbox = tuple(p for p in record.outbox if p.action.id != step)
        state = record.state
        alert = state.alert(pending.action.alert)
        if outcome.ts is not None and alert is not None:
            state = state.with_alert(replace(alert, ts=outcome.ts))
        mine = not record.claimed_by_other(self._holder, now)
        claim = Claim(holder=self._holder, until=now + CLAIM) if mine and outbox else record.claim
        return record.with_state(state).model_copy(
            update={"outbox": outbox, "claim": claim if outbox else None}
        )

    async def _release(self, found: Document) -> Document | None:
        """Let any replica do what is left (Slack refused it for now) at its next chance."""
        record = load_alerts(found)
        if record.claim is None or record.claim.holder != self._holder:
            return found
        released = record.model_copy(update={"claim": None})
        return await self._store.put(ALERTS, released.dump(), expected=found.version) or found


def _failed(pending: Pending, now: datetime) -> Pending:
    """`pending` as a try that failed `now`: looked for before it is done again, once settled."""
    return pending.model_copy(update={"tried": True, "failed_at": now})


def _waits(pending: Pending, now: datetime) -> bool:
    """Whether `pending` failed too recently to be looked for and tried again."""
    return pending.failed_at is not None and now - pending.failed_at < SETTLE


def _settling(
    outbox: tuple[Pending, ...], picked_at: datetime, now: datetime
) -> tuple[Pending, ...]:
    """`outbox` with the step its holder took up at `picked_at` (as `Outbox` takes them: the
    first whose alert has no step waiting) treated as failed `now`: Slack may still finish the
    call the holder died in, and the message it leaves must be there to be looked for."""
    blocked: set[str] = set()
    for pending in outbox:
        if pending.action.alert in blocked:
            continue
        if _waits(pending, picked_at):
            blocked.add(pending.action.alert)
            continue
        return tuple(_failed(p, now) if p is pending else p for p in outbox)
    return outbox


def _log_failure(saying: asyncio.Future[None]) -> None:
    if not saying.cancelled() and (error := saying.exception()) is not None:
        log.warning("alert steps stopped, done at the next evaluation: %s", error)


def _tried(pending: Pending) -> Pending:
    return pending.model_copy(update={"tried": True})


def _tried_unless(record: AlertRecord, fresh: frozenset[str]) -> AlertRecord:
    """`record` with every step not in `fresh` taken as tried before."""
    outbox = tuple(p if p.action.id in fresh else _tried(p) for p in record.outbox)
    return record.model_copy(update={"outbox": outbox})


_NOTES = {Step.REMIND: build_reminder, Step.RESOLVE: build_resolution}
