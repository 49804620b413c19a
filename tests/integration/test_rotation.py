"""The PAT rotation walk-through as the channel sees it, on the sample broker and Slack.

`/pact rotate` (or "Start rotation") posts one message that is edited as it moves; each move
is told in its thread with who and when, and kept in the store's audit log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.blocks import kit
from bot.sample.broker import Fault, SampleBroker
from bot.sample.github import Failure, SampleGitHub
from bot.sample.slack import Message, SampleSlack
from bot.sample.story import ORDERS_WEBHOOK, demo_world
from bot.sample.world import GITHUB_ACCEPTED, GITHUB_NOT_FOUND, World
from bot.service.rotation_records import AUDIT
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from tests.conftest import GITHUB_TOKEN, StartBroker
from tests.helpers import slack_requests
from tests.helpers.alerting import answer, buttons, now_shown, shown, thread
from tests.helpers.bot import ADMIN, CHANNEL, ONCALL_USER, STRANGER, Clock, Running, running_bot
from tests.helpers.canaries import add_canary
from tests.helpers.stores import NewStore
from tests.integration.test_slack_command import texts

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
ORDERS = ("web-app", "orders-api")


@pytest.fixture
def world() -> World:
    return demo_world(NOW)


@pytest.fixture
def broker(start_broker: StartBroker, world: World) -> SampleBroker:
    return start_broker(world)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "pactbot.sqlite3"


@pytest.fixture
async def bot(
    broker: SampleBroker, slack: SampleSlack, store_path: Path, clock: Clock
) -> AsyncIterator[Running]:
    store = SqliteStore(store_path, clock=clock)
    async with running_bot(broker=broker, slack=slack, store=store, clock=clock) as running:
        await running.bot.services.monitor.refresh()
        yield running


@pytest.fixture
async def github_bot(
    broker: SampleBroker, slack: SampleSlack, store_path: Path, clock: Clock, github: SampleGitHub
) -> AsyncIterator[Running]:
    """The bot with GITHUB_TOKEN set, talking to the sample GitHub."""
    store = SqliteStore(store_path, clock=clock)
    async with running_bot(
        broker=broker, slack=slack, store=store, clock=clock, github=github
    ) as running:
        await running.bot.services.monitor.refresh()
        yield running


def rotation_message(slack: SampleSlack) -> Message:
    [message] = [
        m
        for m in slack.in_channel(CHANNEL)
        if m.thread_ts is None and "token" in m.text.lower() and "rotat" in m.text.lower()
    ]
    return slack.messages[(message.channel, message.ts)]


async def start(bot: Running, text: str = "rotate orders-api") -> Message:
    answered = len(bot.slack.calls_to("respond"))
    await bot.command(text)
    # The message in the channel, then the answer that replaces "Checking…".
    await bot.slack.wait_until(
        lambda: bool(_rotations(bot.slack)) and len(bot.slack.calls_to("respond")) > answered
    )
    return rotation_message(bot.slack)


def _rotations(slack: SampleSlack) -> list[Message]:
    return [m for m in slack.in_channel(CHANNEL) if m.thread_ts is None and "Step" in shown(m)]


async def press(bot: Running, action_id: str, *, user: str = ONCALL_USER) -> str | None:
    """Press the rotation's `action_id` button as `user`; what they were told, if anything."""
    before = rotation_message(bot.slack)
    edits, answered = before.edits, len(bot.slack.calls_to("respond"))
    notes = len(thread(bot.slack, before))
    await bot.click(action_id, buttons(before)[action_id], user=user)

    def done() -> bool:
        moved = rotation_message(bot.slack).edits > edits
        told = len(thread(bot.slack, before)) > notes  # the move's line in the thread
        return (moved and told) or len(bot.slack.calls_to("respond")) > answered

    await bot.slack.wait_until(done)
    responds = bot.slack.calls_to("respond")
    return texts(responds[-1].body) if len(responds) > answered else None


