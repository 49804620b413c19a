"""The real httpx client against the sample broker on loopback: headers, links, retries, errors."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx
import pytest

from bot import __version__
from bot.broker.client import BrokerClient, Timeouts
from bot.broker.snapshot import read_snapshot
from bot.domain.model import PairKey, Snapshot
from bot.errors import (
    BrokerAuthRejected,
    BrokerBadResponse,
    BrokerForbidden,
    BrokerServerError,
    BrokerUnreachable,
)
from bot.retry import RetryPolicy
from bot.sample.broker import Credentials, Fault, SampleBroker
from bot.sample.story import ORDERS_WEBHOOK, demo_world
from bot.settings import BrokerSettings
from tests.conftest import StartBroker

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TOKEN = "test-token"


class Sleeps:
    """An injected sleep that records how long the client wanted to wait, and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def broker(start_broker: StartBroker) -> SampleBroker:
    return start_broker(demo_world(NOW), credentials=Credentials(token=TOKEN))


def client(broker: SampleBroker, sleeps: Sleeps | None = None, **settings: str) -> BrokerClient:
    given: dict[str, str] = {"base_url": broker.url, "token": TOKEN} | settings
    return BrokerClient(BrokerSettings(**given), sleep=sleeps or Sleeps())


async def snapshot(broker: SampleBroker, **settings: str) -> Snapshot:
    async with client(broker, **settings) as reader:
        return await read_snapshot(reader, now=NOW, github_api_url="https://api.github.com")


async def test_every_request_asks_for_hal_json_as_pactbot_with_the_bearer_token(
    broker: SampleBroker,
) -> None:
    await snapshot(broker)

    assert broker.requests
    for request in broker.requests:
        assert request.headers["accept"] == "application/hal+json"
        assert request.headers["user-agent"] == f"pactbot/{__version__}"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_basic_auth_is_sent_for_an_open_source_broker(start_broker: StartBroker) -> None:
    broker = start_broker(demo_world(NOW), credentials=Credentials(basic=("reader", "s3cret")))

    found = await snapshot(broker, token=None, username="reader", password="s3cret")  # type: ignore[arg-type]

    assert len(found.pairs) == 6
    assert broker.requests[0].headers["authorization"] == "Basic cmVhZGVyOnMzY3JldA=="


async def test_links_to_an_internal_host_are_followed_on_the_configured_url(
    start_broker: StartBroker,
) -> None:
    # Behind a proxy the broker writes its own internal address into every link, and the proxy
    # mounts it under /pact: pactbot must only ever talk to the URL it was given.
    broker = start_broker(
        demo_world(NOW),
        credentials=Credentials(token=TOKEN),
        advertised_url="http://pact-broker.internal:9292",
        path_prefix="/pact",
    )

    found = await snapshot(broker, base_url=broker.url + "/pact")

    assert len(found.pairs) == 6
    assert all(request.path.startswith("/pact/") for request in broker.requests)
    assert found.executions[ORDERS_WEBHOOK]  # status and logs links were followed too


async def test_names_with_spaces_are_url_encoded_in_links(broker: SampleBroker) -> None:
    found = await snapshot(broker)

    assert PairKey("checkout", "Pricing Service") in {pair.key for pair in found.pairs}
    assert broker.count("^/pacts/provider/Pricing%20Service/consumer/") == 1


async def test_a_webhook_is_found_by_the_brokers_own_id(broker: SampleBroker) -> None:
    async with client(broker) as reader:
        webhook = await reader.webhook_by_id(ORDERS_WEBHOOK)

    assert webhook.uuid == ORDERS_WEBHOOK
    assert broker.count(f"^/webhooks/{ORDERS_WEBHOOK}$") == 1


