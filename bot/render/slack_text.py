"""Slack messages read as plain text: how the digest looks, for the demo and the CLI."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from bot.blocks.limits import Message

_EMOJI = {
    ":red_circle:": "🔴",
    ":black_circle:": "⚫",
    ":x:": "❌",
    ":hourglass_flowing_sand:": "⏳",
    ":zzz:": "💤",
    ":large_green_circle:": "🟢",
    ":rotating_light:": "🚨",
    ":warning:": "⚠️",
    ":white_check_mark:": "✅",
    ":no_entry:": "⛔",
    ":no_entry_sign:": "🚫",
    ":key:": "🔑",
    ":repeat:": "🔁",
    ":arrows_counterclockwise:": "🔄",
}
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_BOLD = re.compile(r"(?<!\w)\*([^*\n]+)\*(?!\w)")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_MENTION = re.compile(r"<[@#]([A-Z0-9]+)>|<!subteam\^([A-Z0-9]+)>")


def messages_text(messages: Sequence[Message]) -> str:
    """Every message, the thread replies indented under the first."""
    parts = []
    for number, message in enumerate(messages):
        text = "\n".join(_block_text(block) for block in message.blocks)
        parts.append(
            text if number == 0 else "\n".join(f"    ↳ {line}" for line in text.splitlines())
        )
    return "\n\n".join(parts) + "\n"


def _block_text(block: dict[str, Any]) -> str:
    kind = block["type"]
    if kind == "header":
        return f"━━ {block['text']['text']} ━━"
    if kind == "divider":
        return "─" * 40
    if kind == "context":
        return "  " + " · ".join(_mrkdwn(element["text"]) for element in block["elements"])
    if kind == "actions":
        return " ".join(f"[{element['text']['text']}]" for element in block["elements"])
    text = _mrkdwn(block["text"]["text"])
    accessory = block.get("accessory")
    if accessory and accessory.get("type") == "button":
        text += f"  [{accessory['text']['text']}]"
    return text


def _mrkdwn(text: str) -> str:
    text = _DATE.sub(r"\1", text)
    text = _LINK.sub(r"\2 (\1)", text)
    text = _MENTION.sub(lambda found: "@" + (found[1] or found[2]), text)
    for code, emoji in _EMOJI.items():
        text = text.replace(code, emoji)
    return html.unescape(_BOLD.sub(r"\1", text))
