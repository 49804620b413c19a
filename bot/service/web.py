"""The HTTP server of `pactbot serve`: Slack's requests, health, readiness and metrics."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.service.health import Health
from bot.service.metrics import Metrics

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
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    return slack
