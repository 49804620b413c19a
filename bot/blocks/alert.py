"""Alert messages: the message that fires and is edited in place, and what goes in its thread."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.blocks import kit, mrkdwn
from bot.blocks.limits import Block, Message, pack_lines
from bot.domain.alerts import Alert, Cause, Kind, Member, Silence, Waiter
from bot.domain.model import PairKey
from bot.duration import format_duration

# A message someone reads at 3 a.m.: the first webhooks (a section and buttons each) and pairs,
# well inside Slack's 50 blocks; `/pact status` has the rest.
_CAUSES = 8
_LISTED = 25
_PER_CAUSE = 20
_FIXED = 5


def build_alert(alert: Alert, now: datetime, silences: Sequence[Silence] = ()) -> Message:
    """The alert's message as it stands: firing or resolved; silenced pairs marked."""
    if alert.kind is Kind.BROKER:
        return _broker(alert, now)
    if not alert.firing:
        return _resolved(alert, now)
    headed = [cause for cause in alert.causes if cause.resolved_at is None]
    blocks: list[Block] = []
    for cause in headed[:_CAUSES]:
        blocks += _cause(cause, silences)
    if len(headed) > _CAUSES:
        blocks.append(kit.context(f"…and {len(headed) - _CAUSES} more failing webhooks"))
    shown = {cause.webhook for cause in headed[:_CAUSES]}
    others = [m for m in alert.members if m.cause not in shown]
    if others:
        lines = ["*Waiting for a verification*"] if shown else []
        lines += [_line(m, silences) for m in others[:_LISTED]]
        if len(others) > _LISTED:
            lines.append(f"…and {len(others) - _LISTED} more: `/pact status` lists every pair")
        blocks += [kit.section(text) for text in pack_lines(lines)]
    fixed = [cause for cause in alert.incidents if cause.resolved_at is not None]
    if fixed:
        blocks.append(kit.context(*(_fixed_line(cause) for cause in fixed[:_FIXED])))
    buttons = kit.actions(
        kit.button("Acknowledge", kit.ALERT_ACK, alert.id, style="primary"),
        kit.button("Silence 24h", kit.ALERT_SILENCE, alert.id),
    )
    head, text = _headline(alert)
    return Message(text, [kit.section(head), *blocks, kit.context(_footer(alert)), buttons])


def _headline(alert: Alert) -> tuple[str, str]:
    """The message's first line, and its notification: the failing webhooks first."""
    failing = [cause for cause in alert.incidents if cause.open]
    stuck = f"{_pairs(len(alert.members))} stuck without a verification"
    if not failing:
        text = stuck + (
            f": {alert.causes[0].name} {alert.causes[0].health}" if alert.causes else ""
        )
        return f":rotating_light: *{stuck}*", text
    if len(failing) == 1:
        cause = failing[0]
        head = f"Webhook {_webhook(cause)}: {mrkdwn.escape(cause.health)}"
        text = f"Webhook {cause.name} → {cause.repository}: {cause.health}"
    else:
        head = text = f"{len(failing)} webhooks failing"
        text += ": " + ", ".join(f"{cause.name} {cause.health}" for cause in failing)
    if alert.members:
        head, text = f"{head} · {stuck}", f"{text}; {stuck}"
    return f":rotating_light: *{head}*", text


