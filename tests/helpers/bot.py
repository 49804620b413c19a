"""The real bot, assembled as `pactbot serve` assembles it, around the sample broker and Slack.

Slack's requests arrive over HTTP on loopback, signed as Slack signs them; the bot's own calls
go to the sample Slack; time is a clock the test moves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from aiohttp import web
from pydantic import SecretStr

from bot.broker.client import Timeouts
from bot.config import Config
from bot.sample.broker import SampleBroker
from bot.sample.github import SampleGitHub
from bot.sample.slack import SampleSlack
from bot.service.runtime import Bot, assemble
from bot.settings import BrokerSettings, SlackSettings
from bot.store import Store
from tests.helpers import slack_requests

SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
ONCALL_GROUP = "S0ONCALL"
ONCALL_USER = "U0ONCALL"
ADMIN = "U0ADMIN1"
STRANGER = "U0STRANGER"
CHANNEL = "C0DIGEST"


@dataclass
class Clock:
    """The bot's time; tests move it instead of waiting."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **span: float) -> None:
        self.now += timedelta(**span)


@dataclass
class Sleeps:
    """The bot's waits: recorded, and over at once unless the test holds them."""

    waits: list[float] = field(default_factory=list)
    _gate: asyncio.Event | None = None
    _began: asyncio.Event = field(default_factory=asyncio.Event)

    def hold(self) -> None:
        """Keep every wait from now on waiting until `release`."""
        self._gate = asyncio.Event()

    def release(self) -> None:
        if self._gate is not None:
            self._gate.set()

    async def begun(self, count: int = 1) -> None:
        """Return once `count` waits have begun (a bound, not a deadline: 2 s at most)."""
        async with asyncio.timeout(2):
            while len(self.waits) < count:
                self._began.clear()
                await self._began.wait()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self._began.set()
        if self._gate is not None:
            await self._gate.wait()


@dataclass
class Running:
    """A bot serving HTTP on loopback, and how to talk to it as Slack does."""

    bot: Bot
    url: str
    slack: SampleSlack
    http: httpx.AsyncClient
    sleeps: Sleeps

    async def post(
        self, body: bytes, *, timestamp: int | None = None, secret: str = SIGNING_SECRET
    ) -> httpx.Response:
        stamp = int(time.time()) if timestamp is None else timestamp  # Bolt checks the real clock
        headers = slack_requests.signed_headers(body, secret, stamp)
        return await self.http.post(f"{self.url}/slack/events", content=body, headers=headers)

    async def command(
        self, text: str, *, user: str = ONCALL_USER, channel: str = CHANNEL
    ) -> httpx.Response:
        body = slash_body(self.slack, text, user=user, channel=channel)
        return await self.post(body)

    async def click(
        self, action_id: str, value: str, *, user: str = ONCALL_USER, channel: str = CHANNEL
    ) -> httpx.Response:
        body = slack_requests.block_action(
            action_id,
            value,
            response_url=self.slack.response_url(),
            user_id=user,
            channel_id=channel,
            message_ts="1733040000.000100",
        )
        return await self.post(body)


def slash_body(slack: SampleSlack, text: str, *, user: str, channel: str) -> bytes:
    return slack_requests.slash_command(
        text, response_url=slack.response_url(), user_id=user, channel_id=channel
    )


def config(**sections: Any) -> Config:
    """A config with the digest channel and on-call access the tests use, plus `sections`."""
    base: dict[str, Any] = {
        "digest": {"channel": CHANNEL, "schedule": "0 9 * * 1-5", "timezone": "Europe/Berlin"},
        "access": {"oncall_usergroups": ["pact-oncall"], "admins": [ADMIN]},
    }
    return Config.model_validate(base | sections)


@asynccontextmanager
async def running_bot(
    *,
    broker: SampleBroker,
    slack: SampleSlack,
    store: Store,
    clock: Clock,
    sleeps: Sleeps | None = None,
    settings: Config | None = None,
    holder: str | None = "replica-1",  # None: the one `pactbot serve` makes for itself
    broker_timeouts: Timeouts | None = None,
    github: SampleGitHub | None = None,  # with GITHUB_TOKEN set, this GitHub answers
) -> AsyncIterator[Running]:
    slack.add_usergroup(ONCALL_GROUP, "pact-oncall", [ONCALL_USER])
    sleeps = sleeps or Sleeps()
    async with assemble(
        config=settings or config(),
        broker=BrokerSettings(base_url=broker.url),
        slack=SlackSettings(
            bot_token="xoxb-test", signing_secret=SIGNING_SECRET, api_base_url=slack.url + "/api/"
        ),
        store=store,
        github_api_url=github.url if github else "https://api.github.com",
        github_token=SecretStr(github.token) if github else None,
        clock=clock,
        sleep=sleeps,
        holder=holder,
        broker_timeouts=broker_timeouts,
    ) as bot:
        runner = web.AppRunner(bot.web)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                yield Running(bot, f"http://127.0.0.1:{port}", slack, http, sleeps)
        finally:
            await runner.cleanup()
