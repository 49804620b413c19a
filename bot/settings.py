"""Settings from the environment, with the Pact tools' own variable names.

This is the only module that reads the environment. Command-line flags override it by being
passed in as keyword arguments. Secrets are `SecretStr`: they never show in a repr or a log.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.model import DEFAULT_GITHUB_API_URL
from bot.errors import ConfigError


class BrokerSettings(BaseSettings):
    """Where the Pact Broker is and how to sign in: a bearer token or basic auth."""

    model_config = SettingsConfigDict(
        env_prefix="PACT_BROKER_", env_ignore_empty=True, extra="ignore", frozen=True
    )

    base_url: str
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None

    @field_validator("base_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"{value!r} is not an http(s) URL such as https://your-org.pactflow.io"
            )
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _complete_basic_auth(self) -> BrokerSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError(
                "PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD go together: set both or neither"
            )
        return self

    @property
    def credential_hint(self) -> str:
        """Which setting to check when the broker says 401."""
        if self.token is not None:
            return "PACT_BROKER_TOKEN (--broker-token)"
        if self.username is not None:
            return "PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD"
        return (
            "the credentials: none are set; set PACT_BROKER_TOKEN (PactFlow) or "
            "PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD"
        )


class Environment(BaseSettings):
    """The rest of the environment pactbot reads."""

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", frozen=True)

    pactbot_config: Path | None = None
    # The variable GitHub Actions itself sets; GitHub Enterprise is recognised without it.
    github_api_url: str = DEFAULT_GITHUB_API_URL
    github_step_summary: Path | None = None
    github_output: Path | None = None  # where a step's outputs go (`name=value` lines)
    # Read-only is enough: it finds the workflow runs a rotation's re-test started.
    github_token: SecretStr | None = None


def broker_settings(**overrides: Any) -> BrokerSettings:
    """The broker settings from the environment, with `overrides` (flags) taking precedence."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return BrokerSettings(**given)
    except ValidationError as error:
        raise ConfigError(_explain(error)) from None


def environment() -> Environment:
    try:
        return Environment()
    except ValidationError as error:
        raise ConfigError(_explain(error)) from None


def _explain(error: ValidationError, prefix: str = "PACT_BROKER_") -> str:
    lines = []
    for problem in error.errors():
        name = prefix + "_".join(str(part) for part in problem["loc"]).upper()
        if problem["type"] == "missing":
            lines.append(_MISSING.get(name, f"{name} is not set"))
            continue
        message = (
            str(problem["ctx"]["error"]) if problem["type"] == "value_error" else problem["msg"]
        )
        lines.append(f"{name}: {message}" if problem["loc"] else message)
    return "\n".join(lines)


_MISSING = {
    "PACT_BROKER_BASE_URL": "PACT_BROKER_BASE_URL is not set: set it (or pass --broker-base-url) "
    "to your broker's URL, e.g. https://your-org.pactflow.io",
    "SLACK_BOT_TOKEN": "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from "
    "the Slack app's OAuth & Permissions page",
}


class SlackSettings(BaseSettings):
    """The Slack app's credentials; HTTP mode needs the signing secret, Socket Mode an app token."""

    model_config = SettingsConfigDict(
        env_prefix="SLACK_", env_ignore_empty=True, extra="ignore", frozen=True
    )

    bot_token: SecretStr
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    # Slack's own by default; a proxy's, or a local fake's in end-to-end tests.
    api_base_url: str = "https://slack.com/api/"

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError(
                "is not a bot token (xoxb-…): copy the Bot User OAuth Token from the Slack "
                "app's OAuth & Permissions page"
            )
        return value

    @field_validator("app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError(
                "is not an app-level token (xapp-…): create one with the connections:write "
                "scope under the Slack app's Basic Information"
            )
        return value

    @field_validator("signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[0-9a-fA-F]{16,}", value.get_secret_value()):
            raise ValueError(
                "is not a signing secret (hexadecimal): copy it from the Slack app's Basic "
                "Information page"
            )
        return value

    @field_validator("api_base_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL such as https://slack.com/api/")
        return value.strip().rstrip("/") + "/"

    @model_validator(mode="after")
    def _a_way_in(self) -> SlackSettings:
        if self.signing_secret is None and self.app_token is None:
            raise ValueError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to check that requests come "
                "from Slack (the app's Basic Information page); or set SLACK_APP_TOKEN for "
                "Socket Mode"
            )
        return self

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None


class ServiceSettings(BaseSettings):
    """Where `pactbot serve` listens and keeps its state."""

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", frozen=True)

    port: int = Field(default=3000, ge=1, le=65535)
    pactbot_store_url: str | None = None
    # json: one object per line, for a log pipeline.
    pactbot_log_format: Literal["text", "json"] = "text"


def slack_settings() -> SlackSettings:
    try:
        return SlackSettings()
    except ValidationError as error:
        raise ConfigError(_explain(error, prefix="SLACK_")) from None


def service_settings(**overrides: Any) -> ServiceSettings:
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return ServiceSettings(**given)
    except ValidationError as error:
        raise ConfigError(_explain(error, prefix="")) from None
