"""Rotations as the people pressing their buttons see them: each move written first, in one
compare-and-set, then shown (the message edited in place), told in its thread with who and
when, and kept in the store's audit log.

The replica that received a click does its move; the leader watches, every few minutes, the
pairs a finished outage held up, and ticks each off as its verification arrives.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.blocks import mrkdwn
from bot.blocks.limits import Message
from bot.blocks.rotation import RotationPage, build_rotation, build_rotation_note, build_watch_over
from bot.config import Config
from bot.domain.canary import CanaryView, Verdict
from bot.domain.model import Webhook
from bot.domain.report import PairRow, Report
from bot.domain.rotation import (
    LastRotation,
    Moved,
    Press,
    Rotated,
    Rotation,
    RunSeen,
    SeenTest,
    Stage,
    after_test,
    canary_test,
    move,
    refusal,
    seen_run,
    still_waiting,
    verified,
)
from bot.domain.workflow_runs import CLOCK_SKEW, run_started_by
from bot.errors import BrokerError, GitHubError, PactbotError, SlackError, StoreUnavailable
from bot.github.client import GitHubClient
from bot.service.canaries import Canaries
from bot.service.monitor import Monitor
from bot.service.poster import SlackPoster
from bot.service.rotation_records import AUDIT, ROTATIONS, load_rotations
from bot.service.runner import RecentTest, WebhookRunner
from bot.store import Store

log = logging.getLogger(__name__)

_TRIES = 5
# How long /pact status may show past rotations as last read.
_ROTATED_FOR = timedelta(seconds=30)
GONE = "this rotation is over (or was never kept): `/pact rotate` starts one"


@dataclass(frozen=True, slots=True)
class Started:
    rotation: Rotation
    new: bool  # False: the webhook's rotation already under way


class Rotations:
    def __init__(
        self,
        config: Config,
        store: Store,
        poster: SlackPoster,
        runner: WebhookRunner,
        canaries: Canaries,
        monitor: Monitor,
        github: GitHubClient | None,
        broker_url: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._config = config
        self._store = store
        self._poster = poster
        self._runner = runner
        self._canaries = canaries
        self._monitor = monitor
        self._github = github
        self._broker_url = broker_url
        self._clock = clock
        self._rotated: tuple[datetime, Rotated] | None = None

    async def get(self, rotation_id: str) -> Rotation | None:
        return load_rotations(await self._store.get(ROTATIONS)).find(rotation_id)

    async def running(self, webhook: str) -> Rotation | None:
        """The rotation of `webhook` under way, if one is (and its message went out)."""
        rotation = load_rotations(await self._store.get(ROTATIONS)).active_for(webhook)
        return rotation if rotation and not rotation.abandoned(self._clock()) else None

    async def last(self) -> dict[str, LastRotation]:
        """Each webhook's last finished rotation, by webhook uuid."""
        book = load_rotations(await self._store.get(ROTATIONS))
        return {last.webhook: last for last in book.last}

    async def rotated(self) -> Rotated:
        """What status, the digest and App Home say of past rotations; nothing while the store
        cannot be read, so that they still answer.

        `/pact status` answers in its ack: the store is read at most every `_ROTATED_FOR`
        (and after this replica's own moves), not once per question.
        """
        now = self._clock()
        if self._rotated is not None and now - self._rotated[0] < _ROTATED_FOR:
            return self._rotated[1]
        try:
            last = await self.last()
        except StoreUnavailable as error:
            log.warning("past rotations not shown: %s", error)
            return Rotated(practice_every=self._config.rotation.practice_every)
        rotated = Rotated(last, self._config.rotation.practice_every)
        self._rotated = (now, rotated)
        return rotated

    async def start(
        self, webhook: Webhook, groups: Sequence[str], by: str, channel: str
    ) -> Started:
        """Start rotating `webhook`'s token, its message in `channel`; or the one under way."""
        assert webhook.target is not None, "only a CI trigger has a credential to rotate"
        now = self._clock()
        rotation = Rotation(
            id=f"r-{uuid.uuid4().hex[:8]}",
            webhook=webhook.uuid,
            webhook_name=webhook.name,
            target=webhook.target,
            channel=channel,
            started_by=by,
            started_at=now,
            scope=webhook.scope,
            groups=tuple(groups),
        )
        for _ in range(_TRIES):
            found = await self._store.get(ROTATIONS)
            book = load_rotations(found)
            running = book.active_for(webhook.uuid)
            if running is not None and not running.abandoned(now):
                return Started(running, new=False)
            if running is not None:  # its message never went out: nothing could press it
                book = book.without(running.id)
            expected = found.version if found else None
            written = await self._store.put(
                ROTATIONS, book.with_rotation(rotation, now).dump(), expected=expected
            )
            if written is not None:
                break
        else:
            raise PactbotError("the rotations kept changing under this replica; try again")
        try:
            posted = await self._poster.post(channel, self._page(rotation))
        except SlackError:
            await self._write(rotation.id, lambda _: None)  # no message: nothing to press
            raise
        shown = await self._write(
            rotation.id, lambda current: replace(current, channel=posted.channel, ts=posted.ts)
        )
        shown = shown or replace(rotation, channel=posted.channel, ts=posted.ts)
        await self._record(shown, "started the rotation")
        return Started(shown, new=True)

    async def press(self, rotation_id: str, stage: int, press: Press, by: str) -> str | None:
        """Done, Back or Cancel; None when it moved, else why it did not."""
        now = self._clock()
        return await self._move(rotation_id, lambda current: move(current, stage, press, by, now))

    async def run_test(self, rotation_id: str, stage: int, by: str) -> str | None:
        """Run the webhook's Test from step 1 or 6; None when it ran, else why not. Step 6
        asks the webhook's canary instead, when it has one: no CI run for a re-test."""
        rotation = await self._pressable(rotation_id, stage, Press.TEST)
        if isinstance(rotation, str):
            return rotation
        canary = self._canary(rotation) if stage == Stage.RETEST else None
        if canary is not None:
            try:
                ran = await self._canaries.run(canary, by)
            except BrokerError as error:
                return f"the canary could not run: {mrkdwn.escape(str(error))}"
            if isinstance(ran, RecentTest):
                return "the canary asked GitHub within the minute: try again in a moment"
            if ran.verdict is not Verdict.CANNOT_RUN:
                return await self._tested(rotation, stage, canary_test(ran, by))
            # It cannot ask GitHub: the webhook's own Test answers instead.
        recent = await self._runner.claim(rotation.webhook, by)
        if recent is not None:
            return (
                f"a Test of this webhook ran within the minute (by <@{recent.by}>): "
                "try again in a moment"
            )
        dispatched_at = self._clock()  # GitHub dates the run it starts from here on
        try:
            _, report = await self._runner.run(rotation.webhook, by)
        except BrokerError as error:
            return f"the Test could not run: {mrkdwn.escape(str(error))}"
        seen = SeenTest(dispatched_at, by, report.kind, report.passed, report.headline)
        return await self._tested(rotation, stage, seen)

    async def _tested(self, rotation: Rotation, stage: int, seen: SeenTest) -> str | None:
        """The rotation moved on by what the Test (or the canary) on `stage` found."""
        rows = await self._rows(rotation)
        waiting = None if rows is None else still_waiting(rows)
        return await self._move(
            rotation.id,
            lambda current: (
                refusal(current, stage, Press.TEST) or after_test(current, stage, seen, waiting)
            ),
        )

    async def check_run(self, rotation_id: str, stage: int, by: str) -> str | None:
        """Look for the workflow run the re-test started; None when looked, else why not."""
        rotation = await self._pressable(rotation_id, stage, Press.CHECK)
        if isinstance(rotation, str):
            return rotation
        if self._github is None or rotation.passed_at is None:
            return "set GITHUB_TOKEN (read-only is enough) for pactbot to find the provider's run"
        try:
            seen = await self._find_run(self._github, rotation, rotation.passed_at)
        except GitHubError as error:
            return f"GitHub could not be asked: {mrkdwn.escape(str(error))}"
        now = self._clock()
        return await self._move(
            rotation_id,
            lambda current: (
                refusal(current, stage, Press.CHECK) or seen_run(current, seen, by, now)
            ),
        )

    async def _pressable(self, rotation_id: str, stage: int, press: Press) -> Rotation | str:
        """The rotation, if `press` on `stage` may be made before its slow part; else why not
        (asked again when its outcome is written)."""
        rotation = await self.get(rotation_id)
        if rotation is None:
            return GONE
        return refusal(rotation, stage, press) or rotation

    async def _find_run(
        self, github: GitHubClient, rotation: Rotation, dispatched_at: datetime
    ) -> RunSeen | None:
        """The provider's run the re-test at `dispatched_at` started, once GitHub lists it."""
        target = rotation.target
        runs = await github.dispatch_runs(target.owner, target.repo, dispatched_at - CLOCK_SKEW)
        run = run_started_by(runs, dispatched_at)
        if run is None:
            return None
        status = run.status or "queued"
        return RunSeen(self._clock(), run.html_url, run.display_title, status, run.conclusion)

    async def watch(self) -> None:
        """The leader's look at the rotations that wait for something: the provider's run the
        re-test started, and the pairs the outage held up."""
        now = self._clock()
        book = load_rotations(await self._store.get(ROTATIONS))
        for rotation in book.open:
            if self._github is not None and rotation.awaits_run(now):
                await self._follow_run(self._github, rotation)
        watched = [r for r in book.open if r.watching(now) or r.watch_ended(now)]
        if not watched:
            return
        try:
            report = await self._monitor.refresh()
        except BrokerError as error:
            log.warning("rotations: the broker cannot be read to tick pairs off: %s", error)
            return
        for rotation in watched:
            if verified(rotation, report.rows, now, report.labelled) is not None:
                await self._tick(rotation.id, report, now)
            if rotation.watch_ended(now):
                await self._end_watch(rotation.id, now)

    async def _follow_run(self, github: GitHubClient, rotation: Rotation) -> None:
        """Show the run's progress on step 7 without anyone pressing "Check again"."""
        assert rotation.passed_at is not None
        try:
            seen = await self._find_run(github, rotation, rotation.passed_at)
        except GitHubError as error:
            log.warning(
                "rotation %s: GitHub could not be asked for the run: %s", rotation.id, error
            )
            return
        if seen is None or seen == rotation.run:
            return
        followed = await self._write(
            rotation.id,
            lambda current: replace(current, run=seen) if current.awaits_run(seen.at) else current,
        )
        if followed is not None:
            await self._show(followed)

    async def _tick(self, rotation_id: str, report: Report, now: datetime) -> None:
        """Tick off the pairs whose verification arrived, over whatever else changed."""
        ticked = await self._write(
            rotation_id,
            lambda current: verified(current, report.rows, now, report.labelled) or current,
        )
        if ticked is not None:
            await self._show(ticked)

    async def _end_watch(self, rotation_id: str, now: datetime) -> None:
        """Say once, in the channel, which pairs still wait a day after the fix."""
        flipped: list[bool] = []

        def tell(current: Rotation) -> Rotation:
            # Another leader may have told it, or the last tick verified every pair.
            flipped.append(current.watch_ended(now))
            return replace(current, watch_told=True)

        told = await self._write(rotation_id, tell)
        if told is None or told.ts is None or not flipped[-1]:
            return
        try:
            await self._poster.post(
                told.channel, build_watch_over(told), thread_ts=told.ts, broadcast=True
            )
        except SlackError as error:
            log.error("rotation %s: cannot say which pairs still wait: %s", told.id, error)

    async def _move(
        self, rotation_id: str, decide: Callable[[Rotation], Moved | str | None]
    ) -> str | None:
        """Apply `decide` in one compare-and-set, then show it, tell it and keep it; None when
        it moved, else why not."""
        for _ in range(_TRIES):
            found = await self._store.get(ROTATIONS)
            book = load_rotations(found)
            rotation = book.find(rotation_id)
            if rotation is None:
                return GONE
            decided = decide(rotation)
            if not isinstance(decided, Moved):
                return decided
            moved = decided.rotation
            written = await self._store.put(
                ROTATIONS,
                book.with_rotation(moved, self._clock()).dump(),
                expected=found.version if found else None,
            )
            if written is not None:
                self._rotated = None  # a finished rotation shows at once
                await self._show(moved)
                await self._record(moved, decided.said)
                return None
        raise PactbotError("the rotation kept changing under this replica; try again")

    async def _write(
        self, rotation_id: str, change: Callable[[Rotation], Rotation | None]
    ) -> Rotation | None:
        """Write what `change` makes of the rotation (None: drop it); the rotation written."""
        for _ in range(_TRIES):
            found = await self._store.get(ROTATIONS)
            book = load_rotations(found)
            current = book.find(rotation_id)
            if current is None:
                return None
            changed = change(current)
            new = (
                book.without(rotation_id)
                if changed is None
                else book.with_rotation(changed, self._clock())
            )
            expected = found.version if found else None
            if await self._store.put(ROTATIONS, new.dump(), expected=expected) is not None:
                return changed
        raise PactbotError("the rotation kept changing under this replica; try again")

    async def _record(self, rotation: Rotation, said: str) -> None:
        """Into the audit log, then the message's thread: who did what, when."""
        now, by = self._clock(), rotation.moved_by or rotation.started_by
        entry = {
            "rotation": rotation.id,
            "webhook": rotation.webhook,
            "stage": int(rotation.stage),
            "outcome": rotation.outcome.value,
            "by": by,
            "at": now.isoformat(),
            "what": said,
        }
        if rotation.duration is not None:
            entry["duration_seconds"] = int(rotation.duration.total_seconds())
        try:
            await self._store.append_audit(AUDIT, entry)
        except StoreUnavailable as error:  # the move itself is written: say so, not "failed"
            log.error("rotation %s: %s, but not in the audit log: %s", rotation.id, said, error)
        if rotation.ts is None:
            return
        try:
            await self._poster.post(
                rotation.channel, build_rotation_note(by, said, now), thread_ts=rotation.ts
            )
        except SlackError as error:
            log.error("rotation %s: cannot write its thread: %s", rotation.id, error)

    async def _show(self, rotation: Rotation) -> None:
        if rotation.ts is None:
            return
        try:
            await self._poster.update(rotation.channel, rotation.ts, self._page(rotation))
        except SlackError as error:
            log.error("rotation %s: cannot update its message: %s", rotation.id, error)

    def _page(self, rotation: Rotation) -> Message:
        return build_rotation(
            rotation,
            RotationPage(
                machine_user=self._config.rotation.account(rotation.target.ci),
                secret_name=self._secret(rotation),
                broker_url=self._broker_url,
                github=self._github is not None,
                now=self._clock(),
                canary=self._canary(rotation) is not None,
            ),
        )

    def _secret(self, rotation: Rotation) -> str:
        """The secret the webhook is seen to reference, else the one the config names."""
        seen = self._monitor.webhook(rotation.webhook)
        return (seen.secret if seen else None) or self._config.rotation.secret_name

    def _canary(self, rotation: Rotation) -> CanaryView | None:
        """The canary that asks about the rotated webhook's token, as last read."""
        report = self._monitor.latest
        views = report.canaries if report is not None else ()
        spoken = (view for view in views if any(w.uuid == rotation.webhook for w in view.webhooks))
        return next(spoken, None)

    async def _rows(self, rotation: Rotation) -> list[PairRow] | None:
        """The webhook's pairs as last read; None when the broker cannot be read now."""
        try:
            report = await self._monitor.current()
        except BrokerError:
            return None
        return report.covered(rotation.scope)
