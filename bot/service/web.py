"""The HTTP server of `pactbot serve`: Slack's requests, health, readiness and metrics."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body

from bot.service.health import Health
from bot.service.metrics import Metrics
from bot.slack import payload

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
Handler = Callable[[web.Request], Awaitable[web.Response]]


def build_web_app(bolt: AsyncApp | None, health: Health, metrics: Metrics) -> web.Application:
    """The routes; without `bolt` (Socket Mode) Slack's requests arrive on the WebSocket."""
    app = web.Application()
    if bolt is not None:
        app.router.add_post(SLACK_PATH, _slack_handler(bolt))

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        report = health.report()
        return web.Response(
            text=json.dumps(report, indent=2) + "\n",
            status=200 if report["ready"] else 503,
            content_type="application/json",
        )

    async def prometheus(_: web.Request) -> web.Response:
        return web.Response(body=metrics.text(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus)
    return app


def _slack_handler(bolt: AsyncApp) -> Handler:
    async def slack(request: web.Request) -> web.Response:
        # Bolt reads the body before it checks the signature, and a body it cannot read
        # would be a 500 and a traceback for anyone who can reach this port.
        try:
            found = payload.problem(parse_body(await request.text(), request.content_type))
        except ValueError:
            found = "neither a form nor JSON"
        if found is not None:
            log.warning("refused a request to %s: %s", SLACK_PATH, found)
            return web.Response(status=400, text=f"not a Slack request pactbot can read: {found}\n")
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    return slack
