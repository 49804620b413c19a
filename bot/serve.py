"""`pactbot serve`: read the Slack and store settings, then run the bot until stopped."""

from __future__ import annotations

import logging

from bot.commands import Context
from bot.service.collector import tune_collector
from bot.service.runtime import assemble, run
from bot.settings import service_settings, slack_settings
from bot.store.factory import open_store


async def serve(context: Context, *, port: int | None) -> int:
    """Run the Slack bot; a setting that is missing or malformed stops it with a sentence."""
    slack = slack_settings()
    service = service_settings(port=port)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Every job run and every request at INFO would bury what pactbot itself says; their
    # failures still show. /metrics counts the requests.
    for chatty in ("apscheduler", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    store = open_store(service.pactbot_store_url)
    await store.ping()
    async with assemble(
        config=context.config,
        broker=context.broker,
        slack=slack,
        store=store,
        github_api_url=context.github_api_url,
        github_token=context.github_token,
        clock=context.clock,
    ) as bot:
        tune_collector()
        app_token = slack.app_token.get_secret_value() if slack.app_token else None
        await run(bot, port=service.port, app_token=app_token)
    return 0
