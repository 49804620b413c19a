"""pactbot's Slack client against the fake Slack: what it retries, and what it never sends twice."""

from __future__ import annotations

import socket

import pytest

from bot.errors import SlackRetryable
from bot.sample.slack import SampleSlack
from bot.service.metrics import Metrics
from bot.service.slack_client import MeteredWebClient, build_client
from tests.helpers.bot import Sleeps

CHANNEL = "C0DIGEST"


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def client_at(base_url: str, sleeps: Sleeps) -> MeteredWebClient:
    return build_client(token="xoxb-test", base_url=base_url, metrics=Metrics(), sleep=sleeps)


@pytest.fixture
def client(slack: SampleSlack, sleeps: Sleeps) -> MeteredWebClient:
    return client_at(slack.url + "/api/", sleeps)


@pytest.mark.parametrize("method", ["chat.postMessage", "chat.postEphemeral"])
async def test_a_post_slack_answered_with_a_500_is_not_sent_again(
    method: str, client: MeteredWebClient, slack: SampleSlack, sleeps: Sleeps
) -> None:
    slack.fail_next(method, status=500)

    with pytest.raises(SlackRetryable):
        await client.api_call(method, json={"channel": CHANNEL, "user": "U1", "text": "Hi"})

    assert len(slack.calls_to(method)) == 1
    assert sleeps.waits == []


async def test_an_update_slack_answered_with_a_500_is_sent_again(
    client: MeteredWebClient, slack: SampleSlack, sleeps: Sleeps
) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="Before")
    slack.fail_next("chat.update", status=500)

    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="After")

    assert len(slack.calls_to("chat.update")) == 2
    assert [message.text for message in slack.in_channel(CHANNEL)] == ["After"]
    assert sleeps.waits == [0.5]


async def test_reads_and_idempotent_writes_are_sent_again_after_a_500(
    client: MeteredWebClient, slack: SampleSlack
) -> None:
    slack.add_usergroup("S0ONCALL", "pact-oncall", ["U0ONCALL"])
    for method in ("usergroups.users.list", "views.publish", "auth.test"):
        slack.fail_next(method, status=500)

    members = await client.usergroups_users_list(usergroup="S0ONCALL")
    await client.views_publish(user_id="U0ONCALL", view={"type": "home", "blocks": []})
    await client.auth_test()

    assert members["users"] == ["U0ONCALL"]
    assert "U0ONCALL" in slack.home_views
    assert [
        len(slack.calls_to(method))
        for method in ("usergroups.users.list", "views.publish", "auth.test")
    ] == [2, 2, 2]


async def test_a_rate_limited_post_is_sent_again_after_the_wait_slack_asks_for(
    client: MeteredWebClient, slack: SampleSlack, sleeps: Sleeps
) -> None:
    slack.fail_next("chat.postMessage", error="ratelimited", headers={"Retry-After": "2"})

    await client.chat_postMessage(channel=CHANNEL, text="Hi")

    assert len(slack.calls_to("chat.postMessage")) == 2
    assert len(slack.in_channel(CHANNEL)) == 1
    assert sleeps.waits == [2.0]


@pytest.mark.parametrize("said", ["²", "soon", "-1"])
async def test_a_retry_after_that_is_no_number_of_seconds_waits_a_second(
    client: MeteredWebClient, slack: SampleSlack, sleeps: Sleeps, said: str
) -> None:
    slack.fail_next("chat.postMessage", error="ratelimited", headers={"Retry-After": said})

    await client.chat_postMessage(channel=CHANNEL, text="Hi")

    assert len(slack.in_channel(CHANNEL)) == 1
    assert sleeps.waits == [1.0]


async def test_a_post_that_could_not_connect_is_tried_again_as_nothing_was_sent(
    sleeps: Sleeps,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on: every connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = client_at(f"http://127.0.0.1:{port}/api/", sleeps)

    with pytest.raises(SlackRetryable, match=r"\(unreachable\)"):
        await client.chat_postMessage(channel=CHANNEL, text="Hi")

    assert sleeps.waits == [0.5, 1.0, 2.0]
