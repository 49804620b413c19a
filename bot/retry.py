"""Retrying idempotent HTTP reads, shared by the Pact Broker and GitHub clients.

Connection errors, 5xx and 429 are retried with a doubling backoff, or as long as `Retry-After`
asks when that is not too long. What a failure means is left to each client: the retry loop
hands back the last answer (or re-raises the last transport error) and the client classifies it
into its own errors, once, where it knows which credential or setting to name.
"""

from __future__ import annotations

import email.utils
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    backoff: float = 0.5  # doubled after every attempt
    longest_wait: float = 30.0  # a Retry-After beyond this is not waited for


@dataclass(frozen=True, slots=True)
class Answer:
    """The last answer of a retried request, and how it got there."""

    response: httpx.Response
    attempts: int
    # The wait before the retry that was not made (None when the answer was final).
    wait: float | None = None

    @property
    def gave_up(self) -> bool:
        """True when the answer is still one worth retrying: the retries ran out."""
        return retryable(self.response)


def retryable(response: httpx.Response) -> bool:
    return response.status_code == 429 or response.status_code >= 500


async def with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    policy: RetryPolicy,
    sleep: Sleep,
    clock: Clock,
) -> Answer:
    """Call `send` until it answers something not worth retrying or `policy` runs out.

    The last attempt's `httpx.TransportError` propagates; earlier ones are retried."""
    for attempt in range(1, policy.attempts + 1):
        last = attempt == policy.attempts
        backoff = policy.backoff * 2 ** (attempt - 1)
        try:
            response = await send()
        except httpx.TransportError:
            if last:
                raise
            wait = backoff
        else:
            if not retryable(response):
                return Answer(response, attempt)
            wait = retry_after(response, clock) or backoff
            if last or wait > policy.longest_wait:
                return Answer(response, attempt, wait)
        await sleep(wait)
    raise AssertionError("the loop returns or raises on its last attempt")


def retry_after(response: httpx.Response, clock: Clock) -> float | None:
    """The seconds `Retry-After` asks for (a number or an HTTP date), None without one."""
    value = response.headers.get("retry-after", "").strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() too, but float() refuses it
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": no zone given; an HTTP date is in GMT (RFC 9110 §5.6.7)
        when = when.replace(tzinfo=UTC)
    return max((when - clock()).total_seconds(), 0.0)


def transport_failure(error: httpx.TransportError) -> str:
    """Why no HTTP answer came, in a few words for an error message."""
    if isinstance(error, httpx.TimeoutException):
        return "no answer in time (timeout)"
    if isinstance(error, httpx.ConnectError):
        return f"connection failed ({error or 'refused or unknown host'})"
    return f"{type(error).__name__} ({error})" if str(error) else type(error).__name__
