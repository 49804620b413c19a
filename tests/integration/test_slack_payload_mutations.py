"""Every Slack payload pactbot receives, spoilt at random, is answered or refused by name.

Each example spoils a captured payload (tests/fixtures/slack-api/inbound.*): fields dropped,
nulled, retyped or cut short, or the body cut off, emptied or replaced by an HTML page. Payloads
pactbot's listeners could not read are refused by `bot.slack.payload` with the field named; the
rest reach the real bot (sample broker and Slack around it) as correctly signed requests, and
are answered. What may not happen is an exception that only the app's error handler sees (it
logs "a … failed" and Slack shows the person "dispatch_failed").

Bolt reads some fields itself before any pactbot code runs, and raises on some spoilt ones (a
number for `user`, an empty `actions`): what Bolt alone cannot take is told apart by sending it
to Bolt with listeners that only ack, and left to the HTTP and Socket Mode adapters.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import kit
from bot.errors import PactbotError
from bot.sample.broker import SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import ORDERS_WEBHOOK, demo_world
from bot.slack import payload
from bot.slack.listeners.command import COMMAND
from bot.slack.listeners.home import EVENTS
from bot.store.sqlite import SqliteStore
from tests.conftest import StartBroker
from tests.helpers.bot import SIGNING_SECRET, Clock, Running, running_bot
from tests.helpers.mutations import HTML_PAGE, mutated
from tests.helpers.slack import slack_fixture
from tests.helpers.slack_requests import FORM, JSON, signed_headers

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SETTINGS = settings(
    deadline=None,
    # One running bot serves every example: starting one per example would take seconds.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# Where Slack's own fixtures point their answers: only the checks read it.
HOOKS = "https://hooks.slack.com/commands/1234/5678"
# What a person may type after /pact; each is answered without a CI run.
TEXTS = ("94070", "", "status", "help", "silences", "test orders-api", "rotate nothing")
# What a button's value may be: a webhook, a rotation step, nothing.
VALUES = (ORDERS_WEBHOOK, "", "clicked", "r1:0", "r1:x", "a" * 300)


def _sentences(error: type[PactbotError] = PactbotError) -> frozenset[str]:
    """The names of `error` and its subclasses."""
    return frozenset({error.__name__}).union(*map(_sentences, error.__subclasses__()))


# The errors a listener may end with: a sentence for a person (`bot.errors`), never a bug.
SENTENCES = _sentences()


@dataclass(frozen=True, slots=True)
class Chosen:
    """What the person typed or pressed, and where the answers go: a payload's live parts."""

    response_url: str = HOOKS
    text: str = "status"
    action: str = kit.TEST_RUN
    value: str = ORDERS_WEBHOOK


def chosen(response_url: str) -> st.SearchStrategy[Chosen]:
    return st.builds(
        Chosen,
        response_url=st.just(response_url),
        text=st.sampled_from(TEXTS),
        action=st.sampled_from(sorted(kit.ACTION_IDS)),
        value=st.sampled_from(VALUES),
    )


Payload = Callable[[Chosen], Any]


@dataclass(frozen=True, slots=True)
class Surface:
    """A captured payload, made to reach pactbot's listeners, and how it travels."""

    name: str
    payload: Payload  # the fixture, with what the person typed or pressed
    wire: Callable[[Any], str]
    content_type: str
    socket_mode: bool = False


def _form(fields: Any) -> str:
    """A slash command's wire form; what is no string is sent as its JSON, a list repeated."""
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, item if isinstance(item, str) else json.dumps(item)))
    return urlencode(pairs)


def _interaction(clicked: Any) -> str:
    """An interaction's wire form: one form field holding the JSON."""
    return "payload=" + quote(json.dumps(clicked, separators=(",", ":")))


def _command(live: Chosen) -> Any:
    fields = slack_fixture("inbound.slash_command.fields.json")
    # What the fixture's SOURCES.md says to replace: the command, its text, where to answer.
    return fields | {"command": COMMAND, "text": live.text, "response_url": live.response_url}


def _click(name: str) -> Payload:
    def clicked(live: Chosen) -> Any:
        found = slack_fixture(name)
        found["actions"][0] |= {"action_id": live.action, "value": live.value}
        return found | {"response_url": live.response_url}

    return clicked


