"""Plain-text, Markdown and JSON renderings of a report for the command line and CI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.canary import CanaryView, Verdict
from bot.domain.explain import TestReport
from bot.domain.freshness import State
from bot.domain.model import Webhook
from bot.domain.report import PairRow, Report, WebhookView
from bot.domain.sight import NO_PERMISSION
from bot.duration import format_duration
from bot.targets import is_github, named

_COLUMNS = ("PAIR", "STATE", "VERIFIED", "WAITING SINCE", "WEBHOOK")


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def state_name(state: State) -> str:
    return state.value.replace("_", " ")


def webhook_cell(row: PairRow) -> str:
    view = row.main_webhook
    if view is None:
        return NO_PERMISSION if row.unseen else "no webhook"
    return health_text(view)


def health_text(view: WebhookView) -> str:
    """`token dead (401) since 2026-11-28 10:00 UTC`, `ok`, `never run`."""
    health = view.health
    text = health.describe()
    if health.failing and health.since:
        text += f" since {when(health.since)}"
    return text


def _cells(row: PairRow) -> tuple[str, ...]:
    freshness = row.freshness
    age = freshness.verification_age
    if age is not None:
        verified = f"{format_duration(age)} ago"
    elif row.record.history is not None and not row.record.history.complete:
        verified = "long ago"  # before the newest publications the matrix returned
    else:
        verified = "never"
    waiting = "-"
    if freshness.waiting_since is not None and freshness.waited is not None:
        waiting = f"{freshness.waiting_since:%Y-%m-%d %H:%M} ({format_duration(freshness.waited)})"
    return (str(row.key), state_name(row.state), verified, waiting, webhook_cell(row))


def status_table(report: Report) -> str:
    """Every pair, most urgent first, in aligned columns."""
    lines = [_COLUMNS, *(_cells(row) for row in report.rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(_COLUMNS))]
    text = "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
    return f"{text}\n\n{summary_line(report)}\n{notes_text(report)}"


def notes_text(report: Report) -> str:
    """What could not be read, one line per kind, each with what would fix it."""
    return "".join(f"! {note}\n" for note in report.notes)


def summary_line(report: Report) -> str:
    counts = [
        f"{report.count(state)} {state_name(state)}" for state in State if report.count(state)
    ]
    failing = len(report.failing_webhooks)
    hooks = f"; {failing} webhook{'s' if failing != 1 else ''} failing" if failing else ""
    return f"{len(report.rows)} pairs: {', '.join(counts)}{hooks} (at {when(report.taken_at)})"


@dataclass(frozen=True, slots=True)
class Gate:
    """What `pactbot check` fails on: stale or never verified pairs, and (unless
    `--freshness-only`) a failing or unfired CI trigger they wait on."""

    webhooks: bool = True

    def failing(self, report: Report) -> list[WebhookView]:
        """The webhooks that fail the check."""
        return report.depended_on(report.rows) if self.webhooks else []

    def passes(self, report: Report) -> bool:
        return not report.problems and not self.failing(report)


def check_text(report: Report, gate: Gate = Gate()) -> str:
    """What `pactbot check` prints: each failing webhook with what GitHub said, then each
    problem pair with its reason and the webhook behind it."""
    lines = []
    for failing in report.depended_on(report.rows):
        scope = failing.webhook.scope
        waiting = sum(1 for row in report.covered(scope) if row.state.is_problem)
        mark = "✗" if gate.webhooks else "!"
        lines.append(f"{mark} webhook {_webhook_line(failing)}")
        if failing.health.unfired is not None:
            lines.append(f"    {failing.health.unfired.explain()}")
        lines.append(
            f"    {waiting} stale or never verified pair{'s' if waiting != 1 else ''} behind it"
        )
    for row in report.rows:
        if not row.state.is_problem and row.state is not State.FAILING:
            continue
        mark = "✗" if row.state.is_problem else "!"
        lines.append(f"{mark} {row.key}: {state_name(row.state)}: {row.freshness.reason}")
        view = row.main_webhook
        if row.state.is_problem:
            lines.append(f"    webhook: {_webhook_line(view) if view else _no_webhook(row)}")
    lines.append(_verdict(report, gate))
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n" + notes_text(report)


def _no_webhook(row: PairRow) -> str:
    return NO_PERMISSION if row.unseen else "no webhook fires for this pair"


def _verdict(report: Report, gate: Gate) -> str:
    problems, hooks, total = len(report.problems), len(gate.failing(report)), len(report.rows)
    failing = f"{hooks} webhook{'s' if hooks != 1 else ''} they wait on failing or not firing"
    if problems and hooks:
        return f"check failed: {problems} of {total} pairs stale or never verified; {failing}"
    if problems:
        return f"check failed: {problems} of {total} pairs stale or never verified"
    if hooks:
        return f"check failed: {failing} (none of {total} pairs is stale or never verified yet)"
    return f"check passed: none of {total} pairs is stale or never verified"


def _webhook_line(view: WebhookView) -> str:
    webhook, health = view.webhook, view.health
    target = f" → {named(webhook.target)}" if webhook.target else f" → {webhook.url}"
    text = f'"{webhook.name}"{target}: {health_text(view)}'
    if health.answer and health.answer.message and health.failing:
        text += f' ("{health.answer.message}")'
    return text


def github_annotations(report: Report, gate: Gate = Gate()) -> str:
    """Workflow commands that mark each problem as an error in the GitHub Actions run: the
    webhooks the pairs wait on first (warnings with `--freshness-only`), then the pairs."""
    level = "error" if gate.webhooks else "warning"
    hooks = "".join(
        f"::{level} title={_escape_property(f'Pact webhook: {view.webhook.name}')}::"
        f"{_escape_data(_webhook_line(view))}\n"
        for view in report.depended_on(report.rows)
    )
    return hooks + "".join(
        f"::error title={_escape_property(f'Pact {state_name(row.state)}: {row.key}')}::"
        f"{_escape_data(row.freshness.reason)}\n"
        for row in report.problems
    )


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_summary(report: Report) -> str:
    """A Markdown table for `$GITHUB_STEP_SUMMARY`."""
    lines = [
        "### Pact verification freshness",
        "",
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "---|" * len(_COLUMNS),
    ]
    for row in report.rows:
        cells = [_markdown(cell) for cell in _cells(row)]
        if row.state.is_problem:
            cells[1] = f"**{cells[1]}**"
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", summary_line(report), ""]
    return "\n".join(lines)


def github_outputs(report: Report, gate: Gate) -> str:
    """The step's outputs for `$GITHUB_OUTPUT`: what later steps can test."""
    failing = report.depended_on(report.rows)
    return (
        f"stale={len(report.problems)}\n"
        f"failing-webhooks={len(failing)}\n"
        f"passed={'true' if gate.passes(report) else 'false'}\n"
    )


