"""The Slack Web API client pactbot uses: retries that honour Slack, metrics, clear errors."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.errors import SlackError, SlackPermanent, SlackRetryable
from bot.service.metrics import Metrics

Sleep = Callable[[float], Awaitable[None]]
log = logging.getLogger(__name__)

_CONNECTION_ERRORS = (aiohttp.ServerConnectionError, aiohttp.ClientOSError, TimeoutError)
# No connection was made, so nothing was sent.
_NOT_SENT = (aiohttp.ClientConnectorError,)
# Sent twice, these show twice. Slack documents a 429 as not processed; after a 5xx, a timeout
# or a dropped connection the message may well have been posted.
_NOT_IDEMPOTENT = frozenset({"chat.postMessage", "chat.postEphemeral"})
_FIXES = {
    "not_in_channel": "invite the bot to the channel (/invite @pactbot)",
    "channel_not_found": "check the channel (digest.channel in pactbot.yml): it does not exist, "
    "or it is private and the bot is not in it",
    "is_archived": "the channel is archived: choose another",
    "invalid_auth": "SLACK_BOT_TOKEN is not valid: reinstall the app and update the token",
    "not_authed": "SLACK_BOT_TOKEN is not set for this call",
    "token_revoked": "the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "account_inactive": "the app was uninstalled: reinstall it and update SLACK_BOT_TOKEN",
    "missing_scope": "the app lacks a scope it needs: update it from manifest.yml and reinstall",
    "no_such_subteam": "a user group in access.oncall_usergroups does not exist",
    "msg_too_long": "a message was too long (a pactbot bug: please report it)",
    "invalid_blocks": "Slack rejected a message's blocks (a pactbot bug: please report it)",
}
# apps.connections.open is the one call made with the app-level token, not the bot token.
_APP_TOKEN_FIXES = {
    "invalid_auth": "SLACK_APP_TOKEN is not valid: create an app-level token with the "
    "connections:write scope under the Slack app's Basic Information and set it",
    "not_authed": "SLACK_APP_TOKEN is not set for this call",
    "token_revoked": "the app-level token was revoked: create a new one under the Slack app's "
    "Basic Information and update SLACK_APP_TOKEN",
    "not_allowed_token_type": "SLACK_APP_TOKEN is not an app-level token (xapp-…): create one "
    "with the connections:write scope under the Slack app's Basic Information",
}
_RETRYABLE = {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable"}


class SlackRetry(AsyncRetryHandler):
    """Retry 429 after its Retry-After; 5xx and dropped connections with backoff, but posts
    only when they cannot have been sent.

    slack_sdk's own handlers sleep with `asyncio.sleep` and add random jitter; this one takes
    the sleep from the caller, so a test of a 429 takes no time.
    """

    def __init__(self, sleep: Sleep, attempts: int = 3, longest_wait: float = 30.0) -> None:
        super().__init__(max_retry_count=attempts)
        self._sleep = sleep
        self._longest_wait = longest_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            return _retry_after(response) <= self._longest_wait
        if _method(request) in _NOT_IDEMPOTENT:
            return response is None and isinstance(error, _NOT_SENT)
        if response is None:
            return isinstance(error, _CONNECTION_ERRORS)
        return response.status_code >= 500

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        if response is not None and response.status_code == 429:
            wait = _retry_after(response)
        else:
            wait = 0.5 * 2**state.current_attempt
        await self._sleep(wait)
        state.increment_current_attempt()


def _method(request: HttpRequest) -> str:
    """The Web API method a request calls: the last part of its path."""
    return urlsplit(request.url).path.rstrip("/").rpartition("/")[2]


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        value = str(values[0]).strip() if values else ""
        if name.lower() == "retry-after" and value.isascii() and value.isdigit():
            return float(value)
    return 1.0


class MeteredWebClient(AsyncWebClient):
    """An AsyncWebClient that counts and times every call and names every failure."""

    def __init__(self, *, metrics: Metrics, **options: Any) -> None:
        super().__init__(**options)
        self._metrics = metrics

    async def api_call(self, api_method: str, **options: Any) -> AsyncSlackResponse:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await super().api_call(api_method, **options)
        except SlackApiError as error:
            outcome = str(error.response.get("error", "error"))
            raise slack_error(api_method, error) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            outcome = "unreachable"
            raise SlackRetryable(
                api_method, "unreachable", f"{type(error).__name__}: {error}"
            ) from None
        finally:
            self._metrics.slack_call(api_method, outcome, time.perf_counter() - started)


def slack_error(method: str, error: SlackApiError) -> SlackError:
    """Classify Slack's answer: worth retrying later, or fixable only by a person."""
    code = str(error.response.get("error", "unknown_error"))
    if code in _RETRYABLE or error.response.status_code >= 500:
        return SlackRetryable(method, code, "Slack is busy or failing; pactbot tries again later")
    fixes = _FIXES | (_APP_TOKEN_FIXES if method == "apps.connections.open" else {})
    fix = fixes.get(code, "see Slack's documentation of this error")
    needed = error.response.get("needed")
    if code == "missing_scope" and needed:
        fix = f"the app lacks the scope {needed}: update it from manifest.yml and reinstall"
    return SlackPermanent(method, code, fix)


def build_client(
    *, token: str, base_url: str, metrics: Metrics, sleep: Sleep = asyncio.sleep
) -> MeteredWebClient:
    return MeteredWebClient(
        metrics=metrics,
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[SlackRetry(sleep)],
    )
