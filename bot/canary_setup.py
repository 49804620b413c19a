"""`pactbot canary`: the canary webhook of each GitHub token the webhooks send, printed or made.

A canary is found again by its description, so a second run changes nothing. Where the broker
shows which secret a webhook's Authorization header references (PactFlow), the canary sends
the same reference; where it masks the header (the open-source broker), pactbot cannot copy
the token and never asks for it: the canary is printed with a placeholder for whoever creates
it to fill in, where the token is kept.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from bot.broker.client import BrokerClient
from bot.broker.snapshot import read_webhooks
from bot.commands import Context
from bot.domain.canary import (
    EVENT,
    PROVIDER,
    Canary,
    definition,
    recognise,
    secrets,
    spoken_for,
)
from bot.domain.model import Webhook
from bot.domain.selection import closest
from bot.errors import BrokerNotFound, UsageError
from bot.targets import is_github

_MASKED = (
    "the broker masks {webhook}'s Authorization header (the open-source broker masks them "
    "all), so pactbot cannot copy its token, and never asks for one"
)


@dataclass(frozen=True, slots=True)
class Plan:
    """A canary to have (its uuid not known yet), and the Authorization it sends (None: the
    broker masks the header it copies)."""

    canary: Canary
    authorization: str | None

    def made_by(self, made: Canary) -> bool:
        return made.asks_like(self.canary)


async def canary(
    context: Context, *, named: Sequence[str] = (), like: str | None = None, create: bool = False
) -> int:
    """Print (or with `create`, make) the canary of each secret the GitHub-dispatch webhooks
    reference; 0 when each exists or was printed or made, 2 when one cannot be made here."""
    async with BrokerClient(context.broker, clock=context.clock, sleep=context.sleep) as client:
        webhooks = [webhook for webhook, _ in await read_webhooks(client, context.github_api_url)]
        existing = [made for webhook in webhooks if (made := recognise(webhook))]
        wanted = plans(webhooks, named, like)
        every = existing + [plan.canary for plan in wanted]
        code = 0
        for plan in wanted:
            serving = _serving(spoken_for(plan.canary, webhooks, every))
            context.out.write(f"Canary of {plan.canary.asks_about}, {serving}\n")
            found = next((made for made in existing if plan.made_by(made)), None)
            if found is not None:
                context.out.write(f"  exists: webhook {found.uuid}; nothing changed.\n\n")
            elif create and plan.authorization is None:
                masked = _MASKED.format(webhook=plan.canary.webhook)
                context.out.write(f"  not made: {masked}.\n\n")
                code = 2
            elif create:
                await _make(client, context, plan)
            else:
                context.out.write(_instructions(context, plan) + "\n")
    return code


def plans(webhooks: Sequence[Webhook], named: Sequence[str], like: str | None) -> list[Plan]:
    """The canaries asked for: of each secret `named`, of the token of the webhook `like`,
    else of each secret the GitHub-dispatch webhooks are seen to reference."""
    referenced = secrets(webhooks)
    # A PactFlow secret belongs to a team: one canary for each team whose webhooks use it;
    # where the broker masks which secret they use, each team of those webhooks.
    masked = dict.fromkeys(w.team for w in webhooks if is_github(w.target) and w.secret is None)
    found = [
        _secret_plan(name, team)
        for name in named
        for team in dict.fromkeys(t for secret, t in referenced if secret == name)
        or masked
        or [None]
    ]
    if like is not None:
        found.append(_like(webhooks, like))
    if named or like is not None:
        return found
    if referenced:
        return [_secret_plan(name, team) for name, team in referenced]
    if masked:
        raise UsageError(
            "the broker does not show which secret the GitHub-dispatch webhooks send (the "
            "open-source broker masks their Authorization header): name it with --secret NAME "
            "(PactFlow), or give the webhook whose token to ask about with --like WEBHOOK_ID"
        )
    raise UsageError(
        "no webhook here dispatches to GitHub: a canary has a GitHub token to ask about only"
    )


def _secret_plan(name: str, team: str | None) -> Plan:
    return Plan(Canary("", secret=name, team=team), f"Bearer ${{user.{name}}}")


def _like(webhooks: Sequence[Webhook], uuid: str) -> Plan:
    known = {webhook.uuid: webhook for webhook in webhooks}
    webhook = known.get(uuid)
    if webhook is None:
        near = closest(uuid, known)
        raise BrokerNotFound(f"webhook {uuid!r}", [f"{k} ({known[k].name})" for k in near])
    if not is_github(webhook.target):
        raise UsageError(
            f"webhook {uuid} does not dispatch to GitHub: a canary asks about a GitHub token"
        )
    if webhook.secret is not None:
        return _secret_plan(webhook.secret, webhook.team)
    return Plan(Canary("", webhook=uuid, team=webhook.team), None)


def _serving(webhooks: Sequence[Webhook]) -> str:
    if not webhooks:
        return "which no webhook is seen to send"
    names = ", ".join(f"“{webhook.name}”" for webhook in webhooks)
    return f"the token of {len(webhooks)} webhook{'s' if len(webhooks) != 1 else ''}: {names}"


def _definition(context: Context, plan: Plan) -> dict[str, object]:
    wanted = plan.canary
    placeholder = f"Bearer <the GitHub token webhook {wanted.webhook} sends>"
    return definition(
        authorization=plan.authorization or placeholder,
        github_api_url=context.github_api_url,
        secret=wanted.secret,
        webhook=wanted.webhook,
        team=wanted.team,
    )


async def _make(client: BrokerClient, context: Context, plan: Plan) -> None:
    if await client.create_pacticipant(PROVIDER):
        context.out.write(f"  made the pacticipant {PROVIDER}, which no consumer publishes to\n")
    made = await client.create_webhook(_definition(context, plan))
    context.out.write(
        f"  made: webhook {made.uuid}. `pactbot serve` runs its Test every canary.every; "
        "`pactbot check --canary` runs it now (no CI run starts).\n\n"
    )


def _instructions(context: Context, plan: Plan) -> str:
    """The canary's JSON, and the commands that make it: curl, or the Pact CLI."""
    made = _definition(context, plan)
    body = json.dumps(made, indent=2)
    lines = ["  its webhook, for POST /webhooks:", *(f"    {line}" for line in body.splitlines())]
    if plan.authorization is None:
        lines.append(
            f"  {_MASKED.format(webhook=plan.canary.webhook)}: put that token in place of the "
            "placeholder where you create it."
        )
    auth = _curl_auth(context)
    base = context.broker.base_url
    pacticipant = json.dumps({"name": PROVIDER})
    lines += [
        "  make it: `pactbot canary --create` (a read/write broker token), or with curl:",
        f"    curl -sS -X POST {base}/pacticipants{auth} -H 'Content-Type: application/json' "
        f"-d {shlex.quote(pacticipant)}",
        f"    curl -sS -X POST {base}/webhooks{auth} -H 'Content-Type: application/json' "
        f"-d {shlex.quote(json.dumps(made))}",
        "  or with the Pact CLI:",
        f"    pact-broker create-or-update-pacticipant --name {PROVIDER}",
        "    " + _pact_cli(made, plan),
    ]
    return "\n".join(lines) + "\n"


def _curl_auth(context: Context) -> str:
    """The broker credentials, as the environment variables that hold them: never the value."""
    if context.broker.username is not None:
        return ' -u "$PACT_BROKER_USERNAME:$PACT_BROKER_PASSWORD"'
    if context.broker.token is not None:
        return ' -H "Authorization: Bearer $PACT_BROKER_TOKEN"'
    return ""


def _pact_cli(made: dict[str, object], plan: Plan) -> str:
    request = made["request"]
    assert isinstance(request, dict)
    words = ["pact-broker", "create-webhook", str(request["url"]), "--request", "POST"]
    for name, value in request["headers"].items():
        words += ["--header", f"{name}: {value}"]
    words += ["--data", json.dumps(request["body"]), "--provider", PROVIDER]
    words += [f"--{EVENT.replace('_', '-')}", "--description", str(made["description"])]
    if plan.canary.team is not None:
        words += ["--team-uuid", plan.canary.team]
    return shlex.join(words)
