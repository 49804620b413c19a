"""Worlds for the sample broker that tests share."""

from __future__ import annotations

from datetime import datetime

from bot.sample.world import Target, World

CAPTURED_WEBHOOK = "kJE42wcSbKwfb0QJ3V9sBg"
FAKE_GITHUB = "http://127.0.0.1:9393/repos/example-org/P/dispatches"
_GITHUB_HEADERS = {
    "server": "fake-github/1.0 Python/3.11.7",
    "date": "Sat, 28 Nov 2026 09:58:23 GMT",
    "content-type": "application/json; charset=utf-8",
    "content-length": "100",
    "connection": "close",
}
BAD_CREDENTIALS = Target(
    401,
    _GITHUB_HEADERS,
    {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    },
)
ACCEPTED = Target(
    204,
    {
        "server": "fake-github/1.0 Python/3.11.7",
        "date": "Sat, 28 Nov 2026 09:58:23 GMT",
        "connection": "close",
    },
)


def at(clock: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-28T{clock}+00:00")


def captured_story() -> World:
    """The story behind fixtures/broker-api/captured-v2.120.0 (its README), replayed."""
    world = World(clock=lambda: at("09:58:58"))
    first = world.publish("C", "P", "1.0.0", at=at("09:58:23"), content="v1")
    world.verify(first, at=at("09:58:23"), provider_version="2.0.0")
    webhook = world.add_webhook(
        CAPTURED_WEBHOOK,
        description="Trigger P verification via GitHub repository_dispatch (fake, local)",
        consumer="C",
        provider="P",
        url=FAKE_GITHUB,
        target=BAD_CREDENTIALS,
        headers={
            "content-type": "application/json",
            "accept": "application/vnd.github.everest-preview+json",
            "authorization": "Bearer not-a-real-token",
        },
        created_at=at("09:58:23"),
    )
    world.publish("C", "P", "1.1.0", at=at("09:58:23"), content="v2")
    webhook.target = ACCEPTED
    third = world.publish("C", "P", "1.2.0", at=at("09:58:48"), content="v3")
    world.verify(third, at=at("09:58:58"), success=False, provider_version="2.1.0")
    return world