async def to_retest(bot: Running) -> Message:
    """Through steps 1 to 5: the dead token confirmed, a new one generated and pasted in."""
    message = await start(bot)
    await press(bot, kit.ROTATION_TEST)
    for _ in range(4):
        await press(bot, kit.ROTATION_DONE)
    return message


async def to_watch(bot: Running, world: World, clock: Clock) -> Message:
    """To step 7: the secret holds the new token, and the re-test passed."""
    message = await to_retest(bot)
    clock.advance(minutes=5)  # signing in, generating, pasting; one Test a minute
    world.webhooks[ORDERS_WEBHOOK].target = GITHUB_ACCEPTED
    await press(bot, kit.ROTATION_TEST)
    return message


async def test_the_whole_walk_through_from_401_to_a_verified_fix(
    bot: Running, slack: SampleSlack, world: World, broker: SampleBroker, clock: Clock
) -> None:
    message = await start(bot)
    assert "Step 1 of 8 · Confirm the diagnosis" in shown(message)
    assert set(buttons(message)) == {kit.ROTATION_TEST, kit.ROTATION_DONE, kit.ROTATION_CANCEL}

    assert await press(bot, kit.ROTATION_TEST) is None  # 401: confirmed, moves on
    step = now_shown(slack, message)
    assert "Step 2 of 8 · Sign in to GitHub as the machine user" in step
    assert "rejected the token (HTTP 401" in step
    assert "Not your own account" in step

    await press(bot, kit.ROTATION_DONE)
    step = now_shown(slack, message)
    assert "Step 3 of 8" in step
    assert (
        # As mrkdwn carries it: Slack turns &amp; back into & in the link.
        "https://github.com/settings/tokens/new?scopes=repo&amp;description=pactflow-webhook-2026-12-01"
    ) in step
    assert "No expiration" in step

    await press(bot, kit.ROTATION_DONE)
    assert "Never paste it into Slack" in now_shown(slack, message)
    await press(bot, kit.ROTATION_DONE)
    step = now_shown(slack, message)
    assert f"{broker.url}/settings/secrets" in step
    assert "*githubToken*" in step

    await press(bot, kit.ROTATION_DONE)
    assert "Step 6 of 8 · Test again" in now_shown(slack, message)
    assert kit.ROTATION_DONE not in buttons(rotation_message(slack))

    clock.advance(minutes=5)  # one Test per webhook per minute
    world.webhooks[ORDERS_WEBHOOK].target = GITHUB_ACCEPTED  # the secret holds the new token
    await press(bot, kit.ROTATION_TEST)
    step = now_shown(slack, message)
    assert "Step 7 of 8 · Watch the provider's run" in step
    assert "acme/orders-api/actions?query=event%3Arepository_dispatch" in step
    assert "web-app → orders-api, waiting since" in step
    # The webhook fires for every consumer of orders-api: one Test cannot verify them all.
    assert "re-run the provider's main build" in step

    await press(bot, kit.ROTATION_DONE)
    assert "Step 8 of 8 · Revoke the old token" in now_shown(slack, message)
    clock.advance(minutes=20)
    await press(bot, kit.ROTATION_DONE)

    finished = now_shown(slack, message)
    assert "Token rotated. Finished by <@U0ONCALL>" in finished
    assert "25m after it started" in finished
    assert broker.count("/execute$") == 2  # the two Tests, and nothing else ran one

    notes = thread(slack, rotation_message(slack))
    assert len(notes) == 9  # started, then each of the 8 steps done (two by their Test)
    assert "revoked the old token: the rotation is finished" in notes[-1]
    assert all("<@U0ONCALL>" in note for note in notes)
    assert "ran the Test" in notes[1]
    assert "Diagnosis confirmed" in notes[1]
    audit = await bot.bot.services.rotations._store.audit(AUDIT)
    assert [(entry["stage"], entry["what"][:22]) for entry in audit] == [
        (1, "started the rotation"),
        (2, "ran the Test: GitHub ("),
        (3, "finished step 2"),
        (4, "finished step 3"),
        (5, "finished step 4"),
        (6, "finished step 5"),
        (7, "ran the Test: GitHub ("),
        (8, "finished step 7"),
        (8, "revoked the old token:"),
    ]
    assert {(entry["rotation"], entry["webhook"], entry["by"]) for entry in audit} == {
        (audit[0]["rotation"], ORDERS_WEBHOOK, ONCALL_USER)
    }
    assert [entry["at"] for entry in audit][-1] == "2026-12-01T03:25:00+00:00"
    assert audit[-1]["outcome"] == "finished"
    assert audit[-1]["duration_seconds"] == 25 * 60
    last = await bot.bot.services.rotations.last()
    assert last[ORDERS_WEBHOOK].by == ONCALL_USER