def _home_opened(live: Chosen) -> Any:
    return slack_fixture("inbound.event_callback.app_home_opened.json")


def _envelope(kind: str) -> Payload:
    def delivered(live: Chosen) -> Any:
        envelopes = slack_fixture("inbound.socket_mode.envelopes.json")
        found = next(envelope["payload"] for envelope in envelopes if envelope["type"] == kind)
        if kind == "slash_commands":
            found |= {"command": COMMAND, "text": live.text, "response_url": live.response_url}
        return found

    return delivered


SURFACES = (
    Surface("slash command", _command, _form, FORM),
    Surface("button", _click("inbound.block_actions.block_kit_message.json"), _interaction, FORM),
    Surface(
        "attachment button", _click("inbound.block_actions.docs_sample.json"), _interaction, FORM
    ),
    Surface("app home opened", _home_opened, json.dumps, JSON),
    Surface("socket mode command", _envelope("slash_commands"), json.dumps, JSON, True),
    Surface("socket mode shortcut", _envelope("interactive"), json.dumps, JSON, True),
    Surface("socket mode event", _envelope("events_api"), json.dumps, JSON, True),
)
IDS = [surface.name for surface in SURFACES]


@st.composite
def bodies(draw: Any, surface: Surface, found: Any) -> tuple[str | dict[str, Any], str]:
    """The body and its content type: the payload spoilt, or a body Bolt parses to nothing.

    The payload stays an object: a body Bolt cannot parse into one reaches no pactbot code,
    and is the HTTP adapter's to turn away."""
    spoils = ("as is",) + ("mutated",) * 6 + ("empty", "html")
    # A command's form cut anywhere is still a form; JSON is read as JSON, whatever its label.
    how = draw(st.sampled_from(spoils + (("cut",) if surface.wire is _form else ("as a form",))))
    spoilt = draw(mutated(found, keep_root=True)) if how == "mutated" else found
    if surface.socket_mode:
        # The WebSocket delivers the payload parsed: only the payload can be spoilt.
        return spoilt, JSON
    body = surface.wire(spoilt)
    if how == "cut":
        return body[: draw(st.integers(0, len(body) - 1))], surface.content_type
    if how == "empty":
        return "", surface.content_type
    if how == "html":
        return HTML_PAGE.decode(), "text/html"
    if how == "as a form":
        return body, FORM
    return body, surface.content_type


def request(body: str | dict[str, Any], content_type: str) -> AsyncBoltRequest:
    if isinstance(body, dict):
        # Socket Mode: the payload as the WebSocket delivered it, unsigned.
        return AsyncBoltRequest(body=body, mode="socket_mode")
    # As bot.service.web builds it from an HTTP request, signed as Slack signs.
    signed = signed_headers(body.encode(), SIGNING_SECRET, int(time.time()), content_type)
    headers: dict[str, str | Sequence[str]] = dict(signed)
    return AsyncBoltRequest(body=body, headers=headers)


@settings(SETTINGS, max_examples=150)
@given(data=st.data())
@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_what_pactbot_reads_of_a_spoilt_payload_is_read_or_refused_by_name(
    surface: Surface, data: st.DataObject
) -> None:
    found = surface.payload(data.draw(chosen(HOOKS), label="chosen"))
    spoilt = data.draw(mutated(found), label="payload")
    # What Bolt hands the listeners: a form's fields are strings.
    body = (
        dict(parse_qsl(_form(spoilt)))
        if surface.wire is _form and isinstance(spoilt, dict)
        else spoilt
    )

    said = payload.problem(body)

    if said is not None:
        field, _, why = said.partition(": ")
        assert re.fullmatch(r"\w+(\.\w+)*|\(body\)", field), said
        assert why, said


@pytest.fixture
def broker(start_broker: StartBroker) -> SampleBroker:
    return start_broker(demo_world(NOW))


@pytest.fixture
async def bot(broker: SampleBroker, slack: SampleSlack, tmp_path: Path) -> AsyncIterator[Running]:
    store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=Clock(NOW))
    async with running_bot(broker=broker, slack=slack, store=store, clock=Clock(NOW)) as running:
        await running.bot.services.monitor.refresh()
        yield running


