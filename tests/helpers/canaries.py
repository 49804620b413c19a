"""A canary in a sample world, as `pactbot canary --create` makes it."""

from __future__ import annotations

from bot.domain.canary import PROVIDER, definition
from bot.sample.world import World


def add_canary(world: World, uuid: str, secret: str = "githubToken") -> None:
    made = definition(
        authorization=f"Bearer ${{user.{secret}}}",
        github_api_url="https://api.github.com",
        secret=secret,
    )
    request = made["request"]
    assert isinstance(request, dict)
    world.pacticipant(PROVIDER)
    world.add_webhook(
        uuid,
        url=request["url"],
        description=str(made["description"]),
        provider=PROVIDER,
        headers=request["headers"],
    )
