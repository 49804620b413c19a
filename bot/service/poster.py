"""Sending messages to Slack: paced per channel, and failures a person must fix surfaced once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.limits import Message
from bot.errors import SlackPermanent, SlackRetryable
from bot.service.health import Health
from bot.service.metrics import Metrics

Sleep = Callable[[float], Awaitable[None]]

_MARKED = "pactbot_step"
# chat.postMessage: about one message per second per channel (slack-platform.md §10).
_SPACING = timedelta(seconds=1)
# Slack's clock and ours may differ a little: look back a bit further than the outbox says.
_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Posted:
    """Where a message went, as Slack names it: the channel's ID (a DM's D…) and the `ts`."""

    channel: str
    ts: str


class SlackPoster:
    def __init__(
        self,
        client: AsyncWebClient,
        health: Health,
        metrics: Metrics,
        clock: Callable[[], datetime],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._client = client
        self._metrics = metrics
        self._session: aiohttp.ClientSession | None = None
        self._session_lock = asyncio.Lock()
        self._closed = False
        self._health = health
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, datetime] = {}
        self._lock = asyncio.Lock()

    async def post(
        self,
        channel: str,
        message: Message,
        *,
        thread_ts: str | None = None,
        watch: bool = True,
        mark: str | None = None,
        broadcast: bool = False,
    ) -> Posted:
        """Post `message` in `channel` (in a thread when `thread_ts` is given).

        Unless `watch` is false, a refusal a person must fix stands in /readyz until a post
        there succeeds. `mark` goes into the message's metadata, so that `find` can tell later
        whether a post that was cut short (the process died before its `ts` was stored) did
        reach Slack.
        """
        await self._pace(channel)
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        if broadcast:
            extra["reply_broadcast"] = True  # a thread reply that shows in the channel too
        if mark is not None:
            extra["metadata"] = {"event_type": _MARKED, "event_payload": {"mark": mark}}
        answer = await self._call(
            channel,
            self._client.chat_postMessage(
                channel=channel,
                text=message.fallback,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
                **extra,
            ),
            watch=watch,
        )
        # Posted to a user, the message is in the app's DM with them: chat.update needs that ID.
        return Posted(str(answer["channel"]), str(answer["ts"]))

    async def update(self, channel: str, ts: str, message: Message) -> None:
        """Replace the message at `ts`: always the whole text and blocks."""
        await self._call(
            channel,
            self._client.chat_update(
                channel=channel,
                ts=ts,
                text=message.fallback,
                blocks=message.blocks,
            ),
        )

    async def find(
        self, channel: str, mark: str, oldest: datetime, thread_ts: str | None = None
    ) -> str | None:
        """The `ts` of the message posted with `mark` since `oldest`, if Slack has it."""
        since = f"{(oldest - _CLOCK_SKEW).timestamp():.6f}"
        if thread_ts is None:
            call = self._client.conversations_history(
                channel=channel, oldest=since, include_all_metadata=True, limit=200
            )
        else:
            call = self._client.conversations_replies(
                channel=channel, ts=thread_ts, oldest=since, include_all_metadata=True, limit=200
            )
        answer = await self._call(channel, call)
        for found in answer.get("messages") or []:
            metadata = found.get("metadata") or {}
            if (
                metadata.get("event_type") == _MARKED
                and metadata.get("event_payload", {}).get("mark") == mark
            ):
                return str(found["ts"])
        return None

    async def respond(self, response_url: str, payload: dict[str, Any]) -> None:
        """Answer through an interaction's response_url (at most 5 uses in 30 minutes).

        One HTTP session for all of them: Bolt's `respond` opens a new connection each time.
        """
        session = await self._responses()
        started = time.perf_counter()
        outcome = "ok"
        try:
            async with session.post(response_url, json=payload) as answer:
                if answer.status >= 400:
                    outcome = f"http_{answer.status}"
                    raise SlackRetryable("response_url", outcome, await answer.text())
        except aiohttp.ClientError as error:
            outcome = "unreachable"
            raise SlackRetryable("response_url", outcome, str(error)) from None
        finally:
            self._metrics.slack_call("respond", outcome, time.perf_counter() - started)

    async def _responses(self) -> aiohttp.ClientSession:
        async with self._session_lock:
            if self._closed:
                raise SlackRetryable("response_url", "stopping", "pactbot is shutting down")
            if self._session is None:
                self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
            return self._session

    async def close(self) -> None:
        async with self._session_lock:
            self._closed = True
            if self._session is not None:
                await self._session.close()

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        await self._call(f"home:{user_id}", self._client.views_publish(user_id=user_id, view=view))

    async def _call(self, where: str, call: Awaitable[Any], *, watch: bool = True) -> Any:
        try:
            answer = await call
        except SlackPermanent as error:
            if watch:
                self._health.problem(f"slack:{where}", f"cannot post to {where}: {error}")
            raise
        self._health.solved(f"slack:{where}")
        return answer

    async def _pace(self, channel: str) -> None:
        async with self._lock:
            now = self._clock()
            due = self._next.get(channel, now)
            self._next[channel] = max(now, due) + _SPACING
        if due > now:
            await self._sleep((due - now).total_seconds())
