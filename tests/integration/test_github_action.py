"""The GitHub Action (action.yml): valid for GitHub, and its own steps, run as a runner runs a
composite action (inputs filled in, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files), against the
sample broker. Steps that use another action (setup-python) are GitHub's: not run here; the
install step's `python` is a stand-in that records what it was asked (no network in tests)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.sample.broker import SampleBroker
from tests.helpers.cli import TOKEN, Run

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
_EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def test_the_action_is_valid_for_github() -> None:
    schema = files("check_jsonschema.builtin_schemas.vendor").joinpath("github-actions.json")

    jsonschema.validate(ACTION, json.loads(schema.read_text(encoding="utf-8")))
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) >= {
        "max-age", "policy", "consumer", "provider", "config",
        "broker-base-url", "broker-token", "broker-username", "broker-password",
    }  # fmt: skip
    assert set(ACTION["outputs"]) >= {"stale", "failing-webhooks"}


@dataclass
class Ran:
    code: int
    out: str
    outputs: dict[str, str]
    summary: str
    installed: list[str]


def evaluate(expression: str, inputs: dict[str, str], env: dict[str, str]) -> str:
    """GitHub's expressions as this action writes them: `inputs.x`, `env.X`, `a || b`."""
    for operand in expression.split("||"):
        scope, _, name = operand.strip().partition(".")
        value = {"inputs": inputs, "env": env}[scope].get(name, "")
        if value:
            return value
    return ""


def run_action(tmp_path: Path, given: dict[str, str], env: dict[str, str]) -> Ran:
    """Run the action's steps as a runner does: each `run` in bash, its `env` and text with the
    expressions filled in; the outputs of the step with an id, as GitHub reads them."""
    defaults = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    inputs = defaults | given
    shim = tmp_path / "bin"
    shim.mkdir(parents=True)
    asked = tmp_path / "installed"
    (shim / "python").write_text(f'#!/bin/sh\necho "$@" >> "{asked}"\n', encoding="utf-8")
    (shim / "python").chmod(0o755)
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    output.touch()
    summary.touch()
    runner = {
        "PATH": f"{shim}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(tmp_path),
    }
    code, out, step_outputs = 0, "", {}
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            continue
        filled = {
            name: _EXPRESSION.sub(lambda found: evaluate(found[1], inputs, env), str(value))
            for name, value in step.get("env", {}).items()
        }
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            env=runner | env | filled,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        out += done.stdout
        if done.returncode:
            code = done.returncode
            break
    lines = output.read_text(encoding="utf-8").splitlines()
    step_outputs = dict(line.split("=", 1) for line in lines if "=" in line)
    outputs = {
        name: _EXPRESSION.sub(
            lambda found: step_outputs.get(found[1].rsplit(".", 1)[-1], ""), spec["value"]
        )
        for name, spec in ACTION["outputs"].items()
    }
    installed = asked.read_text(encoding="utf-8").splitlines() if asked.exists() else []
    return Ran(code, out, outputs, summary.read_text(encoding="utf-8"), installed)


def test_the_action_installs_itself_checks_annotates_and_sets_its_outputs(
    cli_broker: SampleBroker, tmp_path: Path
) -> None:
    # The workflow passes the broker as the Pact tools read it: the action falls back to it.
    workflow_env = {"PACT_BROKER_BASE_URL": cli_broker.url, "PACT_BROKER_TOKEN": TOKEN}

    ran = run_action(tmp_path, {}, workflow_env)

    assert ran.code == 1  # the job fails: a stale pair, a dead token
    assert ran.installed == [f"-m pip install --quiet --disable-pip-version-check {ROOT}"]
    assert (
        '::error title=Pact webhook%3A Verify orders-api pacts::"Verify orders-api pacts"'
        in ran.out
    )
    assert "::error title=Pact stale%3A web-app → orders-api::" in ran.out
    assert ran.outputs == {"stale": "2", "failing-webhooks": "1", "passed": "false"}
    assert ran.summary.startswith("### Pact verification freshness\n")
    assert "| web-app → orders-api | **stale** |" in ran.summary


def test_inputs_win_over_the_environment_and_narrow_the_check(
    cli_broker: SampleBroker, tmp_path: Path
) -> None:
    given = {
        "broker-base-url": cli_broker.url,
        "broker-token": TOKEN,
        "provider": "Pricing Service",
        "max-age": "7d",
    }

    ran = run_action(tmp_path, given, {"PACT_BROKER_BASE_URL": "http://127.0.0.1:9"})

    assert ran.code == 0
    assert ran.outputs == {"stale": "0", "failing-webhooks": "0", "passed": "true"}
    assert "::error" not in ran.out


@pytest.mark.parametrize(("name", "flag"), [("freshness-only", "--freshness-only")])
def test_a_true_switch_becomes_its_flag(
    cli_broker: SampleBroker, tmp_path: Path, name: str, flag: str
) -> None:
    given = {"broker-base-url": cli_broker.url, "broker-token": TOKEN, "provider": "orders-api"}

    strict = run_action(tmp_path / "strict", given, {})
    relaxed = run_action(tmp_path / "relaxed", given | {name: "true", "max-age": "7d"}, {})

    assert strict.code == 1
    assert relaxed.code == 0
    assert "::warning title=Pact webhook%3A Verify orders-api pacts::" in relaxed.out
    assert flag in (ROOT / "action.yml").read_text(encoding="utf-8")


def test_canary_true_fails_on_the_dead_token_a_canary_finds(
    cli_broker: SampleBroker, tmp_path: Path, run: Run
) -> None:
    given = {
        "broker-base-url": cli_broker.url,
        "broker-token": TOKEN,
        "provider": "Pricing Service",  # fresh: no pair of it fails the check
        "canary": "true",
    }
    none_yet = run_action(tmp_path / "none", given, {})
    assert run("canary", "--create").code == 0

    ran = run_action(tmp_path / "made", given, {})

    assert none_yet.code == 2
    assert ran.code == 1  # orders-api's token (githubToken) is dead
    assert "✗ canary of the secret githubToken" in ran.out
    assert "✓ canary of the secret platformGithubToken" in ran.out
