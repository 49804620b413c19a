"""The answer of `/pact diagnose`: the verdict and next step first, then what it rests on."""

from __future__ import annotations

from datetime import datetime

from bot.blocks import kit, mrkdwn
from bot.blocks.limits import Block, Message, pack_lines
from bot.domain.diagnosis import Diagnosis, DispatchRun, Verdict
from bot.domain.model import Webhook
from bot.targets import they_trigger

_RUNS_SHOWN = 5
_MARKS = {Verdict.HEALTHY: ":white_check_mark:", Verdict.UNKNOWN: ":grey_question:"}


def build_diagnosis(diagnosis: Diagnosis, *, by: str, at: datetime) -> Message:
    """The diagnosis for everyone in the channel; a dead token offers the rotation."""
    mark = _MARKS.get(diagnosis.verdict, ":rotating_light:")
    provider = mrkdwn.escape(diagnosis.provider)
    lines = [
        f"{mark} *Diagnosis of {provider}: {diagnosis.verdict.value}*",
        f"→ {mrkdwn.escape(diagnosis.next_step)}",
    ]
    view = diagnosis.webhook
    if view is not None:
        lines.append(f"Webhook {kit.webhook_name(view.webhook)}")
    if diagnosis.test is not None:
        lines.append(f"*Test:* {mrkdwn.escape(diagnosis.test)}")
    lines += [mrkdwn.escape(line) for line in diagnosis.evidence]
    lines += [_run_line(run) for run in _newest(diagnosis.runs or ())]
    if diagnosis.findings:
        lines.append("*Lint*")
        lines += [kit.finding_line(finding) for finding in diagnosis.findings]
    blocks: list[Block] = [kit.section(text) for text in pack_lines(lines)]
    ran = " · the Test dispatched a real CI run" if diagnosis.test and view else ""
    blocks.append(kit.context(f"Asked by {mrkdwn.user(by)} {mrkdwn.date(at)}{ran}"))
    if view is not None and diagnosis.verdict is Verdict.TOKEN_DEAD:
        uuid = view.webhook.uuid
        blocks.append(
            kit.actions(
                kit.button("Start rotation", kit.ROTATION_START, uuid, style="danger"),
                kit.button("Run test", kit.TEST_RUN, uuid),
            )
        )
    summary = f"Diagnosis of {diagnosis.provider}: {diagnosis.verdict.value}"
    return Message(summary, blocks)


def build_diagnose_choice(webhooks: list[Webhook]) -> Message:
    """Several CI-trigger webhooks fit: say how to name one (each diagnosis runs a Test)."""
    doing = they_trigger(webhook.target for webhook in webhooks)
    lines = [f"{len(webhooks)} webhooks {doing} here. Diagnose one of them:"]
    lines += [
        f"• `/pact diagnose {mrkdwn.escape(webhook.uuid)}` · {kit.webhook_name(webhook)} · "
        f"for {mrkdwn.escape(str(webhook.scope))}"
        for webhook in webhooks
    ]
    return Message("Choose the webhook to diagnose", [kit.section(t) for t in pack_lines(lines)])


def _newest(runs: tuple[DispatchRun, ...]) -> list[DispatchRun]:
    return sorted(runs, key=lambda run: run.created_at, reverse=True)[:_RUNS_SHOWN]


def _run_line(run: DispatchRun) -> str:
    title = mrkdwn.escape(run.display_title or "run")
    outcome = mrkdwn.escape(run.conclusion or run.status or "queued")
    # The address as text, which Slack links by itself: a link markup around a title from
    # outside could be made to show one address and open another.
    where = mrkdwn.escape(run.html_url)
    return f"• {title}: {outcome}, {mrkdwn.date(run.created_at)} · {where}"