async def test_a_day_of_watching_ticks_each_held_up_pair_off_as_it_is_verified(
    bot: Running, slack: SampleSlack, world: World, clock: Clock
) -> None:
    message = await to_watch(bot, world, clock)
    assert "1 still waiting" in now_shown(slack, message)

    clock.advance(minutes=10)
    with world.lock:
        world.verify(world.latest(*ORDERS), at=clock())
    await bot.bot.scheduler.renew_lease()
    await bot.bot.scheduler.watch_rotations()

    shows = now_shown(slack, message)
    assert "1 pair, verified since" in shows
    assert ":white_check_mark: web-app → orders-api, verified" in shows


async def test_pairs_still_waiting_a_day_after_the_fix_are_said_in_the_channel(
    bot: Running, slack: SampleSlack, world: World, clock: Clock
) -> None:
    message = await to_watch(bot, world, clock)
    await bot.bot.scheduler.renew_lease()

    clock.advance(hours=24)
    await bot.bot.scheduler.watch_rotations()
    await bot.bot.scheduler.watch_rotations()  # said once

    said = [m for m in slack.in_channel(CHANNEL) if m.thread_ts == message.ts and m.broadcast]
    assert len(said) == 1
    assert "1 pair still waits for a verification: web-app → orders-api" in shown(said[0])


async def test_a_failing_retest_stays_on_step_six_and_says_what_the_status_means(
    bot: Running, slack: SampleSlack, world: World, clock: Clock
) -> None:
    message = await to_retest(bot)

    clock.advance(minutes=2)  # one Test per webhook per minute
    await press(bot, kit.ROTATION_TEST)  # the secret still holds the dead token
    assert "the secret was not updated" in now_shown(slack, message)
    world.webhooks[ORDERS_WEBHOOK].target = GITHUB_NOT_FOUND
    clock.advance(minutes=2)
    await press(bot, kit.ROTATION_TEST)

    step = now_shown(slack, message)
    assert "Step 6 of 8" in step
    assert "lacks the repo scope" in step
    value = buttons(rotation_message(slack))[kit.ROTATION_TEST]  # a Done from an old client
    await bot.click(kit.ROTATION_DONE, value)
    told = await answer(bot, 2)
    assert "step 6 moves on when the Test passes" in told
    await press(bot, kit.ROTATION_BACK)  # to check the secret again
    assert "Step 5 of 8 · Paste it into the PactFlow secret" in now_shown(slack, message)
    assert "went back to step 5" in thread(slack, message)[-1]


async def test_with_a_canary_step_six_asks_it_and_starts_no_ci_run(
    bot: Running, slack: SampleSlack, world: World, broker: SampleBroker, clock: Clock
) -> None:
    canary = "canaryGithubTokenAbCdE"
    add_canary(world, canary)  # it asks about githubToken, the secret orders-api sends
    await bot.bot.services.monitor.refresh()
    message = await to_retest(bot)
    assert "Run test asks the webhook's canary" in now_shown(slack, message)

    clock.advance(minutes=5)
    await press(bot, kit.ROTATION_TEST)  # the secret still holds the dead token
    step = now_shown(slack, message)
    assert "Step 6 of 8" in step
    assert "The canary (no CI run), asked by <@U0ONCALL>" in step
    assert "Still 401: the secret was not updated" in step
    clock.advance(minutes=5)
    world.webhooks[ORDERS_WEBHOOK].target = GITHUB_ACCEPTED  # the secret holds the new token
    await press(bot, kit.ROTATION_TEST)

    step = now_shown(slack, message)
    assert "Step 7 of 8 · Watch the held-up pairs" in step
    assert "no CI run started" in step
    assert "web-app → orders-api, waiting since" in step
    assert kit.ROTATION_CHECK not in buttons(rotation_message(slack))
    assert "asked the canary (no CI run): GitHub accepted the token" in thread(slack, message)[-1]
    assert broker.count(f"/webhooks/{ORDERS_WEBHOOK}/execute$") == 1  # step 1's Test only
    assert broker.count(f"/webhooks/{canary}/execute$") == 2