def _cause(cause: Cause, silences: Sequence[Silence]) -> list[Block]:
    since = f" since {mrkdwn.date(cause.since)}" if cause.since else ""
    lines = [f"*Webhook* {_webhook(cause)}: *{mrkdwn.escape(cause.health)}*{since}"]
    silence = next((s for s in silences if s.id == cause.silenced_by), None)
    if silence is not None:
        lines[0] += f" · {kit.silenced(silence)}"
    if cause.detail:
        lines.append(f"It did not fire because {mrkdwn.escape(cause.detail)}")
    if cause.waiting:
        lines.append(f"It explains {_pairs(cause.waiting, 'waiting ')}:")
        lines += [_waiter_line(waiter) for waiter in cause.pairs[:_PER_CAUSE]]
        if cause.waiting > min(len(cause.pairs), _PER_CAUSE):
            lines.append(f"…and {cause.waiting - min(len(cause.pairs), _PER_CAUSE)} more")
    elif cause.serving:
        shown = cause.serves[:_PER_CAUSE]
        more = f" and {cause.serving - len(shown)} more" if cause.serving > len(shown) else ""
        lines.append(
            "No pair waits behind it now: the next publication of the "
            f"{_pairs(cause.serving)} it fires for will: "
            + ", ".join(kit.name_of(pair) for pair in shown)
            + more
        )
    else:
        lines.append("No pair waits behind it now: the next publication will.")
    return [
        *(kit.section(text) for text in pack_lines(lines)),
        kit.actions(
            kit.button("Run webhook test", kit.TEST_RUN, cause.webhook),
            kit.button("Start rotation", kit.ROTATION_START, cause.webhook),
        ),
    ]


def _webhook(cause: Cause) -> str:
    return f"“{mrkdwn.escape(cause.name)}” → `{mrkdwn.escape(cause.repository)}`"


def _waiter_line(waiter: Waiter) -> str:
    # A date, not an age: the message is edited only when what it lists changes.
    since = f" · waiting since {mrkdwn.date(waiter.waiting_since)}" if waiter.waiting_since else ""
    return f"• {kit.name_of(waiter.pair)} · {waiter.state.value.replace('_', ' ')}{since}"


def _fixed_line(cause: Cause) -> str:
    """A webhook incident that is over: what ended it, and what still waits behind it."""
    lasted = ""
    if cause.fired_at and cause.resolved_at:
        lasted = f" after {format_duration(cause.resolved_at - cause.fired_at)}"
    said = mrkdwn.escape(cause.resolution or "")
    line = f":white_check_mark: {_webhook(cause)} fixed{lasted}: {said}"
    waiting = _still_waiting(cause)
    return f"{line}; still waiting for a verification: {waiting}" if waiting else line


def _still_waiting(cause: Cause) -> str:
    """The pairs that wait behind a fixed webhook, with their state, or nothing."""
    names = ", ".join(
        f"{kit.name_of(w.pair)} ({w.state.value.replace('_', ' ')})" for w in cause.pairs[:10]
    )
    more = f" and {cause.waiting - 10} more" if cause.waiting > 10 else ""
    return f"{names}{more}" if cause.waiting else ""


def _line(member: Member, silences: Sequence[Silence]) -> str:
    state = member.state.value.replace("_", " ")
    # A date, not an age: the message is edited only when what it lists changes.
    since = (
        f"waiting since {mrkdwn.date(member.waiting_since)}"
        if member.waiting_since
        else f"stale since {mrkdwn.date(member.stale_since)}"
    )
    line = f"• {kit.name_of(member.pair)} · {state} · {since}"
    silence = next((s for s in silences if s.id == member.silenced_by), None)
    if silence is not None:
        line += f" · {kit.silenced(silence)}"
    return line


def _footer(alert: Alert) -> str:
    footer = f"Firing since {mrkdwn.date(alert.fired_at)}"
    if alert.acked_by and alert.acked_at:
        footer += f" · acknowledged by {mrkdwn.user(alert.acked_by)} {mrkdwn.date(alert.acked_at)}"
    return footer


def _resolved(alert: Alert, now: datetime) -> Message:
    lasted = format_duration((alert.resolved_at or now) - alert.fired_at)
    text = f":white_check_mark: *Resolved* after {lasted}"
    if alert.seen:
        pairs = ", ".join(kit.name_of(pair) for pair in alert.seen[:30])
        more = f" and {len(alert.seen) - 30} more" if len(alert.seen) > 30 else ""
        text += f": none of {pairs}{more} waits here now."
    else:
        text += "."
    fixed = [_fixed_line(cause) for cause in alert.incidents[:_CAUSES]]
    blocks = [kit.section(chunk) for chunk in pack_lines([text, *fixed])]
    return Message(f"Resolved after {lasted}", [*blocks, kit.context(_footer(alert))])


