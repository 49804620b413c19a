"""Links the sample broker writes into its answers, and the formats it writes them in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import quote

from bot.sample.world import Publication, World

Json = Any
Query = Sequence[tuple[str, str]]


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def log_stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@cache  # a few hundred names, quoted a dozen times each per dashboard row
def segment(name: str) -> str:
    return quote(name, safe="")


class Links:
    """One request's view of the world, and the links into it."""

    def __init__(
        self, world: World, base: str, accept: str = "application/hal+json", sent: bytes = b""
    ) -> None:
        self.world = world
        self.base = base
        self.accept = accept
        self.sent = sent  # the request's body, for the writes

    def _pacticipant(self, name: str) -> str:
        return f"{self.base}/pacticipants/{segment(name)}"

    def _pair_path(self, consumer: str, provider: str) -> str:
        return f"{self.base}/pacts/provider/{segment(provider)}/consumer/{segment(consumer)}"

    def _pact_href(self, publication: Publication) -> str:
        pair = self._pair_path(publication.consumer, publication.provider)
        return f"{pair}/version/{segment(publication.version)}"

    def _webhook_href(self, uuid: str) -> str:
        return f"{self.base}/webhooks/{uuid}"


def redacted(headers: dict[str, str], references: bool = False) -> dict[str, str]:
    """Header values the broker masks: names with `authorization` or `token` (broker-api 5);
    with `references` (PactFlow), a value that only references a secret is shown."""
    masked = ("authorization", "token")
    return {
        name: "**********"
        if any(word in name.lower() for word in masked) and not (references and "${user." in value)
        else value
        for name, value in headers.items()
    }
