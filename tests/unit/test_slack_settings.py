from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.settings import service_settings, slack_settings

SECRET = "0123456789abcdef0123456789abcdef"


def refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        slack_settings()
    return str(raised.value)


def test_a_missing_bot_token_says_where_to_find_it(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(monkeypatch, SLACK_SIGNING_SECRET=SECRET)

    assert message == (
        "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from the Slack app's "
        "OAuth & Permissions page"
    )


def test_a_token_of_the_wrong_kind_is_named_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = refusal(
        monkeypatch, SLACK_BOT_TOKEN="xoxp-1234-user-token", SLACK_SIGNING_SECRET=SECRET
    )

    assert message.startswith("SLACK_BOT_TOKEN: is not a bot token (xoxb-…)")
    assert "xoxp-1234" not in message


def test_http_mode_needs_the_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(monkeypatch, SLACK_BOT_TOKEN="xoxb-1")

    assert message.startswith("SLACK_SIGNING_SECRET is not set: HTTP mode needs it")
    assert "or set SLACK_APP_TOKEN for Socket Mode" in message


def test_a_malformed_signing_secret_and_app_token_are_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = refusal(
        monkeypatch,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="not hex!",
        SLACK_APP_TOKEN="xoxb-2",
    )

    assert "SLACK_SIGNING_SECRET: is not a signing secret (hexadecimal)" in message
    assert "SLACK_APP_TOKEN: is not an app-level token (xapp-…)" in message


def test_socket_mode_needs_no_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    monkeypatch.setenv("SLACK_API_BASE_URL", "http://127.0.0.1:9/api")

    settings = slack_settings()

    assert settings.socket_mode
    assert settings.api_base_url == "http://127.0.0.1:9/api/"


def test_port_comes_from_port_and_must_be_a_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8080")
    assert service_settings().port == 8080
    assert service_settings(port=4000).port == 4000
    with pytest.raises(ConfigError, match="PORT: "):
        service_settings(port=70000)
