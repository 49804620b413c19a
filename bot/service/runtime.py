"""`pactbot serve`: everything built once from the settings and run until asked to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from aiohttp import web
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.broker.client import BrokerClient, Timeouts
from bot.broker.dashboard import Dashboard
from bot.config import Config
from bot.domain.canary import CanaryState
from bot.domain.report import Report
from bot.errors import ConfigError, SlackPermanent, SlackRetryable, StoreUnavailable
from bot.github.client import GitHubClient
from bot.reader import read_report
from bot.service.alerting import Alerter
from bot.service.canaries import CANARIES, Canaries, canary_states
from bot.service.collector import collect_read
from bot.service.digest import DigestPoster
from bot.service.health import Health
from bot.service.metrics import MeteredTransport, Metrics
from bot.service.monitor import Monitor
from bot.service.poster import SlackPoster
from bot.service.retention import Sweeper
from bot.service.rotations import Rotations
from bot.service.runner import PASSED, WebhookRunner, passed_tests
from bot.service.scheduler import Scheduler
from bot.service.slack_client import Sleep, build_client
from bot.service.web import build_web_app
from bot.settings import BrokerSettings, SlackSettings
from bot.slack.access import Authoriser
from bot.slack.app import create_app
from bot.slack.services import Services
from bot.store import Store

log = logging.getLogger(__name__)

# How old a report `/pact status` and App Home may show before reading the broker again.
READ_EVERY = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Bot:
    """The running parts of one `pactbot serve` process."""

    services: Services
    bolt: AsyncApp
    scheduler: Scheduler
    web: web.Application
    metrics: Metrics


@asynccontextmanager
async def assemble(
    *,
    config: Config,
    broker: BrokerSettings,
    slack: SlackSettings,
    store: Store,
    github_api_url: str,
    github_token: SecretStr | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Sleep = asyncio.sleep,
    holder: str | None = None,
    broker_timeouts: Timeouts | None = None,
) -> AsyncIterator[Bot]:
    """Build the bot from its settings; close what it opened on the way out."""
    # A restarted container has the same host name and, as PID 1, the same PID: only the
    # random part tells it from the process it replaces, whose lease may not have expired.
    holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
    health, metrics = Health(clock), Metrics()
    client = BrokerClient(
        broker,
        transport=MeteredTransport(metrics),
        timeouts=broker_timeouts or Timeouts(),
        clock=clock,
        sleep=sleep,
    )
    web_client = build_client(
        token=slack.bot_token.get_secret_value(),
        base_url=slack.api_base_url,
        metrics=metrics,
        sleep=sleep,
    )
    # Read-only, and only to find the run a rotation's re-test started.
    github = GitHubClient(github_api_url, github_token) if github_token else None
    runner = WebhookRunner(client, store, clock, github_api_url)
    canaries = Canaries(runner, store, clock, config.canary.every)
    services = _services(
        config,
        runner,
        canaries,
        client,
        web_client,
        store,
        health,
        metrics,
        clock,
        sleep,
        holder,
        github_api_url,
        github,
        broker.base_url,
    )
    secret = slack.signing_secret.get_secret_value() if slack.signing_secret else ""
    bolt = create_app(services, web_client, signing_secret=secret)
    scheduler = Scheduler(
        store=store,
        holder=holder,
        clock=clock,
        monitor=services.monitor,
        health=health,
        slack=web_client,
        digest=services.digest,
        digest_config=config.digest,
        alerter=services.alerter,
        rotations=services.rotations,
        canaries=canaries,
        sweeper=Sweeper(config.retention, store, clock),
        read_every=READ_EVERY,
        check_every=config.alerts.check_interval,
    )
    app = build_web_app(None if slack.socket_mode else bolt, health, metrics)
    try:
        yield Bot(services, bolt, scheduler, app, metrics)
    finally:
        await scheduler.stop()
        await services.poster.close()
        if github is not None:
            async with github:
                pass
        async with client:
            pass
        await store.close()


def _services(
    config: Config,
    runner: WebhookRunner,
    canaries: Canaries,
    client: BrokerClient,
    web_client: AsyncWebClient,
    store: Store,
    health: Health,
    metrics: Metrics,
    clock: Callable[[], datetime],
    sleep: Sleep,
    holder: str,
    github_api_url: str,
    github: GitHubClient | None,
    broker_url: str,
) -> Services:
    """What the listeners and the scheduler share: the monitor, the posting, the alerts, the
    digest and the rotations."""

    dashboard = Dashboard()  # every read converts only what changed since the last one

    async def read(now: datetime) -> Report:
        tests, found = await _what_tests_found(store)
        try:
            return await read_report(
                client,
                config,
                now=now,
                github_api_url=github_api_url,
                tests=tests,
                canaries=found,
                dashboard=dashboard,
            )
        finally:
            collect_read()

    monitor = Monitor(read, clock, READ_EVERY)
    poster = SlackPoster(web_client, health, metrics, clock, sleep)
    alerter = Alerter(
        config=config, monitor=monitor, poster=poster, store=store, clock=clock, holder=holder
    )
    metrics.watch(lambda: monitor.latest, lambda: alerter.seen)
    rotations = Rotations(
        config=config,
        store=store,
        poster=poster,
        runner=runner,
        canaries=canaries,
        monitor=monitor,
        github=github,
        broker_url=broker_url,
        clock=clock,
    )
    digest = DigestPoster(
        config=config.digest,
        monitor=monitor,
        poster=poster,
        store=store,
        clock=clock,
        holder=holder,
        alerter=alerter,
        rotations=rotations,
        runner=runner,
    )
    return Services(
        config=config,
        monitor=monitor,
        runner=runner,
        digest=digest,
        alerter=alerter,
        rotations=rotations,
        github=github,
        poster=poster,
        authoriser=Authoriser(config.access, web_client, store),
        health=health,
        clock=clock,
    )


_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def run(bot: Bot, *, port: int, app_token: str | None) -> None:
    """Serve until SIGTERM or SIGINT: HTTP on `port`, plus Socket Mode with `app_token`."""
    # Signals and the scheduler first: nothing after may keep SIGTERM from stopping pactbot.
    stop, loop = asyncio.Event(), asyncio.get_running_loop()
    for sig in _SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(bot.web, access_log=None)
    try:
        await runner.setup()
        await web.TCPSite(runner, "0.0.0.0", port).start()
        bot.scheduler.start()
        async with _socket_mode(bot, app_token) as socket_mode:
            mode = "Socket Mode" if socket_mode else f"HTTP on :{port}/slack/events"
            log.info("pactbot serves %s (health, readiness and metrics on :%d)", mode, port)
            await stop.wait()
    finally:
        await runner.cleanup()
        for sig in _SIGNALS:
            loop.remove_signal_handler(sig)


@asynccontextmanager
async def _socket_mode(bot: Bot, app_token: str | None) -> AsyncIterator[bool]:
    """Socket Mode while entered, when there is an app token; whether there is."""
    if app_token is None:
        yield False
        return
    await _check_app_token(bot.bolt.client, app_token)
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(bot.bolt, app_token)
    # With a good token, retrying until Slack can be reached is right; but in a task of its
    # own, so that it keeps nothing else from running or stopping.
    connecting = asyncio.create_task(handler.connect_async())  # type: ignore[no-untyped-call]
    try:
        yield True
    finally:
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connecting
        await handler.close_async()  # type: ignore[no-untyped-call]  # Bolt has no hints here


async def _check_app_token(client: AsyncWebClient, app_token: str) -> None:
    """One apps.connections.open: slack_sdk would retry a bad SLACK_APP_TOKEN for ever."""
    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackPermanent as error:
        raise ConfigError(f"Socket Mode cannot start: {error}") from None
    except SlackRetryable as error:
        log.warning("cannot check SLACK_APP_TOKEN now; Socket Mode keeps trying: %s", error)


async def _what_tests_found(store: Store) -> tuple[dict[str, datetime], dict[str, CanaryState]]:
    """The passed Tests and what the canaries found, in one round trip with each broker read;
    nothing while the store cannot be read (the report is judged without them)."""
    try:
        found = await store.get_many([PASSED, CANARIES])
    except StoreUnavailable as error:
        log.warning("the passed Tests and the canaries cannot be read: %s", error)
        return {}, {}
    return passed_tests(found.get(PASSED)), canary_states(found.get(CANARIES))
