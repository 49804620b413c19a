"""Answering a person: the ack first, then `respond`; in the channel, or privately."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.blocks.limits import Message
from bot.errors import SlackError, SlackPermanent
from bot.slack.services import Services

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[None]]


def responder(services: Services, body: dict[str, Any]) -> Respond | None:
    """`respond(**payload)` for the interaction in `body`, if Slack gave it a response_url."""
    url = body.get("response_url")
    if not url:
        return None

    async def respond(**payload: Any) -> None:
        await services.poster.respond(str(url), payload)

    return respond


class Reply:
    """The first answer goes out as the ack (within Slack's 3 s), later ones through respond."""

    def __init__(self, ack: AsyncAck, respond: Respond | None) -> None:
        self._ack = ack
        self._respond = respond
        self.acked = False

    async def ack(self, message: Message | None = None) -> None:
        if not self.acked:
            self.acked = True
            await (self._ack(**message.payload()) if message else self._ack())

    async def say(self, message: Message, *, replace: bool = False) -> None:
        """Tell the person who asked, privately."""
        if not self.acked:
            await self.ack(message)
        elif self._respond is not None:
            payload = message.payload()
            await self._respond(**payload, response_type="ephemeral", replace_original=replace)


async def post_in_channel(
    services: Services, channel: str, message: Message, respond: Respond | None
) -> None:
    """Post for everyone in `channel`; where the bot may not post, answer in the channel."""
    try:
        await services.poster.post(channel, message)
    except SlackPermanent as error:
        if respond is None:
            raise
        # The bot is not in the channel (or it is a DM): the command's response_url may still
        # answer there for everyone to see.
        log.info("answering through response_url in %s: %s", channel, error.error)
        await respond(**message.payload(), response_type="in_channel", replace_original=False)


async def tell_privately(
    services: Services, body: dict[str, Any], respond: Respond | None, message: Message
) -> None:
    """Tell the person who clicked, wherever they clicked: in a message, or in App Home."""
    if (
        body.get("container", {}).get("type") != "view"
        and respond is not None
        and body.get("response_url")
    ):
        await respond(**message.payload(), response_type="ephemeral", replace_original=False)
        return
    try:
        await services.poster.post(body["user"]["id"], message)  # the app's direct messages
    except SlackError as error:
        log.warning("cannot tell %s: %s", body["user"]["id"], error)
