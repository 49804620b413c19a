"""App Home: the dashboard tab, published when opened and on Refresh."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.blocks import kit
from bot.blocks.home import build_home, build_home_failure
from bot.domain.report import Report
from bot.errors import BrokerError, SlackError
from bot.slack.services import Services

log = logging.getLogger(__name__)

EVENTS = ("app_home_opened",)


def register(app: AsyncApp, services: Services) -> None:
    async def opened(event: dict[str, Any]) -> None:
        if event.get("tab") == "home":
            await publish(services, event["user"], refresh=False)

    async def refresh(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await publish(services, body["user"]["id"], refresh=True)

    app.event("app_home_opened")(opened)
    app.action(kit.HOME_REFRESH)(refresh)


async def publish(services: Services, user: str, *, refresh: bool) -> None:
    """Publish the dashboard for `user`; the last good report if the broker cannot be read."""
    report: Report | None
    rotated = await services.rotations.rotated()
    try:
        report = await (services.monitor.refresh() if refresh else services.monitor.current())
    except BrokerError as error:
        report = services.monitor.latest
        view = build_home(report, rotated) if report else build_home_failure(str(error))
    else:
        view = build_home(report, rotated)
    try:
        await services.poster.publish_home(user, view)
    except SlackError as error:
        log.error("cannot publish App Home for %s: %s", user, error)
