"""Signed Slack requests: the signer against Slack's worked example and slack_sdk's verifier, and
the request builders against the shapes of the inbound fixtures."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.signature import Clock, SignatureVerifier

from tests.helpers.slack import slack_fixture
from tests.helpers.slack_requests import (
    block_action,
    event,
    home_action,
    sign,
    signed_headers,
    slash_command,
)

SECRET = "test-secret"
NOW = 1733040000
RESPONSE_URL = "http://127.0.0.1:9/response/1"
VECTOR = slack_fixture("inbound.signing_test_vector.json")


class FixedClock(Clock):
    """The verifier's clock, pinned: the tests own the time."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def verifier(now: float = NOW, secret: str = SECRET) -> SignatureVerifier:
    return SignatureVerifier(secret, clock=FixedClock(now))


def key_paths(value: Any, prefix: tuple[Any, ...] = ()) -> set[tuple[Any, ...]]:
    """Every path to a key, recursively; a list by its first item."""
    if isinstance(value, dict):
        paths = set()
        for key, item in value.items():
            paths |= {(*prefix, key)} | key_paths(item, (*prefix, key))
        return paths
    if isinstance(value, list) and value:
        return key_paths(value[0], (*prefix, 0))
    return set()


def interaction(body: bytes) -> Any:
    [(name, payload)] = parse_qsl(body.decode())
    assert name == "payload"
    return json.loads(payload)


def test_sign_reproduces_slacks_worked_example() -> None:
    body = VECTOR["raw_body"].encode()

    signature = sign(body, VECTOR["signing_secret"], int(VECTOR["x_slack_request_timestamp"]))

    assert signature == VECTOR["x_slack_signature"]


def test_the_sdk_verifier_accepts_the_worked_example_at_its_own_time() -> None:
    timestamp = int(VECTOR["x_slack_request_timestamp"])
    body = VECTOR["raw_body"].encode()
    headers = signed_headers(body, VECTOR["signing_secret"], timestamp, VECTOR["content_type"])

    check = verifier(timestamp, VECTOR["signing_secret"])

    assert check.is_valid_request(body, headers)


def test_the_sdk_verifier_accepts_headers_built_by_signed_headers() -> None:
    body = slash_command("status", response_url=RESPONSE_URL)

    headers = signed_headers(body, SECRET, NOW)

    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert verifier().is_valid_request(body, headers)


def test_a_request_older_than_five_minutes_is_refused() -> None:
    body = slash_command("status", response_url=RESPONSE_URL)

    headers = signed_headers(body, SECRET, NOW - 301)

    assert not verifier().is_valid_request(body, headers)


def test_a_body_changed_after_signing_is_refused() -> None:
    body = slash_command("status", response_url=RESPONSE_URL)
    headers = signed_headers(body, SECRET, NOW)

    assert not verifier().is_valid_request(body.replace(b"status", b"rotate"), headers)


def test_another_secret_is_refused() -> None:
    body = slash_command("status", response_url=RESPONSE_URL)

    headers = signed_headers(body, "not-the-secret", NOW)

    assert not verifier().is_valid_request(body, headers)


def test_a_slash_command_has_every_field_of_slacks_sample() -> None:
    body = slash_command("runbook rotate", response_url=RESPONSE_URL, user_id="U1")

    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))

    assert fields.keys() >= slack_fixture("inbound.slash_command.fields.json").keys()
    assert fields["command"] == "/pact"
    assert fields["text"] == "runbook rotate"
    assert (fields["user_id"], fields["channel_id"], fields["team_id"]) == (
        "U1",
        "C0DIGEST",
        "T0TEAM",
    )
    assert fields["response_url"] == RESPONSE_URL


def test_each_request_carries_its_own_trigger_id() -> None:
    first, second = (slash_command("", response_url=RESPONSE_URL) for _ in range(2))

    assert (
        dict(parse_qsl(first.decode()))["trigger_id"]
        != dict(parse_qsl(second.decode()))["trigger_id"]
    )


def test_a_button_click_in_a_message_has_the_shape_of_bolts_fixture() -> None:
    body = block_action("approve", "run-7:step-2", response_url=RESPONSE_URL, message_ts="1.2")

    payload = interaction(body)

    assert key_paths(payload) >= key_paths(
        slack_fixture("inbound.block_actions.block_kit_message.json")
    )
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1.2",
        "channel_id": "C0DIGEST",
        "is_ephemeral": False,
    }
    assert (payload["actions"][0]["action_id"], payload["actions"][0]["value"]) == (
        "approve",
        "run-7:step-2",
    )
    assert payload["response_url"] == RESPONSE_URL


def test_a_button_click_in_the_home_tab_comes_from_a_view() -> None:
    payload = interaction(home_action("refresh", "home", user_id="U9", view_id="V1"))

    assert payload["container"] == {"type": "view", "view_id": "V1"}
    assert payload["view"]["type"] == "home"
    assert payload["user"]["id"] == "U9"
    assert "response_url" not in payload


def test_an_event_has_the_envelope_of_slacks_sample_and_its_own_event_id() -> None:
    opened = {
        "type": "app_home_opened",
        "user": "U1",
        "channel": "D1",
        "tab": "home",
        "event_ts": "1.2",
    }

    first, second = json.loads(event(opened)), json.loads(event(opened))

    assert key_paths(first) >= key_paths(
        slack_fixture("inbound.event_callback.app_home_opened.json")
    )
    assert first["event"] == opened
    assert first["event_id"] != second["event_id"]
    assert signed_headers(event(opened), SECRET, NOW)["content-type"] == "application/json"
