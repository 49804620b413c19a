"""What pactbot's listeners read of Slack's payloads, checked once before any of them runs.

Slack documents these shapes; a payload that breaks them (a replay, a proxy's rewrite, a test
tool) is refused with the field named, not met by a KeyError deep in a listener. Unknown keys
are ignored, as in the broker's schema (`bot.broker.schema`).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _answerable(url: str) -> str:
    """An http(s) URL the answers can be posted to, or "": a form's unset field, which the
    listeners read as none."""
    parts = urlsplit(url)
    if url and (parts.scheme not in {"http", "https"} or not parts.hostname):
        raise ValueError("not an http(s) URL")
    _ = parts.port  # raises ValueError for a port that is no number, or out of range
    return url


ResponseUrl = Annotated[str, AfterValidator(_answerable)] | None


class _Id(_Payload):
    id: str = Field(min_length=1)


class Command(_Payload):
    """`/pact …`, from its form or a Socket Mode envelope."""

    user_id: str = Field(min_length=1)
    channel_id: str = Field(min_length=1)
    text: str | None = None
    response_url: ResponseUrl = None


class _Container(_Payload):
    type: str | None = None


class _Action(_Payload):
    action_id: str
    value: str | None = None


class Click(_Payload):
    """A button pressed (`block_actions`), in a message or in App Home."""

    user: _Id
    channel: _Id | None = None
    container: _Container | None = None
    response_url: ResponseUrl = None
    actions: list[_Action] = Field(min_length=1)


class _Opened(_Payload):
    user: str = Field(min_length=1)
    tab: str | None = None


class HomeOpened(_Payload):
    """`app_home_opened`, the one event pactbot listens to."""

    event: _Opened


def problem(body: object) -> str | None:
    """What makes `body` unreadable to the listener it would reach, naming the field; None when
    it is fine or reaches none of them."""
    model = _model_for(body)
    if model is None:
        return None
    try:
        model.model_validate(body)
    except ValidationError as error:
        found = error.errors()[0]
        field = ".".join(str(part) for part in found["loc"]) or "(body)"
        return f"{field}: {found['msg']}"
    return None


def _model_for(body: object) -> type[_Payload] | None:
    if not isinstance(body, dict):
        return None
    if "command" in body:
        return Command
    if body.get("type") == "block_actions":
        return Click
    event = body.get("event")
    if isinstance(event, dict) and event.get("type") == "app_home_opened":
        return HomeOpened
    return None
