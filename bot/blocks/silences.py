"""What `/pact silence`, `unsilence` and `silences` answer, and the "Silence 24h" button."""

from __future__ import annotations

from collections.abc import Sequence

from bot.blocks import kit, mrkdwn
from bot.blocks.limits import Message, pack_lines
from bot.domain.alerts import Silence


def build_silenced(silences: Sequence[Silence]) -> Message:
    """Said in the channel, so the team sees who silenced what, why, and until when."""
    lines = [f":mute: {_what(silence)} {kit.silence_terms(silence)}" for silence in silences]
    hint = f"`/pact unsilence {silences[0].id}` ends it sooner." if len(silences) == 1 else ""
    blocks = [kit.section(text) for text in pack_lines(lines)]
    if hint:
        blocks.append(kit.context(hint))
    return Message(f"Silenced {_count(silences)}", blocks)


def build_unsilenced(silence: Silence, by: str) -> Message:
    text = f":loud_sound: {mrkdwn.user(by)} ended the silence of {_what(silence)} (`{silence.id}`)."
    return Message(f"Ended the silence {silence.id}", [kit.section(text)])


def build_silences(silences: Sequence[Silence]) -> Message:
    """Every silence in force, the one ending first first."""
    if not silences:
        return Message("No silence in force", [kit.section(":loud_sound: No silence in force.")])
    ordered = sorted(silences, key=lambda silence: silence.ends_at)
    lines = [f"`{silence.id}` {_what(silence)} {kit.silence_terms(silence)}" for silence in ordered]
    blocks = [kit.section(text) for text in pack_lines(lines)]
    blocks.append(kit.context("`/pact unsilence &lt;id&gt;` ends one now."))
    return Message(f"{_count(silences)} in force", blocks)


def _what(silence: Silence) -> str:
    if silence.webhook is not None:
        return f"the webhook “{mrkdwn.escape(silence.webhook_name or silence.webhook)}”"
    if silence.consumer is None:
        return f"every pair of *{mrkdwn.escape(silence.provider)}*"
    return f"*{mrkdwn.escape(silence.consumer)} → {mrkdwn.escape(silence.provider)}*"


def _count(silences: Sequence[Silence]) -> str:
    return f"{len(silences)} silence{'s' if len(silences) != 1 else ''}"
