"""The `pactbot` command line.

Only the standard library is imported at start-up, so `pactbot check --help` answers at once;
each command imports what it needs when it runs. Exit codes: 0 all well, 1 the check found a
problem (or the Test's target did not answer 2xx), 2 pactbot could not tell (bad config, broker
error, unknown pacticipant or webhook).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot import __version__
from bot.duration import parse_duration
from bot.errors import PactbotError, UsageError

if TYPE_CHECKING:
    from bot.commands import Context

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

_EXIT_CODES = """exit codes:
  0  every selected pair is fresh, idle, pending or failing, and no CI-trigger webhook
     they wait on fails or did not fire
  1  a pair is stale or never verified, or a webhook it waits on fails (401, 403, 404, ...)
     or did not fire (with --freshness-only: only the pairs count); with --canary, also
     when a canary finds a token dead, whatever the pairs say
  2  pactbot cannot tell: bad config, broker error, unknown pacticipant; with
     --require-webhooks, also when the credentials may not read the webhooks or labels;
     with --canary, when the broker has no canary webhook or a canary cannot ask GitHub"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `pactbot` command with `argv` (default: the process's arguments)."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except PactbotError as error:
        print(f"pactbot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`pactbot status | head`): say nothing more on a closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by a closed pipe
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pactbot",
        description="Watch a Pact Broker for pairs waiting on verification and dead webhooks.",
    )
    parser.add_argument("--version", action="version", version=f"pactbot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options()
    adders = (_add_check, _add_status, _add_test_webhook, _add_canary, _add_digest, _add_serve)
    for add in (*adders, _add_doctor, _add_demo):
        add(commands, common)
    return parser


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("broker and config (flags override the environment)")
    group.add_argument(
        "--config", type=Path, help="YAML config file (env PACTBOT_CONFIG; default ./pactbot.yml)"
    )
    group.add_argument("--broker-base-url", help="env PACT_BROKER_BASE_URL")
    group.add_argument("--broker-token", help="bearer token, env PACT_BROKER_TOKEN (PactFlow)")
    group.add_argument("--broker-username", help="basic auth, env PACT_BROKER_USERNAME")
    group.add_argument("--broker-password", help="basic auth, env PACT_BROKER_PASSWORD")
    return common


def _add_check(commands: Commands, common: argparse.ArgumentParser) -> None:
    check = commands.add_parser(
        "check",
        parents=[common],
        help="CI gate: exit 1 when a pair is stale or never verified, or its webhook fails",
        description="Fail when a selected pair has waited too long for a verification, or a "
        "webhook it waits on fails or did not fire.",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _pair_filters(check)
    check.add_argument(
        "--max-age", type=_duration, metavar="DUR", help="e.g. 6h, 24h, 7d (overrides the config)"
    )
    check.add_argument(
        "--policy",
        choices=("age", "demand"),
        help="demand (default): a published pact waited longer than max-age; "
        "age: the newest verification is older than max-age",
    )
    check.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="github also writes annotations and $GITHUB_STEP_SUMMARY",
    )
    check.add_argument(
        "--freshness-only",
        action="store_true",
        help="fail on stale or never verified pairs only, not on failing webhooks",
    )
    check.add_argument(
        "--require-webhooks",
        action="store_true",
        help="exit 2 when the credentials may not read the webhooks, their executions or "
        "labels (without it, the pairs are judged and what was not visible is said)",
    )
    check.add_argument(
        "--canary",
        action="store_true",
        help="run the canaries' Tests first (GitHub is asked, no CI run starts) and fail when "
        "one finds a token dead, even when no pair is stale",
    )
    check.set_defaults(run=_check)


def _add_status(commands: Commands, common: argparse.ArgumentParser) -> None:
    status = commands.add_parser("status", parents=[common], help="every pair, most urgent first")
    _pair_filters(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(run=_status)


def _add_test_webhook(commands: Commands, common: argparse.ArgumentParser) -> None:
    test = commands.add_parser(
        "test-webhook",
        parents=[common],
        help="run the broker's webhook Test and explain the result",
        description="Run the broker's webhook Test (it dispatches a real CI run) and explain "
        "what the target answered. Exit 0 when it answered 2xx, 1 when not, 2 when the Test "
        "could not run.",
    )
    test.add_argument("webhook_id", nargs="?", metavar="WEBHOOK_ID", help="the broker's webhook id")
    test.add_argument("--provider", help="the provider whose CI-trigger webhook to test")
    test.set_defaults(run=_test_webhook)


def _add_canary(commands: Commands, common: argparse.ArgumentParser) -> None:
    canary = commands.add_parser(
        "canary",
        parents=[common],
        help="print (or make) the canary webhook that finds a dead GitHub token early",
        description="Print, for each secret the CI-trigger webhooks send, a canary "
        "webhook: it asks GitHub to render Markdown with the same token, so its Test says "
        "whether the token is alive without starting a CI run, and no publication fires it. "
        "With --create, make it (a read/write broker token). A canary that exists is left as "
        "it is. Exit 0, or 2 when one cannot be made here.",
    )
    canary.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME",
        help="the PactFlow secret to ask about (repeatable); default: every secret the "
        "webhooks are seen to send",
    )
    canary.add_argument(
        "--like",
        metavar="WEBHOOK_ID",
        help="ask about the token this webhook sends (where the broker masks its header)",
    )
    canary.add_argument("--create", action="store_true", help="make the canaries in the broker")
    canary.set_defaults(run=_canary)


def _add_digest(commands: Commands, common: argparse.ArgumentParser) -> None:
    digest = commands.add_parser(
        "digest", parents=[common], help="print today's digest as the channel would read it"
    )
    digest.add_argument("--json", type=Path, metavar="FILE", help="also write its Block Kit JSON")
    digest.set_defaults(run=_digest)


def _add_serve(commands: Commands, common: argparse.ArgumentParser) -> None:
    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="run the Slack bot (HTTP mode; Socket Mode when SLACK_APP_TOKEN is set)",
        description="Run the Slack bot: /pact, the daily digest and App Home. Slack's requests "
        "arrive on POST /slack/events (or over Socket Mode); /healthz, /readyz and /metrics are "
        "served on the same port.",
    )
    serve.add_argument("--port", type=int, help="env PORT; default 3000")
    serve.set_defaults(run=_serve)


