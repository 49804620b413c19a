"""When Redis goes away, a person pressing a button or asking to silence is told that pactbot
cannot reach its store, never that they may not; `/readyz` names the store; and once Redis is
back, the same press works."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.blocks import kit
from bot.errors import STORE_DOWN
from bot.sample.slack import SampleSlack
from bot.store.redis import RedisStore
from tests.helpers.alert_world import SEARCH, Timeline
from tests.helpers.alerting import Bots, alerts, answer, buttons, evaluate
from tests.helpers.bot import Clock
from tests.helpers.redis_server import RedisServer

NOT_ALLOWED = "may act on this alert"


async def test_a_press_while_the_store_is_down_says_so_and_works_once_it_is_back(
    own_redis: RedisServer, bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    store = RedisStore(Redis.from_url(own_redis.url), clock=clock)
    timeline.stale(SEARCH)
    async with bots(store=store) as bot:
        await evaluate(bot, clock, 7)
        [alert] = alerts(slack)
        own_redis.stop()

        await bot.click(kit.ALERT_ACK, buttons(alert)[kit.ALERT_ACK])
        pressed = await answer(bot, 1)
        await bot.command("silence search-api 2h deploy")
        silenced = await answer(bot, 2)
        await bot.bot.scheduler.check_readiness()
        ready = await bot.http.get(f"{bot.url}/readyz")

        own_redis.start()
        await bot.click(kit.ALERT_ACK, buttons(alert)[kit.ALERT_ACK])
        again = await answer(bot, 3)

    for said in (pressed, silenced):
        assert STORE_DOWN in said.lower()
        assert "may" not in said.replace(STORE_DOWN, "")  # not a refusal
    assert "redis://" not in pressed  # where the store is, is for the operator's logs
    assert ready.status_code == 503
    assert ready.json()["checks"]["store"]["ok"] is False
    assert "Redis store" in ready.json()["checks"]["store"]["detail"]
    assert STORE_DOWN not in again.lower()
    assert NOT_ALLOWED not in again
    assert "acknowledged" in again.lower()
