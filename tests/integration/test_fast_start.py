"""`check`, `status` and `test-webhook` start fast: they never import Slack code."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from bot.sample.story import ORDERS_WEBHOOK, demo_world
from tests.conftest import StartBroker

# Runs a command in a fresh interpreter, then says which Slack modules it had loaded.
_PROBE = """
import sys
from bot.cli import main
code = main(sys.argv[1:])
slack = sorted(name for name in sys.modules if name.split(".")[0] in {"slack_sdk", "slack_bolt", "aiohttp"} or name.startswith("bot.slack"))
print("exit", code, "slack modules", slack)
"""


@pytest.mark.parametrize(
    ("argv", "code"), [(["check"], 1), (["status"], 0), (["test-webhook", ORDERS_WEBHOOK], 1)]
)
def test_cli_commands_never_import_slack(
    start_broker: StartBroker, argv: list[str], code: int
) -> None:
    broker = start_broker(demo_world(datetime.now(UTC)))

    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv, "--broker-base-url", broker.url],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip

    assert result.stdout.splitlines()[-1] == f"exit {code} slack modules []", result.stderr


def test_help_needs_no_broker_and_imports_neither_httpx_nor_pydantic() -> None:
    probe = "import sys\nfrom bot.cli import main\ntry:\n    main(['check', '--help'])\nexcept SystemExit:\n    pass\nprint(sorted(m for m in ('httpx', 'pydantic', 'yaml') if m in sys.modules))"

    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )

    assert "exit codes:" in result.stdout
    assert result.stdout.splitlines()[-1] == "[]"
