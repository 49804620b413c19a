"""Every captured broker answer, spoilt at random, is read as a model or refused in one sentence.

The real `BrokerClient` (a real httpx client) reads each resource pactbot reads from one loopback
server that answers what the example scripted: a captured answer with fields dropped, nulled,
retyped or cut short, its JSON text cut off, an HTML page, a 5xx or 429, an empty body, another
status or content type. Whatever comes, the read gives the model or raises a `BrokerError`
whose message is a sentence for a person; any other exception is a bug of the client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.broker import schema
from bot.broker.client import BrokerClient
from bot.domain.model import PairKey
from bot.errors import BrokerBadResponse, BrokerError, BrokerNotFound, BrokerUnreachable
from bot.settings import BrokerSettings
from tests.helpers.fixtures import BROKER_FIXTURES, CAPTURED_ROOT
from tests.helpers.mutations import HAL_JSON, Answer, answers, mutated
from tests.helpers.stage import Stage, no_wait, shared_transport

TOKEN = "fuzz-token-must-never-show"
WEBHOOK = "kJE42wcSbKwfb0QJ3V9sBg"
TRIGGERED = "0b6dc8b4-3b0d-4d1e-a1c3-5c0c5d1ab0b5"
# What every BrokerError message begins with (bot/errors.py): a sentence, not an exception.
SENTENCES = ("cannot reach the Pact Broker", "the Pact Broker ", "unexpected answer from ")
# Broker answers that are not 200, as their fixture's name says.
STATUSES = {
    "matrix-unknown-pacticipant-400-client-contract.json": 400,
    "derived/matrix-unknown-pacticipant-400.json": 400,
    "derived/webhooks-status-unknown-consumer-404.json": 404,
}
# A hundred examples per read: about 10 s of CPU for the module.
FUZZ = settings(
    max_examples=100,
    deadline=None,
    # The stage and the connection pool are shared by every example on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def served(name: str) -> Answer:
    """The fixture `name` (under tests/fixtures/broker-api/) as the broker sent it: a captured
    one with its own status and content type. `name#a/0/b` serves a part of the document."""
    name, _, part = name.partition("#")
    body = (BROKER_FIXTURES / name).read_bytes()
    if part:
        document = json.loads(body)
        for step in part.split("/"):
            document = document[int(step) if step.isdigit() else step]
        body = json.dumps(document).encode()
    head = (BROKER_FIXTURES / name).with_suffix(".headers")
    if not head.exists():
        return Answer(STATUSES.get(name, 200), body, {"Content-Type": HAL_JSON})
    status_line, *lines = head.read_text(encoding="utf-8").splitlines()
    headers = dict(line.split(": ", 1) for line in lines if line)
    return Answer(int(status_line.split()[1]), body, {"Content-Type": headers["Content-Type"]})


INDEX = served("captured-v2.120.0/22_index.json")
DEFINITION: dict[str, object] = json.loads(
    (BROKER_FIXTURES / "webhook-template-github-dispatch.json").read_text(encoding="utf-8")
)


@dataclass(frozen=True, slots=True)
class Read:
    """One read of the client, the fixtures of the answer it reads, and what it gives."""

    name: str
    call: Callable[[BrokerClient], Awaitable[object]]
    gives: tuple[type, ...]
    fixtures: tuple[str, ...]
    # The index relations the read finds its URL in; the index is then served, as captured.
    follows: tuple[str, ...] = ()


def _href(path: str) -> str:
    """A link as the captured broker wrote it: the client re-roots it on the stage."""
    return CAPTURED_ROOT + path


READS = (
    Read(
        "index",
        lambda client: client.index(),
        (schema.Index,),
        ("captured-v2.120.0/22_index.json", "derived/index.json"),
    ),
    Read(
        "dashboard",
        lambda client: client.dashboard_page(1, 100),
        (list,),
        (
            "captured-v2.120.0/23_dashboard.json",
            "captured-v2.120.0/40_before_age_dashboard.json",
            "captured-v2.120.0/41_after_age_30d_dashboard.json",
            "derived/dashboard.json",
            "dashboard-decorator-spec.json",
        ),
    ),
    Read(
        "matrix",
        lambda client: client.matrix([PairKey("C", "P")], 100),
        (schema.Matrix,),
        (
            "captured-v2.120.0/25_matrix_cvpv.json",
            "captured-v2.120.0/40_before_age_matrix.json",
            "captured-v2.120.0/41_after_age_30d_matrix.json",
            "captured-v2.120.0/43_after_age_verification1_extra10d_matrix.json",
            "matrix-client-contract.json",
            "matrix-pair.json",
            "matrix-unknown-pacticipant-400-client-contract.json",
            "derived/matrix-unknown-pacticipant-400.json",
        ),
    ),
    Read(
        "webhooks",
        lambda client: client.webhook_links(),
        (list,),
        (
            "captured-v2.120.0/26_webhooks.json",
            "captured-v2.120.0/27_pacticipant_webhooks.json",
            "webhooks-list.json",
            "webhooks-for-pair.json",
            "pact-webhooks.json",
        ),
        follows=("pb:webhooks",),
    ),
    Read(
        "webhook",
        lambda client: client.webhook(_href(f"/webhooks/{WEBHOOK}")),
        (schema.WebhookResource,),
        (
            "captured-v2.120.0/07_get_webhook.json",
            "captured-v2.120.0/06_create_webhook.json",
            "webhook-get.json",
        ),
    ),
    Read(
        "webhook status",
        lambda client: client.webhook_status(_href("/pacts/provider/P/consumer/C/webhooks/status")),
        (schema.TriggeredWebhookList,),
        (
            "captured-v2.120.0/12_webhook_status_after_401.json",
            "captured-v2.120.0/17_webhook_status_after_204.json",
            "captured-v2.120.0/40_before_age_webhook_status.json",
            "captured-v2.120.0/41_after_age_30d_webhook_status.json",
            "webhooks-status.json",
            "derived/webhooks-status-unknown-consumer-404.json",
        ),
    ),
    Read(
        "triggered webhooks",
        lambda client: client.triggered_webhooks(
            _href("/pacts/provider/P/consumer/C/version/1.1.0")
        ),
        (schema.TriggeredWebhookList,),
        (
            "captured-v2.120.0/14_triggered_webhooks_1.1.0.json",
            "triggered-webhooks-for-pact.json",
            "triggered-webhooks-for-verification.json",
        ),
    ),
    Read(
        "webhook logs",
        lambda client: client.triggered_webhook_logs(
            _href(f"/triggered-webhooks/{TRIGGERED}/logs")
        ),
        (schema.TriggeredWebhookLogs,),
        (
            "captured-v2.120.0/13_triggered_webhook_logs_401.json",
            "captured-v2.120.0/18_triggered_webhook_logs_204.json",
            "captured-v2.120.0/42_after_age_30d_triggered_webhook_logs_401.json",
            "triggered-webhook-logs.json",
        ),
    ),
    Read(
        "webhook log text",
        lambda client: client.triggered_webhook_log_text(
            _href(f"/triggered-webhooks/{TRIGGERED}/logs")
        ),
        (str,),
        ("captured-v2.120.0/13_triggered_webhook_logs_401.json",),
    ),
    Read(
        "webhook test",
        lambda client: client.execute(_href(f"/webhooks/{WEBHOOK}/execute")),
        (schema.ExecuteResult,),
        (
            "captured-v2.120.0/08_webhook_execute_401.json",
            "captured-v2.120.0/09_webhook_execute_204.json",
            "webhook-execute-success.json",
            "webhook-execute-unsaved-success.json",
            "derived/webhook-execute-204-response-shown.json",
            "derived/webhook-execute-401-response-hidden.json",
            "derived/webhook-execute-401-response-shown.json",
            "derived/webhook-execute-connection-error-response-hidden.json",
            "derived/webhook-execute-connection-error-response-shown.json",
        ),
    ),
    Read(
        "pacticipant",
        lambda client: client.pacticipant("C"),
        (schema.PacticipantResource,),
        ("captured-v2.120.0/30_pacticipants.json#_embedded/pacticipants/0",),
        follows=("pb:pacticipant",),
    ),
    Read(
        "pacticipants of a label",
        lambda client: client.labelled(_href("/pacticipants/label/mobile")),
        (list,),
        ("captured-v2.120.0/30_pacticipants.json", "../broker-derived/pacticipants-for-label.json"),
    ),
    Read(
        "branch",
        lambda client: client.branch_exists("P", "main"),
        (bool,),
        ("../broker-derived/branch.json",),
        follows=("pb:pacticipant-branch",),
    ),
    Read(
        "new webhook",
        lambda client: client.create_webhook(DEFINITION),
        (schema.WebhookResource,),
        ("captured-v2.120.0/06_create_webhook.json", "pactflow-webhook-create-team-response.json"),
        follows=("pb:webhooks",),
    ),
    Read(
        "new pacticipant",
        lambda client: client.create_pacticipant("C"),
        (bool,),
        ("captured-v2.120.0/30_pacticipants.json#_embedded/pacticipants/0",),
        follows=("pb:pacticipant", "pb:pacticipants"),
    ),
    Read(
        "may run tests",
        lambda client: client.may_run_tests(),
        (bool, type(None)),
        (
            "captured-v2.120.0/07_get_webhook.json",
            "derived/webhooks-status-unknown-consumer-404.json",
        ),
        follows=("pb:webhook",),
    ),
)
# Captured answers a read refuses as they are, and why.
REFUSED_AS_CAPTURED: dict[tuple[str, str], type[BrokerError]] = {
    ("matrix", "matrix-pair.json"): BrokerBadResponse,  # timestamps masked as "<timestamps>"
    ("matrix", "matrix-unknown-pacticipant-400-client-contract.json"): BrokerBadResponse,
    ("matrix", "derived/matrix-unknown-pacticipant-400.json"): BrokerBadResponse,
    ("webhook status", "derived/webhooks-status-unknown-consumer-404.json"): BrokerNotFound,
    # A contract's sample of PactFlow's answer: no uuid, no request.
    ("new webhook", "pactflow-webhook-create-team-response.json"): BrokerBadResponse,
}


@pytest.fixture(scope="module")
def stage() -> Iterator[Stage]:
    with Stage() as serving:
        yield serving


@pytest.fixture(scope="module")
def broker(stage: Stage) -> BrokerSettings:
    # Settings read the environment: built once, they save 4 ms an example.
    return BrokerSettings(base_url=stage.url, token=SecretStr(TOKEN))


Connect = Callable[[], BrokerClient]


@pytest.fixture
async def connect(broker: BrokerSettings) -> AsyncIterator[Connect]:
    """A new client per example (its index and pages are cached), on one connection pool."""
    async with shared_transport() as transport:
        yield lambda: BrokerClient(broker, transport=transport, sleep=no_wait)


async def outcome(read: Read, connect: Connect) -> Any:
    """What `read` gives, or the BrokerError it raised."""
    async with connect() as reader:
        try:
            return await read.call(reader)
        except BrokerError as error:
            return error


def assert_read_or_refused_in_a_sentence(found: Any, gives: tuple[type, ...]) -> None:
    if not isinstance(found, BrokerError):
        assert isinstance(found, gives), found
        return
    message = str(found)
    assert message.startswith(SENTENCES), message
    assert TOKEN not in message


def play(stage: Stage, read: Read, answer: Answer) -> None:
    stage.play(answer, {"/": INDEX} if read.follows else {})


@pytest.mark.parametrize(
    ("read", "name"),
    [
        pytest.param(read, name, id=f"{read.name}:{name}")
        for read in READS
        for name in read.fixtures
    ],
)
async def test_every_captured_answer_is_read_as_it_was_captured(
    stage: Stage, connect: Connect, read: Read, name: str
) -> None:
    play(stage, read, served(name))

    found = await outcome(read, connect)

    assert isinstance(found, REFUSED_AS_CAPTURED.get((read.name, name), read.gives)), found
    assert_read_or_refused_in_a_sentence(found, read.gives)


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("read", READS, ids=[read.name for read in READS])
async def test_a_spoilt_answer_is_read_as_a_model_or_refused_in_a_sentence(
    stage: Stage, connect: Connect, read: Read, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(read.fixtures), label="fixture")
    play(stage, read, data.draw(answers(served(name)), label="answer"))

    found = await outcome(read, connect)

    assert_read_or_refused_in_a_sentence(found, read.gives)


LINKED = [read for read in READS if read.follows]


@settings(FUZZ, max_examples=60)  # a link is a small object: fewer examples cover it
@given(data=st.data())
@pytest.mark.parametrize("read", LINKED, ids=[read.name for read in LINKED])
async def test_links_from_a_spoilt_index_are_followed_or_refused_in_a_sentence(
    stage: Stage, connect: Connect, read: Read, data: st.DataObject
) -> None:
    # The link the read follows, and `self` that links are re-rooted by, may be anything.
    index = json.loads(INDEX.body)
    relation = data.draw(st.sampled_from((*read.follows, "self")), label="relation")
    index["_links"][relation] = data.draw(mutated(index["_links"][relation]), label="link")
    spoilt = Answer(200, json.dumps(index).encode(), INDEX.headers)
    stage.play(served(read.fixtures[0]), {"/": spoilt})

    found = await outcome(read, connect)

    assert_read_or_refused_in_a_sentence(found, read.gives)
    # The stage answers every request: one that found nobody followed a link to another host.
    assert not isinstance(found, BrokerUnreachable), found