@dataclass
class BoltAlone:
    """Bolt configured as `bot.slack.app` configures it, with listeners that only ack: what
    fails here fails before any pactbot code runs."""

    app: AsyncApp
    failures: list[BaseException]

    async def fails(self, make: Callable[[], AsyncBoltRequest]) -> bool:
        self.failures.clear()
        try:
            await self.app.async_dispatch(make())
        except Exception as error:  # whatever Bolt raises is what is told apart
            self.failures.append(error)
        return bool(self.failures)


@pytest.fixture
def bolt_alone(slack: SampleSlack) -> BoltAlone:
    app = AsyncApp(
        name="bolt alone",
        client=AsyncWebClient(token=slack.bot_token, base_url=slack.url + "/api/"),
        signing_secret=SIGNING_SECRET,
        oauth_settings=None,
        installation_store=None,
        raise_error_for_unhandled_request=False,
        process_before_response=True,  # no polling for the ack: the listener runs inline
    )
    alone = BoltAlone(app, [])

    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    async def record(error: Exception) -> None:
        alone.failures.append(error)

    for action_id in kit.ACTION_IDS:
        app.action(action_id)(ack_only)
    app.command(COMMAND)(ack_only)
    for name in EVENTS:
        app.event(name)(ack_only)
    app.error(record)
    return alone


async def dispatched(bot: Running, request: AsyncBoltRequest) -> int:
    """The status Bolt answers `request` with, once every listener it started has finished."""
    before = asyncio.all_tasks()
    response = await bot.bot.bolt.async_dispatch(request)
    # Bolt answers at the ack and runs the rest of a listener in a task of its own.
    while started := asyncio.all_tasks() - before - {asyncio.current_task()}:
        async with asyncio.timeout(5):  # a bound, so a stuck listener fails instead of hanging
            await asyncio.gather(*started)
        before |= started
    return response.status


def untyped_failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What reached the app's error handler and is no `bot.errors` sentence."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "bot.slack.app"
        and record.levelno >= logging.ERROR
        and isinstance(record.args, tuple)
        and record.args[1] not in SENTENCES  # on_error logs (kind, error type, error)
    ]


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
async def test_every_captured_payload_is_answered(
    bot: Running, surface: Surface, caplog: pytest.LogCaptureFixture
) -> None:
    found = surface.payload(Chosen(response_url=bot.slack.response_url()))
    body = found if surface.socket_mode else surface.wire(found)

    with caplog.at_level(logging.WARNING):
        status = await dispatched(bot, request(body, surface.content_type))

    assert status in {200, 404}, status
    assert [
        record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR
    ] == []


@settings(SETTINGS, max_examples=40)
@given(data=st.data())
@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
async def test_a_spoilt_payload_is_answered_or_refused_never_a_crash(
    bot: Running,
    bolt_alone: BoltAlone,
    surface: Surface,
    data: st.DataObject,
    caplog: pytest.LogCaptureFixture,
) -> None:
    found = surface.payload(data.draw(chosen(bot.slack.response_url()), label="chosen"))
    body, content_type = data.draw(bodies(surface, found), label="body")
    if await bolt_alone.fails(lambda: request(body, content_type)):
        event(f"Bolt alone fails: {type(bolt_alone.failures[0]).__name__}")
        return
    caplog.clear()

    with caplog.at_level(logging.WARNING):
        status = await dispatched(bot, request(body, content_type))

    assert untyped_failures(caplog) == []
    assert status in {200, 400, 404}, status


# Bolt parses a body before it checks its signature, and raised on these: the HTTP adapter
# answered 500 and logged the traceback, for anyone who can reach it.
@pytest.mark.parametrize(
    "body",
    [
        '{"type": "block_act',  # JSON cut short
        "payload=%7Bnot-json",  # an interaction whose payload is no JSON
        '{"type": "block_actions", "user": 5, "actions": [{"action_id": "pact_test_run"}]}',
        '{"type": "block_actions", "user": {"id": "U1"}, "actions": []}',
    ],
    ids=["cut JSON", "payload no JSON", "user a number", "no actions"],
)
async def test_a_body_bolt_cannot_parse_is_turned_away(bot: Running, body: str) -> None:
    answer = await bot.post(body.encode())

    assert 400 <= answer.status_code < 500, answer.status_code
