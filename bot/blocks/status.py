"""`/pact status`: the pairs, most urgent first, as an ephemeral message."""

from __future__ import annotations

from bot.blocks import digest, kit, mrkdwn
from bot.blocks.limits import MESSAGE_BLOCKS, Block, Message, pack_lines
from bot.blocks.rotation import rotated_lines
from bot.domain.report import NO_PAIRS, PairRow, Report
from bot.domain.rotation import NONE_ROTATED, Rotated
from bot.domain.selection import closest

_PAIRS = MESSAGE_BLOCKS - 3


def build_status(report: Report, *, query: str = "", rotated: Rotated = NONE_ROTATED) -> Message:
    """Every pair whose consumer or provider contains `query` (any case), most urgent first."""
    if not report.rows:
        return Message(NO_PAIRS, [kit.section(digest.no_pairs())])
    rows = report.matching(query)
    asked = query.strip()
    scope = f" matching “{mrkdwn.escape(asked)}”" if asked else ""
    if not rows:
        names = {name for row in report.rows for name in (row.key.consumer, row.key.provider)}
        near = ", ".join(mrkdwn.escape(name) for name in closest(asked, names))
        hint = f" Closest names: {near}." if near else ""
        return Message(f"No pair matching “{asked}”.", [kit.section(f"No pair{scope}.{hint}")])
    # When the token of a webhook of these pairs was last rotated: one block, if any.
    covering = [
        view.webhook
        for view in report.webhooks
        if any(view.webhook.scope.covers(row.key, report.labelled) for row in rows[:_PAIRS])
    ]
    lines = rotated_lines(rotated, covering, report.taken_at)
    rotations = [kit.section(text) for text in pack_lines(lines)][:1]
    shown = rows[: _PAIRS - len(rotations)]
    counted = f"{len(rows)} pair{'s' if len(rows) != 1 else ''}"
    title = f"*Pact status* · {counted}{scope}"
    blocks = [kit.section(title), *(_pair_block(row) for row in shown)]
    if len(rows) > len(shown):
        more = len(rows) - len(shown)
        blocks.append(
            kit.context(f"…and {more} more: narrow it down with `/pact status &lt;name&gt;`")
        )
    blocks.extend(rotations)
    blocks.append(kit.context(f"As of {mrkdwn.date(report.taken_at)}"))
    problems = sum(1 for row in rows if row.state.is_problem)
    return Message(f"Pact status: {counted}, {problems} stale or never verified", blocks)


def _pair_block(row: PairRow) -> Block:
    text = f"*{kit.pair_name(row)}* · {kit.state_label(row.state)}\n{kit.pair_details(row)}"
    return kit.section(text)
