"""The daily digest: built from a fresh read, posted once per day per channel, whatever happens.

Once per day is kept in the store, not in memory: a document per channel and local day says
who claimed the day, whether the broker could not be read (and where that was said), the
posted message's channel and `ts`, and the thread replies still to send. A restart, a retry or
a second replica reads it before posting. A claim older than ten minutes is taken over: its
holder died between claiming and posting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.blocks.digest import NONE_KNOWN, build_digest, build_digest_failure
from bot.blocks.limits import Message
from bot.config import Digest, digest_day, lint_day
from bot.domain.report import Report
from bot.domain.rotation import NONE_ROTATED
from bot.errors import BrokerError, SlackError
from bot.service.alerting import Alerter
from bot.service.monitor import Monitor
from bot.service.poster import Posted, SlackPoster
from bot.service.rotations import Rotations
from bot.service.runner import WebhookRunner
from bot.store import Document, Json, Store

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=30)
# Each day's record, `digest:<channel>:<day>`: claimed, posted where, replies still to send.
DIGESTS = "digest:"
_STALE_CLAIM = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one run of the digest did, and when to try again (None: nothing to retry)."""

    said: str
    retry_at: datetime | None = None


class DigestPoster:
    def __init__(
        self,
        *,
        config: Digest | None,
        monitor: Monitor,
        poster: SlackPoster,
        store: Store,
        clock: Callable[[], datetime],
        holder: str,
        alerter: Alerter | None = None,
        rotations: Rotations | None = None,
        runner: WebhookRunner | None = None,
    ) -> None:
        self._config = config
        self._monitor = monitor
        self._poster = poster
        self._store = store
        self._clock = clock
        self._holder = holder
        self._alerter = alerter
        self._rotations = rotations
        self._runner = runner

    def today(self) -> date:
        return digest_day(self._config, self._clock())

    async def daily(self) -> Outcome:
        """Post today's digest in the digest channel unless it was posted already."""
        if self._config is None:
            return Outcome("no digest channel is configured (digest.channel in pactbot.yml)")
        day, channel = self.today(), self._config.channel
        key = f"{DIGESTS}{channel}:{day.isoformat()}"
        claimed = await self._claim(key)
        if claimed is None:
            return Outcome("already posted or being posted")
        if claimed.value.get("state") == "posted":
            return await self._send_thread(key, claimed, day)
        try:
            report = await self._monitor.refresh()
        except BrokerError as error:
            return await self._broker_down(key, channel, claimed, day, error)
        messages = await self._messages(report, day)
        return await self._post(key, channel, claimed, messages, day)

    async def post_here(self, channel: str) -> None:
        """Post the digest now in `channel` (`/pact digest`); the daily one is not affected."""
        messages = await self._messages(await self._monitor.refresh(), self.today())
        where = await self._poster.post(channel, messages[0])
        for message in messages[1:]:
            await self._poster.post(where.channel, message, thread_ts=where.ts)

    async def _messages(self, report: Report, day: date) -> list[Message]:
        """The digest, with a line per firing alert, the silenced pairs marked, the last
        rotations, and on the first digest of the week the webhook lint."""
        lint = lint_day(self._config, day)
        rotated = await self._rotations.rotated() if self._rotations else NONE_ROTATED
        expiries = (
            await self._runner.expiries(view.webhook.uuid for view in report.webhooks)
            if lint and self._runner
            else NONE_KNOWN
        )
        if self._alerter is None:
            return build_digest(report, day=day, rotated=rotated, lint=lint, expiries=expiries)
        state = await self._alerter.state()
        silences = await self._alerter.silences()
        return build_digest(
            report,
            day=day,
            alerts=state.alerts,
            silences=silences,
            rotated=rotated,
            lint=lint,
            expiries=expiries,
        )

    async def _post(
        self, key: str, channel: str, claimed: Document, messages: Sequence[Message], day: date
    ) -> Outcome:
        notice = claimed.value.get("notice")
        try:
            if notice:
                # The broker-down notice becomes the digest, where Slack said it was posted.
                where = Posted(str(claimed.value["channel"]), str(notice))
                await self._poster.update(where.channel, where.ts, messages[0])
            else:
                tried = await self._tried(key, channel, claimed)
                if tried is None:
                    return Outcome("another replica took the day over")
                claimed, found = tried
                where = found or await self._poster.post(channel, messages[0], mark=key)
        except SlackError as error:
            return await self._record(key, claimed, {"state": "failed", "reason": str(error)})
        # Recorded before the thread replies: from here on a retry must not post the digest
        # again, only send the replies still to send; they are kept as built, so the thread
        # goes on where it stopped even when the broker cannot be read any more.
        replies = [{"text": message.text, "blocks": message.blocks} for message in messages[1:]]
        value = {"state": "posted", "channel": where.channel, "ts": where.ts, "replies": replies}
        posted = await self._store.put(key, dict(claimed.value) | value, expected=claimed.version)
        if posted is None:
            return Outcome("posted, but another replica wrote the day too")
        return await self._send_thread(key, posted, day)

    async def _tried(
        self, key: str, channel: str, claimed: Document
    ) -> tuple[Document, Posted | None] | None:
        """Record that the post is being tried; if it was tried before, the message that try
        left in Slack, if any: a process may die, or an answer be lost, after Slack took it."""
        since = claimed.value.get("tried_at")
        now = self._clock()
        value = dict(claimed.value) | {"tried_at": since or now.isoformat()}
        written = await self._store.put(key, value, expected=claimed.version)
        if written is None:
            return None
        if since is None:
            return written, None
        ts = await self._poster.find(channel, key, datetime.fromisoformat(str(since)))
        return written, Posted(channel, ts) if ts else None

    async def _send_thread(self, key: str, document: Document, day: date) -> Outcome:
        """Send the digest's thread replies still to send, recording each one sent."""
        value: dict[str, Json] = dict(document.value)
        while value["replies"]:
            first, *rest = value["replies"]
            reply = Message(str(first["text"]), list(first["blocks"]))
            try:
                await self._poster.post(str(value["channel"]), reply, thread_ts=str(value["ts"]))
            except SlackError as error:
                left = len(value["replies"])
                said = f"posted, but {left} thread replies are not sent yet: {error}"
                return Outcome(said, self._retry_at(day))
            value["replies"] = rest
            written = await self._store.put(key, value, expected=document.version)
            if written is None:
                return Outcome("posted; another replica sends the thread replies")
            document = written
        return Outcome("posted")

    async def _claim(self, key: str) -> Document | None:
        """The day's document, now held by this replica; None if done or held elsewhere."""
        now = self._clock()
        found = await self._store.get(key)
        value: dict[str, Json] = dict(found.value) if found else {}
        state = value.get("state")
        if state == "posted" and not value.get("replies"):
            return None
        held = state in ("claimed", "posted") and value.get("holder") != self._holder
        if held and now - datetime.fromisoformat(str(value["at"])) < _STALE_CLAIM:
            return None
        # A posted digest stays posted while its thread is resumed.
        claim = value | {"state": state if state == "posted" else "claimed"}
        claim |= {"holder": self._holder, "at": now.isoformat()}
        return await self._store.put(key, claim, expected=found.version if found else None)

    async def _broker_down(
        self, key: str, channel: str, claimed: Document, day: date, error: BrokerError
    ) -> Outcome:
        retry_at = self._retry_at(day)
        value: dict[str, Json] = dict(claimed.value) | {"state": "failed", "reason": str(error)}
        if not value.get("notice"):
            failure = build_digest_failure(str(error), day=day, retry_at=retry_at)
            try:
                where = await self._poster.post(channel, failure)
            except SlackError as slack:
                log.error("the digest could not say the broker is down: %s", slack)
            else:
                value |= {"notice": where.ts, "channel": where.channel}
        await self._store.put(key, value, expected=claimed.version)
        return Outcome(f"broker unreachable: {error}", retry_at)

    async def _record(self, key: str, claimed: Document, value: dict[str, Json]) -> Outcome:
        await self._store.put(key, dict(claimed.value) | value, expected=claimed.version)
        return Outcome(str(value.get("reason", value["state"])), self._retry_at(self.today()))

    def _retry_at(self, day: date) -> datetime | None:
        """Half an hour from now, if that is still `day` where the digest is read."""
        retry_at = self._clock() + RETRY_AFTER
        return retry_at if digest_day(self._config, retry_at) == day else None
