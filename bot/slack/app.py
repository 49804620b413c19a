"""The Bolt app: the same listeners in HTTP mode and in Socket Mode."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import payload
from bot.slack.listeners import register_all
from bot.slack.services import Services

log = logging.getLogger(__name__)


def create_app(services: Services, client: AsyncWebClient, *, signing_secret: str) -> AsyncApp:
    """The app; `signing_secret` is empty in Socket Mode, where Slack signs nothing."""
    app = AsyncApp(
        name="pactbot",
        client=client,
        signing_secret=signing_secret,
        # One workspace, one bot token: the OAuth flow Bolt would start when it finds
        # SLACK_CLIENT_ID and SLACK_CLIENT_SECRET in the environment stays off.
        oauth_settings=None,
        installation_store=None,
        raise_error_for_unhandled_request=False,
    )
    register_all(app, services)

    async def well_formed(
        body: dict[str, Any], next_: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Refuse, before any listener, a payload they could not read."""
        found = payload.problem(body)
        if found is None:
            await next_()
            return None
        kind = body.get("type") or body.get("command") or "request"
        log.warning("refused a %s from Slack: %s", kind, found)
        return BoltResponse(status=400, body=f"pactbot cannot read this {kind}: {found}")

    app.middleware(well_formed)

    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        kind = body.get("type") or body.get("command") or "request"
        log.error("a %s failed: %s: %s", kind, type(error).__name__, error)

    app.error(on_error)
    return app
