"""The fake Slack (bot/sample/slack.py) must answer like Slack: compared key by key with Slack's
own examples (tests/fixtures/slack-api), and driven by the real slack_sdk clients over loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.sample.slack import Message, SampleSlack
from tests.helpers.fixtures import shape
from tests.helpers.slack import SLACK_FIXTURES, slack_fixture
from tests.helpers.slack_requests import signed_headers, slash_command

SHARED = Path(__file__).resolve().parents[3] / "shared" / "slack-api" / "fixtures"
CHANNEL = "C0DIGEST"
Answer = Callable[[AsyncWebClient, SampleSlack], Awaitable[AsyncSlackResponse]]


def client_for(slack: SampleSlack, token: str | None = "xoxb-test") -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.url + "/api/")


@pytest.fixture
def client(slack: SampleSlack) -> AsyncWebClient:
    return client_for(slack)


async def post_with_attachment(client: AsyncWebClient, slack: SampleSlack) -> AsyncSlackResponse:
    attachment = {"text": "This is an attachment", "fallback": "This is an attachment's fallback"}
    return await client.chat_postMessage(channel=CHANNEL, text="Hi", attachments=[attachment])


async def post_then_update(client: AsyncWebClient, slack: SampleSlack) -> AsyncSlackResponse:
    posted = await client.chat_postMessage(channel=CHANNEL, text="Before")
    return await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="After")


async def post_ephemeral(client: AsyncWebClient, slack: SampleSlack) -> AsyncSlackResponse:
    return await client.chat_postEphemeral(channel=CHANNEL, user="U1", text="Only you")


async def publish_home(client: AsyncWebClient, slack: SampleSlack) -> AsyncSlackResponse:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "Home", "verbatim": False}}
    view = {"type": "home", "blocks": [section], "private_metadata": "m", "callback_id": "home"}
    return await client.views_publish(user_id="U1", view=view)


async def open_modal(client: AsyncWebClient, slack: SampleSlack) -> AsyncSlackResponse:
    field = {
        "type": "input",
        "block_id": "a_block_id",
        "label": {"type": "plain_text", "text": "A simple label", "emoji": True},
        "optional": False,
        "element": {"type": "plain_text_input", "action_id": "an_action_id"},
    }
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Rotate"},
        "submit": {"type": "plain_text", "text": "Create"},
        "blocks": [field],
        "private_metadata": "run-7",
        "callback_id": "rotate",
    }
    return await client.views_open(trigger_id="1.2.3", view=view)


async def list_members(client: AsyncWebClient, slack: SampleSlack) -> AsyncSlackResponse:
    slack.usergroups["S0123"] = ["U060R4BJ4", "W123A4BC5"]
    return await client.usergroups_users_list(usergroup="S0123")


async def test_auth_test_answers_with_the_bot_identity_of_the_fixture(
    client: AsyncWebClient,
) -> None:
    answer = await client.auth_test()

    assert answer.data == slack_fixture("api.auth.test.bot.ok.json")
    assert answer.headers["x-oauth-scopes"].split(",")[:2] == ["commands", "chat:write"]


@pytest.mark.parametrize(
    ("answer", "fixture"),
    [
        pytest.param(post_with_attachment, "api.chat.postMessage.ok.json", id="chat.postMessage"),
        pytest.param(post_then_update, "api.chat.update.ok.json", id="chat.update"),
        pytest.param(post_ephemeral, "api.chat.postEphemeral.ok.json", id="chat.postEphemeral"),
        pytest.param(publish_home, "api.views.publish.ok.json", id="views.publish"),
        pytest.param(open_modal, "api.views.open.ok.json", id="views.open"),
        pytest.param(list_members, "api.usergroups.users.list.ok.json", id="usergroups.users.list"),
    ],
    ids=lambda value: (
        value.removeprefix("api.").removesuffix(".ok.json") if isinstance(value, str) else ""
    ),
)
async def test_each_answer_has_the_keys_and_types_of_slacks_example(
    answer: Answer, fixture: str, client: AsyncWebClient, slack: SampleSlack
) -> None:
    response = await answer(client, slack)

    assert shape(response.data) == shape(slack_fixture(fixture))


@pytest.mark.parametrize("code", sorted(slack_fixture("api.errors.catalog.json")))
async def test_each_scripted_error_is_the_catalogs_answer(
    code: str, client: AsyncWebClient, slack: SampleSlack
) -> None:
    entry = slack_fixture("api.errors.catalog.json")[code]
    extra = {key: value for key, value in entry["body"].items() if key not in ("ok", "error")}
    slack.fail_next(entry["methods"][0], error=code, fields=extra)

    with pytest.raises(SlackApiError) as raised:
        await client.api_call(entry["methods"][0])

    assert raised.value.response.status_code == entry["http_status"]
    assert raised.value.response.data == entry["body"]
    for name, value in entry.get("headers", {}).items():
        assert raised.value.response.headers[name] == value


async def test_a_scripted_ratelimit_is_the_http_answer_slack_gives(
    client: AsyncWebClient, slack: SampleSlack
) -> None:
    wanted = slack_fixture("api.error.ratelimited.http.json")
    slack.fail_next("chat.postMessage", error="ratelimited")

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=CHANNEL, text="Hi")

    response = raised.value.response
    assert (response.status_code, response.data) == (wanted["http_status"], wanted["body"])
    assert {name: response.headers[name] for name in wanted["headers"]} == wanted["headers"]


@pytest.mark.parametrize("code", ["channel_not_found", "not_in_channel"])
async def test_a_scripted_error_fails_one_call_and_the_next_succeeds(
    code: str, client: AsyncWebClient, slack: SampleSlack
) -> None:
    slack.fail_next("chat.postMessage", error=code)

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=CHANNEL, text="Hi")
    later = await client.chat_postMessage(channel=CHANNEL, text="Hi")

    assert raised.value.response.data == slack_fixture(f"api.error.{code}.json")
    assert later["ok"] is True
    assert list(slack.messages) == [(CHANNEL, later["ts"])]


async def test_a_scripted_error_can_wait_for_calls_that_succeed_first(
    client: AsyncWebClient, slack: SampleSlack
) -> None:
    slack.fail_next("chat.postMessage", error="not_in_channel", after=2)

    await client.chat_postMessage(channel=CHANNEL, text="One")
    await client.chat_postMessage(channel=CHANNEL, text="Two")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=CHANNEL, text="Three")
    await client.chat_postMessage(channel=CHANNEL, text="Four")

    assert [message.text for message in slack.in_channel(CHANNEL)] == ["One", "Two", "Four"]


async def test_a_5xx_reaches_the_client_as_an_error(
    client: AsyncWebClient, slack: SampleSlack
) -> None:
    slack.fail_next("chat.update", status=503, times=2)

    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await client.chat_update(channel=CHANNEL, ts="1.2", text="Hi")
        assert raised.value.response.status_code == 503

    assert raised.value.response["error"] == "internal_error"
    assert len(slack.calls_to("chat.update")) == 2


async def test_a_429_with_retry_after_0_is_retried_by_the_rate_limit_handler(
    slack: SampleSlack,
) -> None:
    client = AsyncWebClient(
        token="xoxb-test",
        base_url=slack.url + "/api/",
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.fail_next(
        "chat.postMessage", error="ratelimited", status=429, headers={"Retry-After": "0"}
    )

    answer = await client.chat_postMessage(channel=CHANNEL, text="Digest")

    assert answer["ok"] is True
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert [message.text for message in slack.in_channel(CHANNEL)] == ["Digest"]


async def test_a_post_then_an_update_changes_what_the_channel_shows(
    client: AsyncWebClient, slack: SampleSlack
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Stale*"}}]
    posted = await client.chat_postMessage(channel=CHANNEL, text="Stale", blocks=blocks)
    fresh = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Fresh*"}}]

    updated = await client.chat_update(
        channel=posted["channel"], ts=posted["ts"], text="Fresh", blocks=fresh
    )

    assert posted["ts"] == "1733040000.000100"
    assert (updated["channel"], updated["ts"], updated["text"]) == (CHANNEL, posted["ts"], "Fresh")
    assert slack.messages[(CHANNEL, posted["ts"])] == Message(
        CHANNEL, posted["ts"], "Fresh", fresh, edits=1
    )
    assert slack.last("chat.update").body["blocks"] == fresh


async def test_each_post_gets_a_new_later_ts_and_replies_keep_their_thread(
    client: AsyncWebClient, slack: SampleSlack
) -> None:
    parent = await client.chat_postMessage(channel=CHANNEL, text="Run started")
    reply = await client.chat_postMessage(
        channel=CHANNEL, text="Step 1 done", thread_ts=parent["ts"]
    )

    assert float(reply["ts"]) > float(parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]
    assert [message.thread_ts for message in slack.in_channel(CHANNEL)] == [None, parent["ts"]]


async def test_updating_a_message_never_posted_in_that_channel_is_message_not_found(
    client: AsyncWebClient, slack: SampleSlack
) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="Here")

    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C0OTHER", ts=posted["ts"], text="There")

    assert raised.value.response["error"] == "message_not_found"
    assert slack.messages[(CHANNEL, posted["ts"])].text == "Here"


async def test_json_bodies_are_recorded_as_sent(client: AsyncWebClient, slack: SampleSlack) -> None:
    blocks = [{"type": "divider"}]

    await client.chat_postMessage(channel=CHANNEL, text="Digest", blocks=blocks, unfurl_links=False)

    call = slack.last("chat.postMessage")
    assert (call.http_method, call.headers["content-type"]) == (
        "POST",
        "application/json;charset=utf-8",
    )
    assert call.body == {
        "channel": CHANNEL,
        "text": "Digest",
        "blocks": blocks,
        "unfurl_links": False,
    }


async def test_the_home_view_is_kept_per_user(client: AsyncWebClient, slack: SampleSlack) -> None:
    await publish_home(client, slack)

    assert slack.home_views["U1"]["type"] == "home"
    assert slack.last("views.publish").body["view"]["callback_id"] == "home"


async def test_a_trigger_id_opens_one_modal(client: AsyncWebClient, slack: SampleSlack) -> None:
    await open_modal(client, slack)

    with pytest.raises(SlackApiError) as raised:
        await open_modal(client, slack)

    assert raised.value.response["error"] == "exchanged_trigger_id"


async def test_usergroup_members_come_from_the_test_and_unknown_groups_are_no_such_subteam(
    client: AsyncWebClient, slack: SampleSlack
) -> None:
    slack.usergroups["S0123"] = ["U1", "U2"]

    members = await client.usergroups_users_list(usergroup="S0123")
    with pytest.raises(SlackApiError) as raised:
        await client.usergroups_users_list(usergroup="S0BAD")

    assert members["users"] == ["U1", "U2"]
    assert raised.value.response["error"] == "no_such_subteam"
    assert [(call.http_method, call.body) for call in slack.calls_to("usergroups.users.list")] == [
        ("GET", {"usergroup": "S0123"}),
        ("GET", {"usergroup": "S0BAD"}),
    ]


async def test_usergroups_list_names_each_configured_group(
    client: AsyncWebClient, slack: SampleSlack
) -> None:
    slack.add_usergroup("S0OPS", "pact-ops", ["U1", "U2"])

    answer = await client.usergroups_list(include_users=True)

    [group] = answer["usergroups"]
    assert (group["id"], group["handle"], group["users"], group["user_count"]) == (
        "S0OPS",
        "pact-ops",
        ["U1", "U2"],
        "2",
    )


async def test_conversations_info_knows_only_the_configured_channels(
    client: AsyncWebClient, slack: SampleSlack
) -> None:
    slack.add_channel(CHANNEL, "pact-digest", is_member=False)

    info = await client.conversations_info(channel=CHANNEL)
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_info(channel="C0NONE")

    assert (info["channel"]["name"], info["channel"]["is_member"]) == ("pact-digest", False)
    assert raised.value.response["error"] == "channel_not_found"


async def test_the_app_token_opens_a_socket_mode_connection_on_the_same_host(
    slack: SampleSlack,
) -> None:
    answer = await client_for(slack, token=None).apps_connections_open(app_token="xapp-test")

    assert answer["url"].startswith(slack.url.replace("http", "ws", 1) + "/link/?ticket=")


@pytest.mark.parametrize(("token", "error"), [("xoxb-wrong", "invalid_auth"), (None, "not_authed")])
async def test_a_wrong_or_missing_token_is_refused_like_slack_does(
    token: str | None, error: str, slack: SampleSlack
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client_for(slack, token).chat_postMessage(channel=CHANNEL, text="Hi")

    assert (raised.value.response.status_code, raised.value.response.data) == (
        200,
        {"ok": False, "error": error},
    )
    assert slack.messages == {}


async def test_a_webhook_post_to_a_response_url_is_recorded(slack: SampleSlack) -> None:
    url = slack.response_url()

    answer = await AsyncWebhookClient(url).send(text="Only you", response_type="ephemeral")

    assert (answer.status_code, answer.body) == (200, "ok")
    assert slack.responses == [{"text": "Only you", "response_type": "ephemeral"}]
    assert slack.last("respond").path == url.removeprefix(slack.url)
    assert slack.response_url() != url


async def test_a_scripted_failure_of_a_response_url_reaches_the_webhook_client(
    slack: SampleSlack,
) -> None:
    slack.fail_next("respond", error="used_url", status=404)

    answer = await AsyncWebhookClient(slack.response_url()).send(text="Sixth")

    assert (answer.status_code, answer.body) == (404, "used_url")


async def test_wait_for_returns_the_calls_once_they_arrive(
    client: AsyncWebClient, slack: SampleSlack
) -> None:
    posting = asyncio.create_task(client.chat_postMessage(channel=CHANNEL, text="Later"))

    [call] = await slack.wait_for("chat.postMessage")

    assert call.body["text"] == "Later"
    await posting


async def test_wait_for_gives_up_after_its_timeout(slack: SampleSlack) -> None:
    with pytest.raises(TimeoutError, match=r"0 of 1 chat\.update calls after 0\.05 s"):
        await slack.wait_for("chat.update", timeout=0.05)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/ is not next to this checkout")
def test_the_copied_fixtures_equal_the_shared_ones() -> None:
    ours = {
        path.relative_to(SLACK_FIXTURES): path.read_bytes()
        for path in SLACK_FIXTURES.rglob("*")
        if path.is_file() and path.name != "README.md"
    }
    theirs = {
        path.relative_to(SHARED): path.read_bytes() for path in SHARED.rglob("*") if path.is_file()
    }

    assert ours.keys() == theirs.keys()
    assert [name for name in ours if ours[name] != theirs[name]] == []


async def test_a_bolt_app_accepts_the_signed_requests_and_talks_to_the_fake(
    client: AsyncWebClient, slack: SampleSlack
) -> None:
    app = AsyncApp(client=client, signing_secret="test-secret")

    @app.command("/pact")
    async def pact(ack: AsyncAck, respond: AsyncRespond, say: AsyncSay) -> None:
        await ack()
        await respond("Checking")
        await say("Digest")

    body = slash_command("status", response_url=slack.response_url())
    # Bolt checks the signature against the real clock.
    headers: dict[str, str | Sequence[str]] = {
        **signed_headers(body, "test-secret", int(time.time()))
    }

    acked = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
    await slack.wait_for("chat.postMessage")

    assert acked.status == 200
    assert slack.responses == [{"text": "Checking"}]
    assert [message.text for message in slack.in_channel("C0DIGEST")] == ["Digest"]
    assert len(slack.calls_to("auth.test")) == 1


async def test_malformed_arguments_are_invalid_arguments(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.api_call("views.publish", json={"user_id": "U1", "view": "{not json"})

    assert raised.value.response["error"] == "invalid_arguments"
