"""Reads that may be refused: freshness comes first, the rest is told as unknown.

The dashboard and the matrix say how long each pair has waited: without them nothing can be
said, and their errors stop the read. The webhooks, their statuses and logs and the labels only
explain that wait; a token (or a proxy in front of the broker) that refuses them leaves a
partial view, each refusal recorded once as a `Blind` for every surface to say in words.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import TypeVar
from urllib.parse import urlsplit

from bot.domain.model import Blind, Unseen
from bot.errors import BrokerForbidden, BrokerNotFound

Found = TypeVar("Found")


class Sight:
    """What one snapshot's reads could not see."""

    def __init__(self) -> None:
        self.blind: list[Blind] = []

    async def optional(
        self,
        read: Awaitable[Found],
        what: Unseen,
        subject: str | None = None,
        *,
        gone_ok: bool = False,
    ) -> Found | None:
        """`read`'s answer, or None when the broker refused it (403) or has it not (404);
        either is kept to be said, but for a 404 that only means the resource went away
        between two reads (`gone_ok`)."""
        try:
            return await read
        except BrokerForbidden as error:
            self._saw(what, error.url, 403, subject)
        except BrokerNotFound as error:
            if not gone_ok:
                self._saw(what, error.url, 404, subject)
        finally:
            # Cancelled before it began (a gather cut short by SIGTERM): close the read, or it
            # is garbage that was "never awaited".
            if inspect.iscoroutine(read):
                read.close()
        return None

    def _saw(self, what: Unseen, url: str, status: int, subject: str | None) -> None:
        path = urlsplit(url).path or url
        found = Blind(what, path, status, subject)
        if found not in self.blind:
            self.blind.append(found)
