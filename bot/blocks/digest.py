"""The daily digest: one channel message, most urgent first, and thread replies for the rest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from types import MappingProxyType

from bot.blocks import kit, mrkdwn
from bot.blocks.limits import MESSAGE_BLOCKS, Block, Message, clip, pack_lines
from bot.blocks.rotation import rotated_lines
from bot.domain.alerts import Alert, Kind, Silence, silence_for
from bot.domain.canary import Verdict
from bot.domain.freshness import State
from bot.domain.lint import lint_all
from bot.domain.model import PairKey
from bot.domain.report import NO_PAIRS, NO_PAIRS_FIX, PairRow, Report
from bot.domain.rotation import NONE_ROTATED, Rotated
from bot.duration import format_duration

_REPLY_BODY = MESSAGE_BLOCKS - 1
# When GitHub said each webhook's token expires (by uuid), as the last Tests' headers told.
NONE_KNOWN: Mapping[str, datetime] = MappingProxyType({})
# Problem pairs in full, each with its reason; beyond these, one line each.
_DETAILED = 30
_COMPACT = (State.PENDING, State.IDLE, State.FRESH)


def build_digest(
    report: Report,
    *,
    day: date,
    alerts: Sequence[Alert] = (),
    silences: Sequence[Silence] = (),
    rotated: Rotated = NONE_ROTATED,
    lint: bool = False,
    expiries: Mapping[str, datetime] = NONE_KNOWN,
) -> list[Message]:
    """The digest of `report` for `day`: the channel message, then its thread replies; with
    `lint` (once a week), the webhooks' lint findings too."""
    title = _title(day)
    head = [
        kit.header(title),
        kit.context(summary(report)),
        *verdict(report),
        *unseen(report),
        *canaries(report),
    ]
    firing = [alert for alert in alerts if alert.firing]
    if firing:
        head.append(kit.section("\n".join(_alert_line(alert, report.taken_at) for alert in firing)))
    head.extend(rotated_blocks(rotated, report))
    body = body_blocks(report, silences, lint=lint, expiries=expiries)
    room = MESSAGE_BLOCKS - len(head) - 2  # and the "more in the thread" line and the footer
    first, rest = body[:room], body[room:]
    footer = kit.context(f"As of {mrkdwn.date(report.taken_at)} · `/pact status` for every pair")
    more = [kit.section(f"_…and {len(rest)} more sections in the thread._")] if rest else []
    replies = [rest[start : start + _REPLY_BODY] for start in range(0, len(rest), _REPLY_BODY)]
    messages = [Message(clip(f"{title}: {summary(report)}", 4000), head + first + more + [footer])]
    for number, blocks in enumerate(replies, start=2):
        part = kit.context(f"{mrkdwn.escape(title)} · part {number} of {len(replies) + 1}")
        messages.append(Message(f"{title} (part {number})", [part, *blocks]))
    return messages


def verdict(report: Report) -> list[Block]:
    """A line above the pairs: no pairs at all (a setting to check), or nothing to do."""
    if not report.rows:
        return [kit.section(no_pairs())]
    if not report.problems and not report.failing_webhooks:
        # Not "all is well" when the webhooks could not all be read: said just below.
        partly = "; the webhooks' health is partly unknown" if report.notes else ""
        return [
            kit.section(f":white_check_mark: Nothing waits too long for a verification{partly}.")
        ]
    return []


def unseen(report: Report) -> list[Block]:
    """What pactbot could not read of the broker, and what permission would show it."""
    if not report.notes:
        return []
    lines = [
        ":see_no_evil: *Not visible to pactbot*",
        *(f"• {mrkdwn.escape(n)}" for n in report.notes),
    ]
    return [kit.section(text) for text in pack_lines(lines)][:2]


def canaries(report: Report) -> list[Block]:
    """Every day until it changes: a canary's token without the repo scope or about to expire,
    and a canary that cannot ask GitHub. A dead token is an alert, and a failing webhook above."""
    lines = []
    for view in report.canaries:
        last = view.state.last if view.state else None
        about = f":hatching_chick: Canary of {mrkdwn.escape(view.canary.asks_about)}"
        if last is not None and last.verdict is Verdict.CANNOT_RUN:
            lines.append(f"{about}: {mrkdwn.escape(last.headline)}")
        lines += [f"{about}: {mrkdwn.escape(w)}" for w in view.warnings(report.taken_at)]
    return [kit.section(text) for text in pack_lines(lines)][:2] if lines else []


def rotated_blocks(rotated: Rotated, report: Report) -> list[Block]:
    """When each GitHub token was last rotated, and where a practice rotation is due."""
    webhooks = (view.webhook for view in report.webhooks)
    lines = rotated_lines(rotated, webhooks, report.taken_at)
    return [kit.section(text) for text in pack_lines(lines)][:2] if lines else []


def no_pairs() -> str:
    return f":warning: *{NO_PAIRS}*: {NO_PAIRS_FIX}."


def summary(report: Report) -> str:
    """Counts per state and failing webhooks: `1 stale · 2 fresh · 1 webhook failing`."""
    counts = [
        f"{report.count(state)} {state.value.replace('_', ' ')}"
        for state in State
        if report.count(state)
    ]
    failing = len(report.failing_webhooks)
    if failing:
        counts.append(f"{failing} webhook{'s' if failing != 1 else ''} failing")
    if not report.rows:
        return "no pairs"
    pairs = f"{len(report.rows)} pair{'s' if len(report.rows) != 1 else ''}"
    return f"{pairs}: " + " · ".join(counts)


