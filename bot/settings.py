"""Settings from the environment, with the Pact tools' own variable names.

This is the only module that reads the environment. Command-line flags override it by being
passed in as keyword arguments. Secrets are `SecretStr`: they never show in a repr or a log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.webhooks import DEFAULT_GITHUB_API_URL
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


def _explain(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        name = "_".join(str(part) for part in problem["loc"]).upper()
        if problem["type"] == "missing" and name == "BASE_URL":
            lines.append(
                "PACT_BROKER_BASE_URL is not set: set it (or pass --broker-base-url) to your "
                "broker's URL, e.g. https://your-org.pactflow.io"
            )
            continue
        message = (
            str(problem["ctx"]["error"]) if problem["type"] == "value_error" else problem["msg"]
        )
        if not name:
            lines.append(message)
            continue
        variable = f"PACT_BROKER_{name}" if name in _BROKER_FIELDS else name
        lines.append(f"{variable}: {message}")
    return "\n".join(lines)


_BROKER_FIELDS = {name.upper() for name in BrokerSettings.model_fields}