async def test_the_dashboard_is_read_page_by_page_until_a_short_page(broker: SampleBroker) -> None:
    async with client(broker) as reader:
        rows = await reader.dashboard(2)

    assert len({(row.consumer, row.provider) for row in rows}) == 6
    pages = [request.query for request in broker.requests if request.path == "/dashboard"]
    assert pages == ["page=1&size=2", "page=2&size=2", "page=3&size=2", "page=4&size=2"]


async def test_a_broker_that_ignores_the_page_asked_for_is_not_read_for_ever(
    broker: SampleBroker,
) -> None:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        first = (await http.get(f"{broker.url}/dashboard?page=1&size=2")).content
    broker.inject("^/dashboard$", Fault(200, first, "application/hal+json", times=None))

    async with client(broker) as reader:
        with pytest.raises(BrokerBadResponse) as raised:
            await reader.dashboard(2)

    assert str(raised.value) == (
        "unexpected answer from GET /dashboard: page 2 repeats page 1: the broker ignores page="
    )
    assert broker.count("^/dashboard$") == 1 + 2  # the test's own read, then two pages


async def test_server_errors_are_retried_with_backoff(broker: SampleBroker) -> None:
    broker.inject("^/dashboard$", Fault(503, times=2))
    sleeps = Sleeps()

    async with client(broker, sleeps) as reader:
        rows = await reader.dashboard(100)

    assert len(rows) == 6
    assert sleeps.waits == [0.5, 1.0]
    assert broker.count("^/dashboard$") == 3


async def test_rate_limits_are_waited_out_as_the_broker_asks(broker: SampleBroker) -> None:
    broker.inject("^/dashboard$", Fault(429, headers={"Retry-After": "7"}))
    sleeps = Sleeps()

    async with client(broker, sleeps) as reader:
        await reader.dashboard(100)

    assert sleeps.waits == [7.0]


async def test_a_retry_after_longer_than_30s_is_not_waited_for(broker: SampleBroker) -> None:
    broker.inject("^/dashboard$", Fault(429, headers={"Retry-After": "3600"}))
    sleeps = Sleeps()

    with pytest.raises(BrokerServerError) as raised:
        async with client(broker, sleeps) as reader:
            await reader.dashboard(100)

    assert sleeps.waits == []
    assert str(raised.value) == (
        f"the Pact Broker rate limits pactbot (HTTP 429) at {broker.url}/dashboard?page=1&size=100 "
        "at the first attempt and asked for 3600 s more; try again later"
    )


async def test_dropped_connections_are_retried(broker: SampleBroker) -> None:
    broker.inject("^/dashboard$", Fault(disconnect=True, times=2))

    async with client(broker) as reader:
        assert len(await reader.dashboard(100)) == 6


async def test_a_broker_that_keeps_failing_gives_a_clear_error_after_four_attempts(
    broker: SampleBroker,
) -> None:
    broker.inject("^/dashboard$", Fault(500, times=None))

    with pytest.raises(BrokerServerError) as raised:
        async with client(broker) as reader:
            await reader.dashboard(100)

    assert broker.count("^/dashboard$") == 4
    assert str(raised.value) == (
        f"the Pact Broker answered HTTP 500 for {broker.url}/dashboard?page=1&size=100 after 4 "
        "attempts: it is down or overloaded; try again later"
    )


async def test_a_slow_broker_times_out_with_a_sentence(broker: SampleBroker) -> None:
    broker.inject("^/dashboard$", Fault(delay=0.5, times=None))
    settings = BrokerSettings(base_url=broker.url, token=TOKEN)
    reader = BrokerClient(
        settings, timeouts=Timeouts(read=0.05), retry=RetryPolicy(attempts=2), sleep=Sleeps()
    )

    with pytest.raises(
        BrokerUnreachable,
        match=r"cannot reach the Pact Broker at .*/dashboard.*: no answer in time",
    ):
        async with reader:
            await reader.dashboard(100)