def _add_doctor(commands: Commands, common: argparse.ArgumentParser) -> None:
    doctor = commands.add_parser(
        "doctor",
        parents=[common],
        help="check the config, the broker, Slack, the channels and the store; lint the webhooks",
        description="Check what pactbot needs, one line per check, and lint the broker's "
        "webhooks. Starts no CI run. Exit 0 when nothing failed, 1 when something did.",
    )
    doctor.set_defaults(run=_doctor)


def _add_demo(commands: Commands, common: argparse.ArgumentParser) -> None:
    demo = commands.add_parser(
        "demo", help="run status, check and test-webhook against a sample broker"
    )
    demo.set_defaults(run=_demo)


def _pair_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--consumer", help="only pairs with this consumer")
    parser.add_argument("--provider", help="only pairs with this provider")


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _context(args: argparse.Namespace) -> Context:
    from bot.commands import Context
    from bot.config import find_config, load_config
    from bot.settings import broker_settings, environment

    env = environment()
    return Context(
        broker=broker_settings(
            base_url=args.broker_base_url,
            token=args.broker_token,
            username=args.broker_username,
            password=args.broker_password,
        ),
        config=load_config(find_config(args.config, env.pactbot_config)),
        github_api_url=env.github_api_url,
        clock=lambda: datetime.now(UTC),
        out=sys.stdout,
        err=sys.stderr,
        step_summary=env.github_step_summary,
        step_outputs=env.github_output,
        github_token=env.github_token,
    )


def _check(args: argparse.Namespace) -> int:
    from bot import commands
    from bot.domain.freshness import Policy
    from bot.service.collector import tune_collector

    # One read of a large broker makes hundreds of thousands of objects: with the default
    # thresholds the collector walks them again and again (a sixth of the run at 20,000 pairs).
    tune_collector()
    return asyncio.run(
        commands.check(
            _context(args),
            consumer=args.consumer,
            provider=args.provider,
            max_age=args.max_age,
            policy=Policy(args.policy) if args.policy else None,
            output=commands.Format(args.format),
            freshness_only=args.freshness_only,
            require_webhooks=args.require_webhooks,
            canary=args.canary,
        )
    )


def _status(args: argparse.Namespace) -> int:
    from bot import commands

    return asyncio.run(
        commands.status(
            _context(args), consumer=args.consumer, provider=args.provider, as_json=args.json
        )
    )


def _test_webhook(args: argparse.Namespace) -> int:
    from bot import commands

    if args.webhook_id and args.provider:
        raise UsageError("give a webhook id or --provider, not both")
    return asyncio.run(
        commands.webhook_test(_context(args), webhook_id=args.webhook_id, provider=args.provider)
    )


def _canary(args: argparse.Namespace) -> int:
    from bot.canary_setup import canary

    return asyncio.run(
        canary(_context(args), named=args.secret, like=args.like, create=args.create)
    )


def _doctor(args: argparse.Namespace) -> int:
    from bot.config import find_config, load_config
    from bot.doctor import Setup, doctor
    from bot.settings import broker_settings, environment, service_settings, slack_settings

    # Only paths and URLs without checks: reading them cannot fail the way settings can.
    env = environment()
    path = find_config(args.config, env.pactbot_config)
    broker = {
        "base_url": args.broker_base_url,
        "token": args.broker_token,
        "username": args.broker_username,
        "password": args.broker_password,
    }
    setup = Setup(
        config_path=path,
        config=_read(lambda: load_config(path)),
        broker=_read(lambda: broker_settings(**broker)),
        slack=_read(slack_settings),
        service=_read(service_settings),
        github_api_url=env.github_api_url,
    )
    return asyncio.run(
        doctor(setup, sys.stdout, clock=lambda: datetime.now(UTC), sleep=asyncio.sleep)
    )


Read = TypeVar("Read")


def _read(read: Callable[[], Read]) -> Read | PactbotError:
    """What `read` returns, or the error it raised, for doctor to report instead of stopping."""
    try:
        return read()
    except PactbotError as error:
        return error


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(sys.stdout))


def _digest(args: argparse.Namespace) -> int:
    from bot import commands

    return asyncio.run(commands.digest(_context(args), json_path=args.json))


def _serve(args: argparse.Namespace) -> int:
    from bot.serve import serve

    context = _context(args)
    return asyncio.run(serve(context, port=args.port))
