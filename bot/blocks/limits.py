"""Slack's Block Kit limits (shared/slack-platform.md, section 7), enforced by every builder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.blocks.mrkdwn import escape

Block = dict[str, Any]

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
VIEW_BYTES = 250_000  # a larger view fails with view_too_large
SECTION_TEXT = 3000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
FALLBACK_TEXT = 4000  # chat.update refuses longer top-level text (msg_too_long)


@dataclass(frozen=True, slots=True)
class Message:
    """A message: `text` is plain (its names are escaped here, once) and feeds notifications
    and screen readers; `blocks` are what Slack shows."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def fallback(self) -> str:
        """The top-level `text` as Slack takes it: Slack parses it as mrkdwn, too."""
        return clip(escape(self.text), FALLBACK_TEXT)

    def payload(self) -> dict[str, Any]:
        found: dict[str, Any] = {"text": self.fallback}
        if self.blocks:
            found["blocks"] = self.blocks
        return found


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pack_lines(lines: Sequence[str], limit: int = SECTION_TEXT) -> list[str]:
    """Join lines into as few texts of at most `limit` characters as they fit in."""
    texts: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            texts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        texts.append(current)
    return texts