async def test_the_webhook_test_is_never_retried(broker: SampleBroker) -> None:
    broker.inject("/execute$", Fault(502))

    with pytest.raises(BrokerServerError):
        async with client(broker) as reader:
            await reader.execute(f"{broker.url}/webhooks/{ORDERS_WEBHOOK}/execute")
    broker.inject("/execute$", Fault(disconnect=True))
    with pytest.raises(BrokerUnreachable):
        async with client(broker) as reader:
            await reader.execute(f"{broker.url}/webhooks/{ORDERS_WEBHOOK}/execute")

    assert broker.count("/execute$", method="POST") == 2


async def test_a_read_only_token_cannot_run_the_test(start_broker: StartBroker) -> None:
    broker = start_broker(demo_world(NOW), credentials=Credentials(read_only_token="ro"))

    with pytest.raises(BrokerForbidden) as raised:
        async with client(broker, token="ro") as reader:
            await reader.execute(f"{broker.url}/webhooks/{ORDERS_WEBHOOK}/execute")

    assert "refused to run the webhook Test (403)" in str(raised.value)
    assert "a read-only token cannot run it" in str(raised.value)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"token": "wrong"}, "check PACT_BROKER_TOKEN (--broker-token)"),
        ({"token": None, "username": "u", "password": "p"}, "check PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD"),
        ({"token": None}, "none are set; set PACT_BROKER_TOKEN (PactFlow) or PACT_BROKER_USERNAME"),
    ],
)  # fmt: skip
async def test_rejected_credentials_name_the_setting_to_check(
    broker: SampleBroker, settings: dict[str, str], named: str
) -> None:
    with pytest.raises(BrokerAuthRejected) as raised:
        await snapshot(broker, **settings)

    assert "the Pact Broker rejected the credentials (401)" in str(raised.value)
    assert named in str(raised.value)
    assert "wrong" not in str(raised.value)  # never the credential itself


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (Fault.html(), "unexpected answer from GET /dashboard: an HTML page instead of JSON: a proxy or login page answered"),
        (Fault.garbage(), "unexpected answer from GET /dashboard: malformed JSON (starts '{\"items\": [{\"consumer\": ')"),
        (Fault.without("items", 0, "pact", "createdAt"), "unexpected answer from GET /dashboard: the field items.0.pact.createdAt is missing"),
        (Fault(200, b"plain words", "text/plain"), "unexpected answer from GET /dashboard: text/plain instead of JSON"),
        (Fault(302, b"", headers={"Location": "https://sso.example.com/login"}), "HTTP 302 redirect to https://sso.example.com/login: a proxy or login page is in the way"),
        (Fault(400, b'{"errors": {"size": ["must be greater than 0"]}}'), "unexpected answer from GET /dashboard: HTTP 400: size: ['must be greater than 0']"),
    ],
)  # fmt: skip
async def test_answers_that_are_not_the_json_we_need_are_named(
    broker: SampleBroker, fault: Fault, said: str
) -> None:
    broker.inject("^/dashboard$", fault)

    with pytest.raises(BrokerBadResponse) as raised:
        await snapshot(broker)

    assert said in str(raised.value)


async def test_an_unreachable_broker_is_named_with_its_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = BrokerSettings(base_url=f"http://127.0.0.1:{port}")

    with pytest.raises(BrokerUnreachable) as raised:
        async with BrokerClient(settings, sleep=Sleeps()) as reader:
            await reader.index()

    assert str(raised.value).startswith(
        f"cannot reach the Pact Broker at http://127.0.0.1:{port}/: connection failed"
    )


async def test_only_gets_and_the_one_test_post_are_ever_sent(broker: SampleBroker) -> None:
    await snapshot(broker)
    async with client(broker) as reader:
        await reader.execute(f"{broker.url}/webhooks/{ORDERS_WEBHOOK}/execute")

    methods = {(request.method, request.path.endswith("/execute")) for request in broker.requests}
    assert methods == {("GET", False), ("POST", True)}