def _markdown(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def report_json(report: Report) -> dict[str, Any]:
    failing = report.depended_on(report.rows)
    return {
        "checked_at": report.taken_at.isoformat(),
        "ok": Gate().passes(report),
        "fresh": not report.problems,  # the old gate: `check --freshness-only`
        "failing_webhooks": [view.webhook.uuid for view in failing],
        # What the credentials could not read: freshness stands, these parts are unknown.
        "not_visible": [
            {
                "what": found.what.value,
                "path": found.path,
                "status": found.status,
                "about": found.subject,
            }
            for found in report.blind
        ],
        "notes": report.notes,
        "pairs": [_pair_json(row) for row in report.rows],
        "webhooks": [_webhook_json(view, report) for view in report.webhooks],
        "canaries": [_canary_json(view) for view in report.canaries],
    }


def canary_text(report: Report) -> str:
    """What each canary found, for `check --canary`: one line each, then its warnings."""
    lines = []
    for view in report.canaries:
        last = view.state.last if view.state else None
        mark = {Verdict.ALIVE: "✓", Verdict.DEAD: "✗", None: "?"}.get(
            last.verdict if last else None, "!"
        )
        said = last.headline if last else "not run"
        lines.append(f"{mark} canary of {view.canary.asks_about} ({view.canary.uuid}): {said}")
        if last is not None and last.verdict is Verdict.DEAD:
            names = ", ".join(f'"{webhook.name}"' for webhook in view.webhooks) or "none seen"
            lines.append(f"    the webhooks that send that token: {names}")
        lines += [f"    ! {warning}" for warning in view.warnings(report.taken_at)]
    return "\n".join(lines) + "\n" if lines else ""


def _canary_json(view: CanaryView) -> dict[str, Any]:
    last = view.state.last if view.state else None
    return {
        "id": view.canary.uuid,
        "secret": view.canary.secret,
        "webhook": view.canary.webhook,
        "webhooks": [webhook.uuid for webhook in view.webhooks],
        "verdict": last.verdict.value if last else None,
        "ran_at": last.at.isoformat() if last else None,
        "target_status": last.status if last else None,
        "token_expires": last.expires.isoformat() if last and last.expires else None,
        "said": last.headline if last else None,
    }


def _pair_json(row: PairRow) -> dict[str, Any]:
    freshness, record = row.freshness, row.record
    newest = freshness.newest_verification
    return {
        "consumer": row.key.consumer,
        "provider": row.key.provider,
        "state": row.state.value,
        "reason": freshness.reason,
        "max_age": format_duration(row.rule.max_age),
        "policy": row.rule.policy.value,
        "latest_pact": {
            "published_at": record.latest_pact.published_at.isoformat(),
            "consumer_version": record.latest_pact.consumer_version,
            "branch": record.latest_pact.branch,
        },
        "newest_verification": {
            "verified_at": newest.verified_at.isoformat(),
            "success": newest.success,
            "provider_version": newest.provider_version,
        }
        if newest
        else None,
        "verification_age_seconds": _seconds(freshness.verification_age),
        "waiting_since": freshness.waiting_since.isoformat() if freshness.waiting_since else None,
        "webhooks": [view.webhook.uuid for view in row.webhooks],
        "webhooks_unknown": row.unseen,
    }


def _webhook_json(view: WebhookView, report: Report) -> dict[str, Any]:
    webhook, health = view.webhook, view.health
    answer = health.answer
    unfired = health.unfired
    unanswered = report.unanswered_since(view)
    return {
        "id": webhook.uuid,
        "description": webhook.description,
        "scope": str(webhook.scope),
        "enabled": webhook.enabled,
        "events": list(webhook.events),
        "github_repository": webhook.target.slug if is_github(webhook.target) else None,
        "ci": webhook.target.ci if webhook.target else None,
        "builds": webhook.target.slug if webhook.target else None,
        "health": health.kind.value,
        "last_run": health.last_run.isoformat() if health.last_run else None,
        "failing_since": health.since.isoformat() if health.since else None,
        "target_status": answer.status if answer else None,
        "health_text": health.describe(),
        "did_not_fire": {
            "consumer": unfired.pair.consumer,
            "provider": unfired.pair.provider,
            "since": unfired.since.isoformat(),
            "reason": unfired.why.value,
            "explanation": unfired.explain(),
        }
        if unfired
        else None,
        "oldest_unanswered_publication": unanswered.isoformat() if unanswered else None,
    }


def _seconds(span: timedelta | None) -> int | None:
    return None if span is None else int(span.total_seconds())


def webhook_title(webhook: Webhook) -> str:
    target = named(webhook.target) if webhook.target else webhook.url
    return f'"{webhook.name}" ({webhook.uuid}) → {target}, for {webhook.scope}'


def test_text(report: TestReport) -> str:
    """The explained result of one webhook Test."""
    mark = "✓" if report.passed else "✗"
    lines = [f"{mark} {report.headline}"]
    lines += [f"  → {advice}" for advice in report.advice]
    lines += [f"  ! {warning}" for warning in report.warnings]
    lines += [f"  {note}" for note in report.notes]
    return "\n".join(lines) + "\n"
