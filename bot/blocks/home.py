"""The App Home tab: the digest's picture as a dashboard, refreshed on demand."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import digest, kit, mrkdwn
from bot.blocks.limits import VIEW_BLOCKS, VIEW_BYTES, Block
from bot.domain.report import Report
from bot.domain.rotation import NONE_ROTATED, Rotated

_NAME_HINT = "`/pact status &lt;name&gt;` finds any pair"


def build_home(report: Report, rotated: Rotated = NONE_ROTATED) -> dict[str, Any]:
    """The home view for `report`, within Slack's 100 blocks and 250 kB."""
    top: list[Block] = [
        kit.header("Pact freshness"),
        kit.context(digest.summary(report)),
        *digest.verdict(report),
        *digest.unseen(report),
        *digest.rotated_blocks(rotated, report),
        kit.actions(kit.button("Refresh", kit.HOME_REFRESH, "refresh")),
    ]
    footer = kit.context(f"Computed {mrkdwn.date(report.taken_at)}")
    body = digest.body_blocks(report)
    room = VIEW_BLOCKS - len(top) - 2  # and the "more" line and the footer
    # Leave a margin under the size limit for the "more" line, the footer and JSON's framing.
    budget = VIEW_BYTES - 4096 - sum(_size(block) for block in top)
    shown: list[Block] = []
    for block in body[:room]:
        budget -= _size(block)
        if budget < 0:
            break
        shown.append(block)
    blocks = top + shown
    if len(body) > len(shown):
        blocks.append(kit.context(f"…and {len(body) - len(shown)} more sections: {_NAME_HINT}"))
    blocks.append(footer)
    return {"type": "home", "blocks": blocks}


def build_home_failure(reason: str) -> dict[str, Any]:
    """The home view when the broker cannot be read and nothing was read before."""
    return {
        "type": "home",
        "blocks": [
            kit.header("Pact freshness"),
            kit.section(f":warning: The Pact Broker cannot be read: {mrkdwn.escape(reason)}"),
            kit.actions(kit.button("Refresh", kit.HOME_REFRESH, "refresh")),
        ],
    }


def _size(block: Block) -> int:
    return len(json.dumps(block, ensure_ascii=False).encode())