async def test_a_double_click_moves_one_step(bot: Running, slack: SampleSlack) -> None:
    message = await start(bot)
    await press(bot, kit.ROTATION_DONE)  # step 1 → 2
    value = buttons(rotation_message(slack))[kit.ROTATION_DONE]

    await asyncio.gather(
        bot.click(kit.ROTATION_DONE, value), bot.click(kit.ROTATION_DONE, value, user=ADMIN)
    )
    await bot.slack.wait_until(
        lambda: len(slack.calls_to("respond")) >= 2 and rotation_message(slack).edits >= 2
    )

    assert "Step 3 of 8" in now_shown(slack, message)
    refusals = [texts(call.body) for call in slack.calls_to("respond")]
    assert sum("this rotation is at step 3 now" in said for said in refusals) == 1


async def moved_unshown(bot: Running, slack: SampleSlack) -> Message:
    """A rotation's message, moved past step 1 by its Done button while Slack failed every
    edit: its thread says so, the message does not."""
    message = await start(bot)
    value = buttons(rotation_message(slack))[kit.ROTATION_DONE]
    slack.fail_next("chat.update", status=503, times=4)  # the move's edit never arrives
    await bot.click(kit.ROTATION_DONE, value)
    await slack.wait_until(lambda: any("finished step 1" in t for t in thread(slack, message)))
    return message


async def test_a_press_on_a_message_that_missed_an_edit_shows_the_step_it_is_at(
    bot: Running, slack: SampleSlack
) -> None:
    message = await moved_unshown(bot, slack)
    assert "Step 1 of 8" in now_shown(slack, message)

    told = await press(bot, kit.ROTATION_DONE)  # on the step the message still shows

    assert told is not None
    assert "this rotation is at step 2 now" in told
    assert "Step 2 of 8" in now_shown(slack, message)  # with step 2's buttons, to go on
    assert await press(bot, kit.ROTATION_DONE) is None
    assert "Step 3 of 8" in now_shown(slack, message)


async def test_a_message_that_missed_its_last_edit_is_shown_again_by_the_leader(
    bot: Running, slack: SampleSlack, clock: Clock
) -> None:
    message = await moved_unshown(bot, slack)
    assert "Step 1 of 8" in now_shown(slack, message)  # and nobody presses again
    await bot.bot.scheduler.renew_lease()
    await bot.bot.scheduler.watch_rotations()
    assert "Step 1 of 8" in now_shown(slack, message)  # a late edit may still land

    clock.advance(seconds=61)
    await bot.bot.scheduler.watch_rotations()

    assert "Step 2 of 8" in now_shown(slack, message)


async def test_two_people_running_the_test_at_once_run_one(
    bot: Running, slack: SampleSlack, broker: SampleBroker
) -> None:
    await start(bot)
    value = buttons(rotation_message(slack))[kit.ROTATION_TEST]

    await asyncio.gather(
        bot.click(kit.ROTATION_TEST, value), bot.click(kit.ROTATION_TEST, value, user=ADMIN)
    )
    await bot.slack.wait_until(
        lambda: len(slack.calls_to("respond")) >= 2 and rotation_message(slack).edits >= 1
    )

    assert broker.count("/execute$") == 1
    assert "Step 2 of 8" in shown(rotation_message(slack))


