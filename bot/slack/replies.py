"""Answering a person: the ack first, then privately (response_url or a DM), or in the channel."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.blocks.limits import Message
from bot.errors import SlackError, SlackPermanent
from bot.service.poster import SlackPoster

log = logging.getLogger(__name__)


class Reply:
    """The answers to one command or click.

    The first private answer before the ack is the ack itself (Slack wants it within 3 s). Later
    ones go through the interaction's response_url, or, for a click in App Home, which has none,
    arrive as a direct message. A command's answers replace each other; a click's never replace
    the message clicked in, which everyone in the channel sees.
    """

    def __init__(
        self, poster: SlackPoster, ack: AsyncAck, body: dict[str, Any], *, replaces: bool
    ) -> None:
        self._poster = poster
        self._ack = ack
        self._replaces = replaces
        in_view = (body.get("container") or {}).get("type") == "view"
        self._url: str | None = None if in_view else body.get("response_url") or None
        self.user = str(body.get("user_id") or body["user"]["id"])
        self._acked = False

    async def ack(self, message: Message | None = None) -> None:
        if not self._acked:
            self._acked = True
            await (self._ack(**message.payload()) if message else self._ack())

    async def say(self, message: Message) -> None:
        """Tell the person who asked, privately."""
        if not self._acked:
            await self.ack(message)
        elif self._url is not None:
            payload = message.payload() | {"response_type": "ephemeral"}
            await self._poster.respond(self._url, payload | {"replace_original": self._replaces})
        else:
            try:
                await self._poster.post(self.user, message)  # the app's direct messages
            except SlackError as error:
                log.warning("cannot tell %s: %s", self.user, error)

    async def announce(self, message: Message) -> None:
        """Tell everyone in the channel where a command was typed: a silence, say, is the whole
        team's business. Without a response_url (never, for a command), tell the person."""
        if self._url is None:
            await self.say(message)
            return
        payload = message.payload() | {"response_type": "in_channel"}
        await self._poster.respond(self._url, payload | {"replace_original": False})

    async def post_in_channel(self, channel: str, message: Message) -> None:
        """Post for everyone in `channel`; where the bot may not post, answer in the channel."""
        try:
            # With a response_url to fall back on, a refusal here leaves nothing to fix.
            await self._poster.post(channel, message, watch=self._url is None)
        except SlackPermanent as error:
            if self._url is None:
                raise
            # The bot is not in the channel (or it is a DM): the response_url may still answer
            # there for everyone to see.
            log.info("answering through response_url in %s: %s", channel, error.error)
            payload = message.payload() | {"response_type": "in_channel"}
            await self._poster.respond(self._url, payload | {"replace_original": False})
