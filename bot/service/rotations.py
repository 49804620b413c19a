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
from typing import Any

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
from bot.service.rotation_records import (
    AUDIT,
    ROTATIONS,
    Line,
    RotationBook,
    Unshown,
    load_rotations,
)
from bot.service.runner import RecentTest, WebhookRunner
from bot.store import Store

log = logging.getLogger(__name__)

_TRIES = 5
# A replica saying a rotation's line holds it this long; the leader says a line left unsaid
# this long after its move (its replica died, or Slack failed).
_SAYING_FOR = timedelta(minutes=1)
_LEFT_AFTER = timedelta(minutes=1)
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
            rotation.id,
            lambda current: replace(current, channel=posted.channel, ts=posted.ts),
            say="started the rotation",
        )
        shown = shown or replace(rotation, channel=posted.channel, ts=posted.ts)
        await self._say(rotation.id)
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
        refused = refusal(rotation, stage, press)
        return rotation if refused is None else await self._refused(rotation, refused)

    async def _refused(self, rotation: Rotation, why: str) -> str:
        """Why a press changed nothing, once the message shows the rotation as it is: a press
        on a step it left means the message missed an edit (Slack failed it, or an older edit
        landed after a newer one), and shown again it has the buttons of the current step."""
        await self._show(rotation)
        return why

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
        """The leader's look at the rotations that wait for something: lines a replica left
        unsaid, the provider's run the re-test started, and the pairs the outage held up."""
        now = self._clock()
        book = load_rotations(await self._store.get(ROTATIONS))
        left = {line.rotation for line in book.lines if now - line.at >= _LEFT_AFTER}
        for rotation_id in sorted(left):
            await self._say(rotation_id)
        for unshown in book.unshown:
            if now - unshown.at >= _LEFT_AFTER:
                await self._show_again(unshown)
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
            if isinstance(decided, str):
                return await self._refused(rotation, decided)
            if decided is None:
                return None
            moved = decided.rotation
            now = self._clock()
            book = book.with_rotation(moved, now).with_line(_line(moved, decided.said, now))
            written = await self._store.put(
                ROTATIONS, book.dump(), expected=found.version if found else None
            )
            if written is not None:
                self._rotated = None  # a finished rotation shows at once
                await self._show(moved)
                await self._say(moved.id)
                return None
        raise PactbotError("the rotation kept changing under this replica; try again")

    async def _write(
        self,
        rotation_id: str,
        change: Callable[[Rotation], Rotation | None],
        say: str | None = None,
    ) -> Rotation | None:
        """Write what `change` makes of the rotation (None: drop it), with the line `say` to
        say of it; the rotation written."""
        for _ in range(_TRIES):
            found = await self._store.get(ROTATIONS)
            book = load_rotations(found)
            current = book.find(rotation_id)
            if current is None:
                return None
            changed = change(current)
            now = self._clock()
            new = book.without(rotation_id) if changed is None else book.with_rotation(changed, now)
            if changed is not None and say is not None:
                new = new.with_line(_line(changed, say, now))
            expected = found.version if found else None
            if await self._store.put(ROTATIONS, new.dump(), expected=expected) is not None:
                return changed
        raise PactbotError("the rotation kept changing under this replica; try again")

    async def _say(self, rotation_id: str) -> None:
        """Say the lines the moves of `rotation_id` still have to say, oldest first. A line
        another replica holds is its to say (or, if it died, the leader's next `watch`): the
        lines after it do not wait for it. Slack failing stops the rest until then."""
        seen: set[str] = set()
        while True:  # read again after each: a move made meanwhile may have added one
            book, now = load_rotations(await self._store.get(ROTATIONS)), self._clock()
            line = next(
                (
                    line
                    for line in book.lines
                    if line.rotation == rotation_id
                    and line.id not in seen
                    and (line.until is None or line.until <= now)
                ),
                None,
            )
            if line is None:
                return
            seen.add(line.id)
            if not await self._say_line(line.id):
                return

    async def _say_line(self, line_id: str) -> bool:
        """Into the audit log, then the message's thread: who did what, when. Whether it is
        said (or was, by another replica)."""
        now = self._clock()
        for _ in range(_TRIES):
            found = await self._store.get(ROTATIONS)
            book = load_rotations(found)
            line = book.line(line_id)
            if line is None:
                return True
            if line.until is not None and now < line.until:
                return False  # another replica is saying it
            claimed = line.model_copy(update={"tried": True, "until": now + _SAYING_FOR})
            expected = found.version if found else None
            if await self._store.put(ROTATIONS, book.with_line(claimed).dump(), expected=expected):
                break
        else:
            return False
        if not line.tried:
            try:
                await self._store.append_audit(AUDIT, line.audit)
            except StoreUnavailable as error:  # the move itself is written: say so, not "failed"
                log.error(
                    "rotation %s: %s, but not in the audit log: %s", line.rotation, line.said, error
                )
        if line.thread_ts is not None:
            try:
                await self._post_line(line)
            except SlackError as error:
                log.error("rotation %s: cannot write its thread yet: %s", line.rotation, error)
                return False
        await self._drop_line(line_id)
        return True

    async def _post_line(self, line: Line) -> None:
        assert line.thread_ts is not None
        # Said before by a process that died, or whose answer was lost?
        if line.tried and await self._poster.find(
            line.channel, line.id, line.at, thread_ts=line.thread_ts
        ):
            return
        note = build_rotation_note(line.by, line.said, line.at)
        await self._poster.post(line.channel, note, thread_ts=line.thread_ts, mark=line.id)

    async def _drop_line(self, line_id: str) -> None:
        if not await self._rewrite(lambda book: book.without_line(line_id)):
            log.error(
                "rotation line %s: said, but still kept: the rotations kept changing", line_id
            )

    async def _rewrite(self, change: Callable[[RotationBook], RotationBook]) -> bool:
        """Write what `change` makes of the book, unless nothing; False if it kept changing."""
        for _ in range(_TRIES):
            found = await self._store.get(ROTATIONS)
            book = load_rotations(found)
            changed = change(book)
            if changed == book:
                return True
            expected = found.version if found else None
            if await self._store.put(ROTATIONS, changed.dump(), expected=expected):
                return True
        return False

    async def _show(self, rotation: Rotation) -> None:
        """Show `rotation` as it is now; if Slack fails the edit, the leader shows it again a
        minute later (not sooner: an edit Slack answered too late may still land)."""
        if rotation.ts is None:
            return
        try:
            await self._poster.update(rotation.channel, rotation.ts, self._page(rotation))
        except SlackError as error:
            log.error("rotation %s: cannot update its message yet: %s", rotation.id, error)
            now = self._clock()
            try:
                await self._rewrite(lambda book: book.with_unshown(rotation.id, now))
            except StoreUnavailable as unstored:
                log.error("rotation %s: its message is left as it was: %s", rotation.id, unstored)

    async def _show_again(self, unshown: Unshown) -> None:
        rotation = load_rotations(await self._store.get(ROTATIONS)).find(unshown.rotation)
        if rotation is not None:
            await self._show(rotation)  # which marks it again if Slack fails it again
        await self._rewrite(lambda book: book.shown(unshown))

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


def _line(rotation: Rotation, said: str, at: datetime) -> Line:
    """What the move that left `rotation` as it is, at `at`, has to say: `said`, by whom."""
    by = rotation.moved_by or rotation.started_by
    audit: dict[str, Any] = {
        "rotation": rotation.id,
        "webhook": rotation.webhook,
        "stage": int(rotation.stage),
        "outcome": rotation.outcome.value,
        "by": by,
        "at": at.isoformat(),
        "what": said,
    }
    if rotation.duration is not None:
        audit["duration_seconds"] = int(rotation.duration.total_seconds())
    return Line(
        id=f"{rotation.id}-{uuid.uuid4().hex[:8]}",
        rotation=rotation.id,
        audit=audit,
        by=by,
        said=said,
        at=at,
        channel=rotation.channel,
        thread_ts=rotation.ts,
    )