async def test_someone_not_on_call_changes_nothing_and_is_told_who_may(
    bot: Running, slack: SampleSlack
) -> None:
    message = await start(bot)

    told = await press(bot, kit.ROTATION_DONE, user=STRANGER)

    assert told is not None
    assert "may act on this rotation" in told
    assert "Step 1 of 8" in now_shown(slack, message)


async def test_a_second_rotate_links_to_the_running_one(bot: Running, slack: SampleSlack) -> None:
    message = await start(bot)

    await bot.command("rotate orders-api", user=ADMIN)
    await bot.slack.wait_until(lambda: len(slack.calls_to("respond")) >= 2)

    said = texts(slack.calls_to("respond")[-1].body)
    assert "being rotated already, started by <@U0ONCALL>" in said
    assert f"https://slack.com/archives/{CHANNEL}/p{message.ts.replace('.', '')}" in said
    assert len(_rotations(slack)) == 1


async def test_a_cancelled_rotation_says_who_cancelled_it_and_refuses_old_buttons(
    bot: Running, slack: SampleSlack
) -> None:
    message = await start(bot)
    old_done = buttons(rotation_message(slack))[kit.ROTATION_DONE]

    await press(bot, kit.ROTATION_CANCEL, user=ADMIN)
    assert "Cancelled by <@U0ADMIN1>" in now_shown(slack, message)
    assert buttons(rotation_message(slack)) == {}
    await bot.click(kit.ROTATION_DONE, old_done)
    await bot.slack.wait_until(lambda: len(slack.calls_to("respond")) >= 2)

    assert "this rotation is over: cancelled by <@U0ADMIN1>" in texts(
        slack.calls_to("respond")[-1].body
    )
    await bot.command("rotate orders-api")  # the webhook is free again
    await bot.slack.wait_until(lambda: bool(_rotations(slack)))


async def test_a_rotation_resumes_after_a_restart_from_the_store(
    broker: SampleBroker, slack: SampleSlack, new_store: NewStore, clock: Clock
) -> None:
    async with running_bot(broker=broker, slack=slack, store=new_store(), clock=clock) as first:
        await first.bot.services.monitor.refresh()
        message = await start(first)
        await press(first, kit.ROTATION_DONE)
        await press(first, kit.ROTATION_DONE)

    async with running_bot(broker=broker, slack=slack, store=new_store(), clock=clock) as second:
        await second.bot.services.monitor.refresh()
        await press(second, kit.ROTATION_DONE)
        await second.command("rotate orders-api")  # still the one rotation of the webhook
        await slack.wait_until(lambda: "being rotated already" in texts(slack.responses[-1]))

    assert "Step 4 of 8 · Copy it" in now_shown(slack, message)


async def test_the_start_rotation_button_of_a_failed_test_starts_one(
    bot: Running, slack: SampleSlack
) -> None:
    await bot.click(kit.ROTATION_START, ORDERS_WEBHOOK)
    await bot.slack.wait_until(lambda: bool(_rotations(slack)))

    assert "Step 1 of 8" in shown(rotation_message(slack))


async def test_a_token_typed_into_rotate_is_refused_and_not_echoed(
    bot: Running, slack: SampleSlack
) -> None:
    token = "ghp_" + "a1B2" * 9
    answer = await bot.command(f"rotate {token}")

    assert "revoke" in answer.text
    assert token not in answer.text


async def test_a_rotation_its_message_cannot_be_posted_for_is_not_kept(
    bot: Running, slack: SampleSlack
) -> None:
    slack.fail_next("chat.postMessage", error="not_in_channel")

    await bot.command("rotate orders-api")
    await bot.slack.wait_until(lambda: len(slack.calls_to("respond")) >= 1)

    assert "cannot be posted here" in texts(slack.calls_to("respond")[-1].body)
    await bot.command("rotate orders-api")
    await bot.slack.wait_until(lambda: bool(_rotations(slack)))