def _broker(alert: Alert, now: datetime) -> Message:
    if not alert.firing:
        lasted = format_duration((alert.resolved_at or now) - alert.fired_at)
        text = f":white_check_mark: *The Pact Broker answers again* after {lasted} unread."
        return Message("The Pact Broker answers again", [kit.section(text)])
    text = (
        f":warning: *The Pact Broker cannot be read*: {mrkdwn.escape(alert.error or 'no answer')}\n"
        "While it cannot, no pair alert fires or resolves: not hearing is not hearing “fresh”."
    )
    buttons = kit.actions(kit.button("Acknowledge", kit.ALERT_ACK, alert.id, style="primary"))
    return Message(
        "The Pact Broker cannot be read", [kit.section(text), kit.context(_footer(alert)), buttons]
    )


def build_reminder(alert: Alert, now: datetime) -> Message:
    """The reminder in the thread while the alert fires and no acknowledgement holds it."""
    lasted = format_duration(now - alert.fired_at)
    failing = [cause for cause in alert.incidents if cause.open]
    if alert.kind is Kind.BROKER:
        what = "the broker still cannot be read"
    elif failing:
        names = ", ".join(_webhook(cause) for cause in failing[:5])
        what = f"{names} still failing, {_pairs(len(alert.members))} stuck"
    else:
        what = f"{_pairs(len(alert.members))} still waiting"
    if alert.acked_by and alert.acked_at:
        who = f"acknowledged by {mrkdwn.user(alert.acked_by)} {mrkdwn.date(alert.acked_at)}"
        text = f":alarm_clock: Still firing after {lasted}: {what}; {who}, and no change since."
    else:
        text = f":alarm_clock: Still firing after {lasted}: {what}, and nobody acknowledged it."
    return Message(f"Still firing after {lasted}", [kit.section(text)])


def build_resolution(alert: Alert, now: datetime) -> Message:
    """The note in the thread when the alert resolves."""
    lasted = format_duration((alert.resolved_at or now) - alert.fired_at)
    text = f":white_check_mark: Resolved: it lasted {lasted}."
    waiting = [found for cause in alert.incidents if (found := _still_waiting(cause))]
    if waiting:
        text += f" Still waiting for a verification: {'; '.join(waiting)}."
    return Message(f"Resolved: it lasted {lasted}", [kit.section(text)])


def build_fixed(alert: Alert, webhooks: Sequence[str]) -> Message:
    """The note in the thread when webhooks of a firing alert work again."""
    fixed = [c for c in alert.incidents if c.webhook in webhooks and c.resolved_at is not None]
    lines = [_fixed_line(cause) for cause in fixed]
    names = ", ".join(cause.name for cause in fixed)
    return Message(f"Fixed: {names}", [kit.section(text) for text in pack_lines(lines)])


def build_joined(alert: Alert, pairs: Sequence[PairKey], webhooks: Sequence[str] = ()) -> Message:
    """The note, in the thread and the channel, when pairs or webhooks newly fire into an open
    alert."""
    lines = [
        f":rotating_light: Now failing too: webhook {_webhook(cause)}: "
        f"{mrkdwn.escape(cause.health)}."
        for cause in alert.incidents
        if cause.webhook in webhooks and cause.open
    ]
    if pairs:
        names = ", ".join(kit.name_of(pair) for pair in pairs[:20])
        more = f" and {len(pairs) - 20} more" if len(pairs) > 20 else ""
        lines.append(f":rotating_light: Now stuck too: {names}{more}.")
    text = f"{_pairs(len(pairs))} more stuck without a verification"
    if not pairs:
        text = f"{len(webhooks)} more webhook{'s' if len(webhooks) != 1 else ''} failing"
    return Message(text, [kit.section(chunk) for chunk in pack_lines(lines)])


def _pairs(count: int, kind: str = "") -> str:
    return f"{count} {kind}pair{'s' if count != 1 else ''}"