def build_digest_failure(reason: str, *, day: date, retry_at: datetime | None) -> Message:
    """What the digest says when the broker cannot be read: never an empty "all fine"."""
    title = _title(day)
    retry = f" pactbot tries again {mrkdwn.date(retry_at, '{time}')}." if retry_at else ""
    said = mrkdwn.escape(reason)
    text = f":warning: The Pact Broker could not be read for today's digest: {said}.{retry}"
    return Message(
        f"{title}: the Pact Broker could not be read", [kit.header(title), kit.section(text)]
    )


def _title(day: date) -> str:
    return f"Pact freshness · {day:%a %-d %b %Y}"


def body_blocks(
    report: Report,
    silences: Sequence[Silence] = (),
    *,
    lint: bool = False,
    expiries: Mapping[str, datetime] = NONE_KNOWN,
) -> list[Block]:
    """Failing webhooks, then problem pairs, then the lint if asked, then the others grouped by
    state."""
    quiet = {
        row.key: silence
        for row in report.problems
        if (silence := silence_for(row.key, silences, report.taken_at))
    }
    linted = _lint_blocks(report, expiries) if lint else []
    return (
        _webhook_blocks(report) + _problem_blocks(report, quiet) + linted + _compact_blocks(report)
    )


def _lint_blocks(report: Report, expiries: Mapping[str, datetime]) -> list[Block]:
    webhooks = (view.webhook for view in report.webhooks)
    findings = lint_all(webhooks, expiries, report.taken_at)
    if not findings:
        return [kit.section(":broom: *Weekly webhook lint*: nothing to fix.")]
    title = f":broom: *Weekly webhook lint*: {len(findings)} to fix before they stop verifications"
    return [kit.section(text) for text in pack_lines([title, *map(kit.finding_line, findings)])]


def _alert_line(alert: Alert, now: datetime) -> str:
    where = mrkdwn.channel(alert.channel)
    if alert.kind is Kind.BROKER:
        what = "the Pact Broker cannot be read"
    else:
        parts = [
            f"webhook “{mrkdwn.escape(cause.name)}” {mrkdwn.escape(cause.health)}"
            for cause in alert.incidents
            if cause.open
        ]
        if alert.members or not parts:
            parts.append(f"{len(alert.members)} pair{'s' if len(alert.members) != 1 else ''}")
        what = " · ".join(parts)
    age = format_duration(now - alert.fired_at)
    line = f":rotating_light: Alert in {where}: {what}, firing for {age}"
    if not alert.loud:
        line += " · :mute: everything in it silenced"
    if alert.acked_by:
        line += f" · acknowledged by {mrkdwn.user(alert.acked_by)}"
    return line


def _webhook_blocks(report: Report) -> list[Block]:
    """Each failing webhook, and for one that did not fire, why and what to run."""
    blocks = []
    for view in report.failing_webhooks:
        waiting = [row for row in report.problems if row.main_webhook == view]
        text = (
            f":rotating_light: *Webhook* {kit.webhook_name(view.webhook)}: "
            f"*{kit.health_text(view)}*; {len(waiting)} pair{'s' if len(waiting) != 1 else ''} "
            "waiting behind it"
        )
        unfired = view.health.unfired
        if unfired is not None:
            text += f"\nFor {kit.name_of(unfired.pair)}: {mrkdwn.escape(unfired.explain())}"
        blocks.append(kit.section(text, accessory=kit.test_button(view.webhook)))
    return blocks


def _problem_blocks(report: Report, quiet: Mapping[PairKey, Silence]) -> list[Block]:
    problems = [row for row in report.rows if row.state.urgency <= State.FAILING.urgency]
    blocks = []
    listed = {view.webhook.uuid for view in report.failing_webhooks}
    for row in problems[:_DETAILED]:
        title = f"*{kit.pair_name(row)}* · {kit.state_label(row.state)}"
        if row.key in quiet:
            title += f" · {kit.silenced(quiet[row.key])}"
        text = f"{title}\n{mrkdwn.escape(row.freshness.reason)}\n{kit.pair_details(row)}"
        blocks.append(kit.section(text, accessory=_pair_button(row, listed)))
    rest = problems[_DETAILED:]
    if rest:
        lines = [f"*…and {len(rest)} more*", *(_problem_line(row) for row in rest)]
        blocks += [kit.section(text) for text in pack_lines(lines)]
    return blocks


def _pair_button(row: PairRow, listed: set[str]) -> Block | None:
    view = row.main_webhook
    # A failing webhook has its own section and button above: one button per webhook.
    if view is None or row.state is State.FAILING or view.webhook.uuid in listed:
        return None
    return kit.test_button(view.webhook)


def _problem_line(row: PairRow) -> str:
    return f"• {kit.pair_name(row)} · {kit.state_label(row.state)} · {kit.pair_details(row)}"


def _compact_blocks(report: Report) -> list[Block]:
    blocks: list[Block] = []
    for state in _COMPACT:
        rows = [row for row in report.rows if row.state is state]
        if rows:
            title = f"*{kit.state_label(state)}* ({len(rows)})"
            lines = [title, *(_compact_line(row) for row in rows)]
            blocks += [kit.section(text) for text in pack_lines(lines)]
    return blocks


def _compact_line(row: PairRow) -> str:
    waited = row.freshness.waited
    suffix = f" (waiting {format_duration(waited)})" if waited is not None else ""
    return f"• {kit.pair_name(row)}{suffix}"
