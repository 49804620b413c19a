"""`pactbot serve`: read the Slack and store settings, then run the bot until stopped."""

from __future__ import annotations

from pydantic import SecretStr

from bot.commands import Context
from bot.service import logs
from bot.service.collector import tune_collector
from bot.service.runtime import assemble, run
from bot.settings import service_settings, slack_settings
from bot.store.factory import open_store


async def serve(context: Context, *, port: int | None) -> int:
    """Run the Slack bot; a setting that is missing or malformed stops it with a sentence."""
    slack = slack_settings()
    service = service_settings(port=port)
    secrets = (
        slack.bot_token,
        slack.signing_secret,
        slack.app_token,
        context.broker.token,
        context.broker.password,
        context.github_token,
    )
    logs.configure(service.pactbot_log_format, _values(secrets))
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


def _values(secrets: tuple[SecretStr | None, ...]) -> list[str]:
    return [secret.get_secret_value() for secret in secrets if secret is not None]
