"""manifest.yml and the Dockerfile say what the code does: the same command, events, action
ids, scopes, entry point and health route."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import kit
from bot.cli import _parser
from bot.config import Config
from bot.domain.command import SUBCOMMANDS
from bot.service.health import Health
from bot.service.metrics import Metrics
from bot.service.web import SLACK_PATH, build_web_app
from bot.slack.app import create_app
from bot.slack.listeners import command, home
from bot.slack.services import Services
from tests.helpers.reports import action_ids, rendered, sample_report

ROOT = Path(__file__).parent.parent.parent


def _manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text("utf-8"))
    return loaded


def test_the_manifest_declares_exactly_the_slash_command_the_code_registers() -> None:
    commands = _manifest()["features"]["slash_commands"]

    assert [entry["command"] for entry in commands] == [command.COMMAND]


def test_the_usage_hint_names_every_subcommand() -> None:
    (entry,) = _manifest()["features"]["slash_commands"]

    assert entry["description"].strip()
    for name, (usage, _, _) in SUBCOMMANDS.items():
        assert f"{name} {usage}".strip() in entry["usage_hint"]


def test_the_manifest_subscribes_to_exactly_the_events_the_code_listens_to() -> None:
    events = _manifest()["settings"]["event_subscriptions"]["bot_events"]

    assert sorted(events) == sorted(home.EVENTS)


def test_interactivity_and_the_home_tab_are_enabled() -> None:
    manifest = _manifest()

    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_the_bot_asks_for_exactly_the_scopes_it_uses() -> None:
    scopes = _manifest()["oauth_config"]["scopes"]["bot"]

    assert sorted(scopes) == sorted(
        {
            "commands",
            "chat:write",
            "chat:write.public",
            "usergroups:read",
            "channels:history",
            "groups:history",
            "channels:read",
            "groups:read",
        }
    )


def test_every_request_url_is_the_route_pactbot_serves_slack_on() -> None:
    manifest = _manifest()
    urls = [entry["url"] for entry in manifest["features"]["slash_commands"]]
    urls += [manifest["settings"]["event_subscriptions"]["request_url"]]
    urls += [manifest["settings"]["interactivity"]["request_url"]]

    assert len(set(urls)) == 1
    assert urls[0].endswith(SLACK_PATH)


def test_the_action_ids_pactbot_renders_are_exactly_the_known_ones() -> None:
    found = set().union(*(action_ids(payload) for payload in rendered(sample_report()).values()))

    assert found == kit.ACTION_IDS


def _app() -> AsyncApp:
    """The real app. Registration only closes over the services, so the ones a listener
    would use when it runs are left out: no listener runs here."""
    clock = lambda: datetime.now(UTC)  # noqa: E731
    unused = cast(Any, None)
    services = Services(
        config=Config(),
        monitor=unused,
        runner=unused,
        digest=unused,
        alerter=unused,
        rotations=unused,
        github=None,
        poster=unused,
        authoriser=unused,
        health=Health(clock),
        clock=clock,
    )
    return create_app(services, AsyncWebClient(token="xoxb-test"), signing_secret="x" * 32)


async def _listeners_for(app: AsyncApp, body: dict[str, Any]) -> list[str]:
    """The names of the listeners Bolt would run for `body`."""
    request = AsyncBoltRequest(body=body, mode="socket_mode")
    # Bolt offers no public list of listeners; its own matchers decide here.
    return [
        listener.ack_function.__name__
        for listener in app._async_listeners
        if await listener.async_matches(req=request, resp=BoltResponse(status=404))
    ]


def _click(action_id: str) -> dict[str, Any]:
    action = {"type": "button", "action_id": action_id, "value": "x", "block_id": "b"}
    return {
        "type": "block_actions",
        "actions": [action],
        "user": {"id": "U1"},
        "team": {"id": "T1"},
    }


@pytest.mark.parametrize("action_id", sorted(kit.ACTION_IDS))
async def test_every_action_id_has_exactly_one_listener(action_id: str) -> None:
    assert len(await _listeners_for(_app(), _click(action_id))) == 1


async def test_an_unknown_action_id_has_no_listener() -> None:
    assert await _listeners_for(_app(), _click("pact_something_else")) == []


async def test_the_manifests_slash_command_and_events_reach_a_listener() -> None:
    app = _app()
    manifest = _manifest()

    for entry in manifest["features"]["slash_commands"]:
        body = {"command": entry["command"], "text": "", "user_id": "U1", "team_id": "T1"}
        assert len(await _listeners_for(app, body)) == 1, entry["command"]
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        body = {"type": "event_callback", "team_id": "T1", "event": {"type": event, "user": "U1"}}
        assert len(await _listeners_for(app, body)) == 1, event


# Dockerfile ------------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            found.append((keyword.upper(), arguments.strip()))
    return found


def _all(keyword: str) -> list[str]:
    return [arguments for found, arguments in _instructions() if found == keyword]


def test_the_image_is_built_in_two_slim_stages() -> None:
    stages = _all("FROM")

    assert len(stages) == 2
    assert all(stage.split()[0].endswith("-slim") for stage in stages)
    assert any(arguments.startswith("--from=") for arguments in _all("COPY"))


def test_the_image_runs_as_a_user_who_is_not_root() -> None:
    users = _all("USER")

    assert users
    assert users[-1].split(":")[0] not in ("root", "0")


def test_the_image_runs_pactbot_serve_and_serve_is_a_real_subcommand() -> None:
    (cmd,) = _all("CMD")
    args = _parser().parse_args(["serve"])

    assert json.loads(cmd) == ["pactbot", "serve"]
    assert args.command == "serve"
    assert 'pactbot = "bot.cli:main"' in (ROOT / "pyproject.toml").read_text("utf-8")


def test_the_healthcheck_asks_a_route_pactbot_serves() -> None:
    (check,) = _all("HEALTHCHECK")
    app = build_web_app(None, Health(lambda: datetime.now(UTC)), Metrics())
    served = {
        route.resource.canonical
        for route in app.router.routes()
        if route.method == "GET" and route.resource is not None
    }

    assert "/healthz" in check
    assert "/healthz" in served


def test_the_healthcheck_and_the_server_agree_on_the_port() -> None:
    (check,) = _all("HEALTHCHECK")
    (env,) = _all("ENV")

    assert "os.environ.get('PORT', '3000')" in check
    assert "PORT=3000" in env.split()
    assert _all("EXPOSE") == ["3000"]


def test_every_file_copied_from_the_build_context_exists() -> None:
    sources = [
        source
        for arguments in _all("COPY")
        if not arguments.startswith("--from=")
        for source in arguments.split()[:-1]
    ]

    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
