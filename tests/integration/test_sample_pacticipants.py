"""The sample broker's pacticipants, labels and branches, and the trigger statuses that "did not
fire" reads, checked against the captured broker (and the answers derived from its source,
tests/fixtures/broker-derived/SOURCES.md) so that they cannot drift."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.sample.broker import SampleBroker
from bot.sample.world import DEFAULT_RETRY_DELAYS, World
from tests.conftest import StartBroker
from tests.helpers.fixtures import CAPTURED_ROOT, captured, shape
from tests.helpers.stories import at, captured_story

DERIVED = Path(__file__).parents[1] / "fixtures" / "broker-derived"


def derived(name: str) -> Any:
    return json.loads((DERIVED / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def world() -> World:
    story = captured_story()
    story.label("C", "mobile")
    return story


@pytest.fixture
def broker(start_broker: StartBroker, world: World) -> SampleBroker:
    return start_broker(world)


@pytest.fixture
def get(broker: SampleBroker) -> Iterator[Any]:
    with httpx.Client(base_url=broker.url, headers={"Accept": "application/hal+json"}) as client:

        def fetch(path: str, status: int = 200) -> Any:
            response = client.get(path)
            assert response.status_code == status, response.text
            return response.json() if response.content else None

        yield fetch


def ours(value: Any, broker: SampleBroker) -> Any:
    """`value` with the sample broker's address swapped for the captured broker's."""
    return json.loads(json.dumps(value).replace(broker.url, CAPTURED_ROOT))


def test_the_pacticipants_match_the_captured_list(get: Any, broker: SampleBroker) -> None:
    listed = ours(get("/pacticipants"), broker)
    theirs = captured("30_pacticipants")
    # The captured broker had no label on C; the one added here is the only difference.
    labels = [item["_embedded"].pop("labels") for item in listed["_embedded"]["pacticipants"]]
    for item in listed["pacticipants"]:
        del item["_embedded"]["labels"]
    for item in (*theirs["_embedded"]["pacticipants"], *theirs["pacticipants"]):
        del item["_embedded"]["labels"]

    assert labels == [
        derived("pacticipants-for-label")["_embedded"]["pacticipants"][0]["_embedded"]["labels"],
        [],
    ]
    assert shape(listed) == shape(theirs)
    assert listed == theirs


def test_one_pacticipant_is_the_item_the_list_embeds(get: Any, broker: SampleBroker) -> None:
    provider = ours(get("/pacticipants/P"), broker)

    assert provider == captured("30_pacticipants")["_embedded"]["pacticipants"][1]
    assert get("/pacticipants/Nobody", 404) == {"error": "No pacticipant with name 'Nobody' found"}


def test_a_label_lists_the_pacticipants_that_carry_it(get: Any, broker: SampleBroker) -> None:
    assert ours(get("/pacticipants/label/mobile"), broker) == derived("pacticipants-for-label")
    assert get("/pacticipants/label/nobody")["_embedded"]["pacticipants"] == []


def test_a_label_list_pages_with_next_links_when_asked(broker: SampleBroker, get: Any) -> None:
    for number in range(3):
        broker.world.version(f"ios-{number}", "1", at=at("09:58:23"))
        broker.world.label(f"ios-{number}", "mobile")

    first = get("/pacticipants/label/mobile?size=2")
    last = get(first["_links"]["next"]["href"].removeprefix(broker.url))

    assert first["page"] == {"number": 1, "size": 2, "totalElements": 4, "totalPages": 2}
    assert [p["name"] for p in first["_embedded"]["pacticipants"]] == ["C", "ios-0"]
    assert [p["name"] for p in last["_embedded"]["pacticipants"]] == ["ios-1", "ios-2"]
    assert "next" not in last["_links"]


def test_a_branch_exists_once_a_version_is_on_it(get: Any, broker: SampleBroker) -> None:
    assert ours(get("/pacticipants/P/branches/main"), broker) == derived("branch")
    get("/pacticipants/P/branches/feature-x", 404)


def new_provider(world: World) -> World:
    """A webhook for N, a provider nobody built; C publishes its first pact with N."""
    world.add_webhook(
        "newProviderHookAbCdEfGh",
        provider="N",
        url="https://api.github.com/repos/example-org/N/dispatches",
        created_at=at("09:00:00"),
    )
    world.publish("C", "N", "1.3.0", at=at("09:58:50"), content="n1")
    return world


def test_a_new_provider_without_versions_has_no_main_branch_and_its_pact_triggers_nothing(
    get: Any, broker: SampleBroker
) -> None:
    new_provider(broker.world)

    provider = get("/pacticipants/N")
    triggered = get("/pacticipants/C")  # the consumer's version is there: it published
    assert "mainBranch" not in provider  # representable leaves nil out
    assert "latestVersion" not in provider["_embedded"]
    assert triggered["_embedded"]["latestVersion"]["number"] == "1.3.0"
    nothing = get("/pacts/provider/N/consumer/C/version/1.3.0/triggered-webhooks")
    assert nothing["_embedded"]["triggeredWebhooks"] == []
    status = get("/pacts/provider/N/consumer/C/webhooks/status")
    assert status["_embedded"]["triggeredWebhooks"] == []
    assert status["summary"] == {"successful": 0, "failed": 0}


def test_the_provider_main_branch_version_makes_the_next_publication_fire(
    get: Any, broker: SampleBroker
) -> None:
    world = new_provider(broker.world)
    world.version("N", "0.1.0", branch="main", at=at("09:58:51"))
    world.publish("C", "N", "1.3.1", at=at("09:58:52"), content="n1")  # unchanged: fires

    fired = get("/pacts/provider/N/consumer/C/version/1.3.1/triggered-webhooks")
    [entry] = fired["_embedded"]["triggeredWebhooks"]
    assert entry["eventName"] == "contract_requiring_verification_published"
    assert get("/pacticipants/N")["mainBranch"] == "main"


def test_a_failing_dispatch_is_retrying_until_its_last_attempt(
    get: Any, broker: SampleBroker
) -> None:
    world = broker.world
    world.retry_delays = DEFAULT_RETRY_DELAYS
    from tests.helpers.stories import BAD_CREDENTIALS

    world.webhooks["kJE42wcSbKwfb0QJ3V9sBg"].target = BAD_CREDENTIALS
    # Dispatched 5 s after the publication, 8 s ago; tried again 10 s after that, not yet.
    world.publish("C", "P", "1.4.0", at=world.clock() - timedelta(seconds=8), content="v4")

    status = get("/pacts/provider/P/consumer/C/webhooks/status")
    [entry] = status["_embedded"]["triggeredWebhooks"]
    assert (entry["status"], entry["attemptsMade"], entry["attemptsRemaining"]) == (
        "retrying",
        1,
        6,
    )
    assert status["summary"] == {"successful": 0, "failed": 0, "retrying": 1}
    assert len(status["_links"]["pb:error-logs"]) == 1
    logs = get(entry["_links"]["pb:logs"]["href"].removeprefix(broker.url))
    assert [e["success"] for e in logs["executions"]] == [False]
    assert "Retrying webhook in 10 seconds" in logs["executions"][-1]["logs"]
    assert shape(logs) == shape(captured("13_triggered_webhook_logs_401"))
