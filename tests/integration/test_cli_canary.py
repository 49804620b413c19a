"""`pactbot canary`, `check --canary` and doctor's canary lines, against the sample broker.

The sample broker plays GitHub's answers: a token in `World.dead_tokens` is refused (401)
everywhere, and its Markdown endpoint renders for a live one with the token's headers.
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.domain.canary import PROVIDER
from bot.sample.broker import Credentials, SampleBroker
from bot.sample.story import ORDERS_WEBHOOK
from bot.sample.world import GITHUB_ACCEPTED, World
from tests.conftest import StartBroker
from tests.helpers.cli import TOKEN, Run


def canaries(world: World) -> list[str]:
    return [uuid for uuid, hook in world.webhooks.items() if hook.provider == PROVIDER]


def quiet(start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch) -> SampleBroker:
    """One provider, its webhook sending the secret githubToken, both its pairs verified:
    nothing waits and nobody publishes."""
    now = datetime.now(UTC)
    world = World(clock=lambda: now)
    world.shows_secret_references = True
    world.add_webhook(
        "hookOrdersAbCdEfGhIjKl",
        description="Verify orders-api",
        provider="orders-api",
        url="https://api.github.com/repos/acme/orders-api/dispatches",
        created_at=now - timedelta(days=90),
    )
    world.version("orders-api", "0.1.0", at=now - timedelta(days=90))
    for consumer in ("web-app", "mobile-app"):
        published = world.publish(consumer, "orders-api", "1.0.0", at=now - timedelta(hours=2))
        world.verify(published, at=now - timedelta(hours=1))
    broker = start_broker(world, credentials=Credentials(token=TOKEN))
    monkeypatch.setenv("PACT_BROKER_BASE_URL", broker.url)
    monkeypatch.setenv("PACT_BROKER_TOKEN", TOKEN)
    return broker


def run_curl(line: str) -> httpx.Response:
    """Run one printed `curl -X POST URL -H ... -d ...` line, as a shell would expand it."""
    words = shlex.split(os.path.expandvars(line.strip()))
    assert words[:4] == ["curl", "-sS", "-X", "POST"]
    url, rest = words[4], words[5:]
    headers = dict(value.split(": ", 1) for flag, value in itertools.pairwise(rest) if flag == "-H")
    return httpx.post(url, headers=headers, content=rest[rest.index("-d") + 1].encode())


def test_the_printed_canary_is_valid_for_the_broker_and_its_test_asks_github(
    cli_broker: SampleBroker, run: Run
) -> None:
    ran = run("canary")

    assert ran.code == 0, ran.err
    assert "Canary of the secret githubToken, the token of 1 webhook: “Verify orders-api" in (
        ran.out
    )
    assert "pact-broker create-or-update-pacticipant --name pactbot-canary" in ran.out
    assert "--contract-requiring-verification-published" in ran.out
    assert TOKEN not in ran.out  # the broker credentials by name, never their value
    assert canaries(cli_broker.world) == []  # printing makes nothing
    curls = [line for line in ran.out.splitlines() if line.strip().startswith("curl ")]
    assert len(curls) == 4  # the pacticipant and the webhook, for each of the two secrets
    assert run_curl(curls[0]).status_code == 201
    made = run_curl(curls[1])
    assert made.status_code == 201, made.text

    execute = made.json()["_links"]["pb:execute"]["href"]
    tested = httpx.post(execute, headers={"Authorization": f"Bearer {TOKEN}"}).json()

    assert tested["success"] is True
    assert tested["request"]["url"].endswith("/markdown")
    assert tested["response"]["status"] == 200
    assert "pactbot canary" in tested["response"]["body"]


def test_create_makes_each_canary_once_and_a_second_run_changes_nothing(
    cli_broker: SampleBroker, run: Run
) -> None:
    made = run("canary", "--create")
    webhooks = dict(cli_broker.world.webhooks)
    again = run("canary", "--create")

    assert made.code == 0, made.err
    assert "made the pacticipant pactbot-canary" in made.out
    assert made.out.count("  made: webhook ") == 2
    assert len(canaries(cli_broker.world)) == 2
    assert again.code == 0
    assert again.out.count("nothing changed") == 2
    assert cli_broker.world.webhooks == webhooks
    assert cli_broker.count("^/webhooks$", method="POST") == 2


def test_on_a_broker_that_masks_the_header_the_user_names_the_secret_or_a_webhook(
    start_broker: StartBroker, cli_broker: SampleBroker, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_broker.world.shows_secret_references = False  # the open-source broker's masking

    unnamed = run("canary")
    copied = run("canary", "--like", ORDERS_WEBHOOK)
    refused = run("canary", "--like", ORDERS_WEBHOOK, "--create")
    named = run("canary", "--secret", "platformGithubToken", "--create")

    assert unnamed.code == 2
    assert "name it with --secret NAME" in unnamed.err
    assert "--like WEBHOOK_ID" in unnamed.err
    assert copied.code == 0
    assert f'"Authorization": "Bearer <the GitHub token webhook {ORDERS_WEBHOOK} sends>"' in (
        copied.out
    )
    assert "pactbot cannot copy its token, and never asks for one" in copied.out
    assert refused.code == 2
    assert "not made: the broker masks" in refused.out
    assert named.code == 0
    assert len(canaries(cli_broker.world)) == 1


def test_create_with_a_read_only_token_says_which_token_to_use(
    start_broker: StartBroker, cli_broker: SampleBroker, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    readonly = start_broker(cli_broker.world, credentials=Credentials(read_only_token="ro"))
    monkeypatch.setenv("PACT_BROKER_BASE_URL", readonly.url)
    monkeypatch.setenv("PACT_BROKER_TOKEN", "ro")

    ran = run("canary", "--create")

    assert ran.code == 2
    assert "a read-only token cannot write; use a read/write token" in ran.err
    assert canaries(cli_broker.world) == []


def test_check_canary_passes_while_the_token_lives(
    start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    quiet(start_broker, monkeypatch)
    assert run("canary", "--create").code == 0

    ran = run("check", "--canary")

    assert ran.code == 0, ran.out
    assert "✓ canary of the secret githubToken" in ran.out
    assert "GitHub accepted the token (HTTP 200)" in ran.out


def test_check_canary_fails_on_a_dead_token_with_no_publication_and_no_stale_pair(
    start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    broker = quiet(start_broker, monkeypatch)
    run("canary", "--create")
    broker.world.dead_tokens.add("githubToken")
    triggered = len(broker.world.triggered)

    ran = run("check", "--canary")
    only_pairs = run("check", "--canary", "--freshness-only")

    assert ran.code == 1
    assert "token dead (401), found by the canary before any publication" in ran.out
    assert "GitHub rejected the token (HTTP 401)" in ran.out
    assert 'the webhooks that send that token: "Verify orders-api"' in ran.out
    assert only_pairs.code == 1  # a dead token fails it whatever the pairs say
    assert len(broker.world.triggered) == triggered  # nothing was published, nothing dispatched
    assert broker.count("/repos/") == 0


def test_check_canary_warns_of_scopes_without_repo_and_an_expiry(
    start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    broker = quiet(start_broker, monkeypatch)
    run("canary", "--create")
    expires = datetime.now(UTC) + timedelta(days=6, hours=1)
    broker.world.token_headers["githubToken"] = {
        "x-oauth-scopes": "read:org",
        "github-authentication-token-expiration": f"{expires:%Y-%m-%d %H:%M:%S} UTC",
    }

    ran = run("check", "--canary")
    data = run("check", "--canary", "--format", "json")

    assert ran.code == 0, ran.out
    assert '! the token\'s scopes are "read:org", without repo' in ran.out
    assert f"! the token expires on {expires:%Y-%m-%d}, in 6d" in ran.out
    [canary] = json.loads(data.out)["canaries"]
    assert (canary["verdict"], canary["secret"]) == ("no_repo", "githubToken")
    assert canary["token_expires"].startswith(f"{expires:%Y-%m-%d}")


def test_check_canary_cannot_tell_when_the_broker_hides_githubs_answer(
    start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    broker = quiet(start_broker, monkeypatch)
    run("canary", "--create")
    broker.world.show_responses = False

    ran = run("check", "--canary")

    assert ran.code == 2
    assert "The canary could not ask GitHub: the broker hides GitHub's answer" in ran.out
    assert "webhook host whitelist" in ran.out


def test_check_canary_without_a_canary_says_how_to_make_one(
    start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    quiet(start_broker, monkeypatch)

    ran = run("check", "--canary")

    assert ran.code == 2
    assert "the broker has no canary webhook; `pactbot canary` prints one" in ran.err


def test_doctor_runs_the_canary_and_says_once_when_it_cannot(
    start_broker: StartBroker, cli_broker: SampleBroker, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    run("canary", "--create")
    cli_broker.world.webhooks[ORDERS_WEBHOOK].target = GITHUB_ACCEPTED  # rotated

    alive = run("doctor")
    readonly = start_broker(cli_broker.world, credentials=Credentials(read_only_token="ro"))
    monkeypatch.setenv("PACT_BROKER_BASE_URL", readonly.url)
    monkeypatch.setenv("PACT_BROKER_TOKEN", "ro")
    refused = run("doctor")

    lines = [line for line in alive.out.splitlines() if line[6:].startswith("canary ")]
    assert [line[:4] for line in lines] == ["ok  ", "ok  "]
    assert "asks about the secret githubToken (1 webhook): GitHub accepted" in alive.out
    refusals = [line for line in refused.out.splitlines() if line[6:].startswith("canary ")]
    assert len(refusals) == 2
    assert all(line.startswith("warn") for line in refusals)
    assert "may not run webhook Tests (403)" in refusals[0]
    assert cli_broker.count("/repos/") == 0  # no CI run was started
