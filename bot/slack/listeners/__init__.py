"""Every listener of the Slack app, registered explicitly: no import side effects."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import alerts, command, home, rotation, tests
from bot.slack.services import Services


def register_all(app: AsyncApp, services: Services) -> None:
    for surface in (command, tests, alerts, rotation, home):
        surface.register(app, services)