async def test_rotate_of_an_unknown_provider_says_which_there_are(bot: Running) -> None:
    await bot.command("rotate order-api")
    answers = await bot.slack.wait_for("respond")

    said = texts(answers[-1].body)
    assert "'order-api'" in said
    assert "orders-api" in said  # the closest name
    assert _rotations(bot.slack) == []


async def test_a_webhook_that_does_not_dispatch_to_github_has_no_token_to_rotate(
    bot: Running, world: World
) -> None:
    world.add_webhook(
        "ciHookAbCdEfGhIjKlMnOp", url="https://ci.example.com/hooks/pact", provider="orders-api"
    )
    await bot.bot.services.monitor.refresh()

    await bot.command("rotate ciHookAbCdEfGhIjKlMnOp")
    answers = await bot.slack.wait_for("respond")

    assert "does not dispatch to GitHub: it has no token to rotate" in texts(answers[-1].body)
    assert _rotations(bot.slack) == []


async def test_two_replicas_pressing_done_at_once_move_one_step(
    broker: SampleBroker, slack: SampleSlack, redis_url: str, redis_prefix: str, clock: Clock
) -> None:
    def store() -> RedisStore:
        return RedisStore(Redis.from_url(redis_url), prefix=redis_prefix, clock=clock)

    async with (
        running_bot(broker=broker, slack=slack, store=store(), clock=clock) as one,
        running_bot(
            broker=broker, slack=slack, store=store(), clock=clock, holder="replica-2"
        ) as two,
    ):
        await one.bot.services.monitor.refresh()
        await two.bot.services.monitor.refresh()
        message = await start(one)
        value = buttons(rotation_message(slack))[kit.ROTATION_DONE]

        await asyncio.gather(
            one.click(kit.ROTATION_DONE, value), two.click(kit.ROTATION_DONE, value, user=ADMIN)
        )
        await slack.wait_until(
            lambda: len(slack.calls_to("respond")) >= 2 and rotation_message(slack).edits >= 1
        )

    assert "Step 2 of 8" in now_shown(slack, message)
    assert (
        sum("this rotation is at step 2 now" in said for said in map(texts, slack.responses)) == 1
    )


async def test_with_github_step_7_finds_the_run_the_retest_started_and_its_conclusion(
    github_bot: Running, slack: SampleSlack, clock: Clock, world: World, github: SampleGitHub
) -> None:
    bot = github_bot
    github.add_run("acme/orders-api", clock() - timedelta(hours=1))  # an older dispatch
    message = await to_watch(bot, world, clock)
    assert kit.ROTATION_CHECK in buttons(rotation_message(slack))

    await press(bot, kit.ROTATION_CHECK)
    assert "looked for the provider's run: none yet" in thread(slack, message)[-1]
    run = github.add_run("acme/orders-api", clock() + timedelta(seconds=20))
    clock.advance(minutes=1)
    await press(bot, kit.ROTATION_CHECK)
    assert "queued" in now_shown(slack, message)
    github.finish(run.id, "success")
    await press(bot, kit.ROTATION_CHECK)

    step = now_shown(slack, message)
    assert ":white_check_mark:" in step
    assert f"actions/runs/{run.id}" in step
    assert "success" in thread(slack, message)[-1]


async def test_github_failing_is_said_and_the_rotation_stays_where_it_was(
    github_bot: Running, slack: SampleSlack, clock: Clock, world: World, github: SampleGitHub
) -> None:
    bot = github_bot
    message = await to_watch(bot, world, clock)
    github.fail(Failure.BAD_CREDENTIALS)

    told = await press(bot, kit.ROTATION_CHECK)

    assert told is not None
    assert "GitHub could not be asked: GitHub rejected GITHUB_TOKEN" in told
    assert GITHUB_TOKEN not in told
    assert "Step 7 of 8" in now_shown(slack, message)


async def finish(bot: Running, world: World, clock: Clock) -> None:
    """A whole rotation of the orders-api token, by the person on call."""
    await to_watch(bot, world, clock)
    for _ in range(2):
        await press(bot, kit.ROTATION_DONE)


