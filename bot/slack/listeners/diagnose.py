"""`/pact diagnose [provider | webhook id]`: the field guide's diagnosis, posted in the channel.

It runs the webhook Test (a real CI run), so it is for on-call and admins and shares the Test's
one-per-webhook-per-minute claim; within that minute it diagnoses from the real executions.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.blocks.diagnosis import build_diagnose_choice, build_diagnosis
from bot.blocks.help import build_notice
from bot.blocks.webhook import build_running
from bot.domain.command import Command
from bot.domain.diagnosis import Facts, diagnose, facts_from
from bot.domain.explain import TestReport
from bot.domain.model import Webhook
from bot.domain.report import Report
from bot.domain.webhook_choice import dispatching
from bot.errors import BrokerError, BrokerNotFound, GitHubError, StoreUnavailable
from bot.slack.listeners.tests import post_result
from bot.slack.replies import Reply
from bot.slack.services import Services
from bot.targets import is_github

# The provider's runs shown: enough to see whether real publications reach it at all.
RUNS_LOOKED_AT = timedelta(days=7)


async def diagnose_command(
    services: Services, parsed: Command, command: dict[str, Any], reply: Reply
) -> None:
    wanted = parsed.argument
    try:
        report = await services.monitor.current()
        providers = {row.key.provider for row in report.rows}
        candidates = _candidates(report, wanted)
    except BrokerError as error:
        await reply.say(build_notice(str(error)))
        return
    if len(candidates) > 1:
        await reply.say(build_diagnose_choice(candidates))
        return
    webhook = candidates[0] if candidates else None
    provider = wanted if wanted in providers else webhook.scope.provider if webhook else None
    facts = facts_from(report, provider, webhook)
    if webhook is not None:
        facts = await _tested(services, reply, webhook, facts)
        facts = await _with_runs(services, webhook, facts)
    diagnosis = diagnose(facts, services.clock())
    result = build_diagnosis(diagnosis, by=reply.user, at=services.clock())
    await post_result(reply, command["channel_id"], result)


def _candidates(report: Report, wanted: str) -> list[Webhook]:
    """The CI-trigger webhooks `wanted` names; none for a provider no webhook reaches."""
    pairs = [row.key for row in report.rows]
    try:
        return dispatching(
            [view.webhook for view in report.webhooks], wanted, pairs, report.labelled
        )
    except BrokerNotFound:
        if wanted in {pair.provider for pair in pairs}:
            return []
        raise


async def _with_runs(services: Services, webhook: Webhook, facts: Facts) -> Facts:
    """`facts` with the provider's recent repository_dispatch runs, when GITHUB_TOKEN is set."""
    target, github = webhook.target, services.github
    if target is None or github is None or not is_github(target):
        return facts
    since = services.clock() - RUNS_LOOKED_AT
    try:
        runs = await github.dispatch_runs(target.owner, target.repo, since)
    except GitHubError as error:
        return replace(facts, runs_skipped=str(error))
    return replace(facts, runs=runs)


async def _tested(services: Services, reply: Reply, webhook: Webhook, facts: Facts) -> Facts:
    """`facts` with the Test's report, or with why it did not run."""
    try:
        recent = await services.runner.claim(webhook.uuid, reply.user)
    except StoreUnavailable as error:
        return replace(facts, test_skipped=error.said)
    if recent is not None:
        said = f' (it said: "{recent.headline}")' if recent.headline else ""
        skipped = f"one ran less than a minute ago{said}; each Test dispatches a real CI run"
        return replace(facts, test_skipped=skipped)
    await reply.say(build_running(webhook))
    try:
        report: TestReport = (await services.runner.run(webhook.uuid, reply.user))[1]
    except BrokerError as error:
        return replace(facts, test_skipped=error.said)
    return replace(facts, test=report)
