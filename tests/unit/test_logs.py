"""`pactbot serve`'s logs: text or one JSON object per line, and never a secret in either."""

from __future__ import annotations

import json
import logging

import pytest

from bot.service.logs import JsonFormatter, Redactor

BOT_TOKEN = "xoxb-2417368294-5829163745031-Rq8ZtPlMn3VbXc7WsYdEuKjH"
SIGNING = "8f14e45fceea167a5a36dedd4bea2543"
BROKER = "pb_9pQ7wX2mLr4TzK8vNc3sYb"
GITHUB = "ghp_R2d4T6u8W0y1A3c5E7g9I1k3M5o7Q9s1U3w5"


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    found = logging.LogRecord("bot.test", logging.WARNING, __file__, 1, message, args, None)
    for name, value in extra.items():
        setattr(found, name, value)
    return found


def test_the_bots_secrets_and_token_shaped_strings_are_blanked_in_message_args_and_fields() -> None:
    redactor = Redactor([BOT_TOKEN, SIGNING, BROKER, ""])
    found = record(
        "Slack said %s for %s; broker %s; header Authorization: Bearer %s; pasted %s",
        "invalid_auth", BOT_TOKEN, BROKER, "eyJhbGciOiJIUzI1NiJ9.e30.sig", GITHUB,
        webhook="hook", note=f"signed with {SIGNING}",
    )  # fmt: skip

    assert redactor.filter(found)
    said = found.getMessage() + str(vars(found))
    for secret in (BOT_TOKEN, SIGNING, BROKER, GITHUB, "eyJhbGciOiJIUzI1NiJ9"):
        assert secret not in said
    assert found.getMessage() == (
        "Slack said invalid_auth for ***; broker ***; header Authorization: Bearer ***; pasted ***"
    )
    assert found.note == "signed with ***"


def test_a_secret_in_an_exception_does_not_reach_the_log() -> None:
    redactor = Redactor([BROKER])
    try:
        raise ValueError(f"could not use {BROKER}")
    except ValueError:
        found = logging.LogRecord("bot", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        found.exc_info = sys.exc_info()

    redactor.filter(found)
    text = logging.Formatter().format(found)

    assert "could not use ***" in text
    assert BROKER not in text


def test_json_logs_are_one_object_per_record_with_its_fields() -> None:
    found = record("alert %s: %s done", "a1b2c3", "post", alert="a1b2c3", step="post", webhook=None)

    entry = json.loads(JsonFormatter().format(found))

    assert set(entry) == {"time", "level", "logger", "message", "alert", "step", "webhook"}
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "WARNING",
        "bot.test",
        "alert a1b2c3: post done",
    )
    assert (entry["alert"], entry["step"], entry["webhook"]) == ("a1b2c3", "post", None)
    assert entry["time"].endswith("+00:00")


@pytest.mark.parametrize("value", [3, 1.5, True, "x", None])
def test_json_fields_stay_plain_values(value: object) -> None:
    entry = json.loads(JsonFormatter().format(record("m", count=value)))

    assert entry["count"] == value
