"""Who may act, checked after the ack: refusals are said to the person, and logged."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.blocks.help import build_notice, build_refusal
from bot.errors import StoreUnavailable
from bot.slack.replies import Reply
from bot.slack.services import Services

log = logging.getLogger(__name__)


async def allowed_here(services: Services, reply: Reply, channel: str | None) -> bool:
    """Whether pactbot may be used in `channel` (None: not in a channel, e.g. App Home)."""
    if channel is None or services.authoriser.channel_allowed(channel):
        return True
    log.warning("refused %s in %s: not an allowed channel", reply.user, channel)
    # The allowlist itself is not shown: it would tell anyone where pactbot does work.
    await reply.say(build_refusal("pactbot is not enabled in this channel."))
    return False


async def operator(
    services: Services, reply: Reply, doing: str, groups: Sequence[str] | None = None
) -> bool:
    """Whether the person is an admin or in `groups` (default: the on-call groups); if not,
    tell them who may be `doing` it."""
    # Membership may take Slack calls with retries and waits: never before the ack.
    try:
        if await services.authoriser.may_operate(reply.user, groups):
            return True
    except StoreUnavailable as error:
        log.error("%s cannot %s: %s", reply.user, doing, error)
        await reply.say(build_notice(error.said))
        return False
    log.warning("%s may not %s: not on call or admin", reply.user, doing)
    who = await services.authoriser.who_may(groups)
    await reply.say(build_refusal(f"Only {who} may {doing}."))
    return False