async def test_status_the_digest_and_app_home_say_when_the_token_was_last_rotated_and_by_whom(
    bot: Running, slack: SampleSlack, world: World, clock: Clock
) -> None:
    await finish(bot, world, clock)
    rotated = (
        "token last rotated <!date^1796094300^{date_short_pretty}|2026-12-01 03:05 UTC> "
        "by <@U0ONCALL>"
    )

    status = texts((await bot.command("status orders")).json())  # answered in the ack
    await bot.command("digest")
    await bot.post(
        slack_requests.event(
            {"type": "app_home_opened", "user": ONCALL_USER, "channel": "D0HOME", "tab": "home"}
        )
    )
    [home] = await slack.wait_for("views.publish")
    await slack.wait_until(
        lambda: any("Pact freshness" in m.text for m in slack.in_channel(CHANNEL))
    )

    digest = next(shown(m) for m in slack.in_channel(CHANNEL) if "Pact freshness" in m.text)
    for said in (status, digest, texts(home.body["view"])):
        assert rotated in said
        assert "practice rotation" not in said


async def test_a_year_after_the_last_rotation_the_digest_suggests_a_practice_one(
    bot: Running, slack: SampleSlack, world: World, clock: Clock
) -> None:
    await finish(bot, world, clock)
    clock.advance(days=366)
    await bot.bot.services.monitor.refresh()

    await bot.command("digest")
    await slack.wait_until(
        lambda: any("Pact freshness" in m.text for m in slack.in_channel(CHANNEL))
    )

    digest = next(shown(m) for m in slack.in_channel(CHANNEL) if "Pact freshness" in m.text)
    assert "over 365d ago: time for a practice rotation (`/pact rotate orders-api`)" in digest


async def test_the_leader_follows_the_providers_run_on_step_7_without_a_click(
    github_bot: Running, slack: SampleSlack, clock: Clock, world: World, github: SampleGitHub
) -> None:
    bot = github_bot
    message = await to_watch(bot, world, clock)
    run = github.add_run("acme/orders-api", clock() + timedelta(seconds=5))
    await bot.bot.scheduler.renew_lease()

    clock.advance(minutes=5)
    await bot.bot.scheduler.watch_rotations()
    assert "queued" in now_shown(slack, message)
    github.finish(run.id, "failure")
    clock.advance(minutes=5)
    await bot.bot.scheduler.watch_rotations()
    edits = rotation_message(slack).edits
    clock.advance(minutes=5)
    await bot.bot.scheduler.watch_rotations()  # concluded: no more looking

    assert ":x:" in now_shown(slack, message)
    assert "failure" in now_shown(slack, message)
    assert rotation_message(slack).edits == edits
    assert github.count("GET") == 2


async def test_a_test_the_broker_fails_keeps_the_rotation_where_it_was_and_says_why(
    bot: Running, slack: SampleSlack, broker: SampleBroker
) -> None:
    message = await start(bot)
    broker.inject(f"/webhooks/{ORDERS_WEBHOOK}/execute$", Fault(500))

    told = await press(bot, kit.ROTATION_TEST)

    assert told is not None
    assert "the Test could not run" in told
    assert "Step 1 of 8" in now_shown(slack, message)


async def test_the_watch_waits_while_the_broker_cannot_be_read(
    bot: Running, slack: SampleSlack, world: World, broker: SampleBroker, clock: Clock
) -> None:
    message = await to_watch(bot, world, clock)
    await bot.bot.scheduler.renew_lease()
    with world.lock:
        world.verify(world.latest(*ORDERS), at=clock())
    broker.inject(
        "/dashboard",
        Fault(502, body=b"<html>Bad gateway</html>", content_type="text/html", times=None),
    )

    await bot.bot.scheduler.watch_rotations()
    assert "1 still waiting" in now_shown(slack, message)
    broker.heal()
    await bot.bot.scheduler.watch_rotations()

    assert "1 pair, verified since" in now_shown(slack, message)
