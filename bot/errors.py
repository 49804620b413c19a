"""Every error pactbot reports, in one tree, each worded for the person who has to act on it.

    PactbotError               a sentence for a person; the CLI prints it and exits 2
    ├── ConfigError            the config file, a flag or an environment variable is wrong
    ├── UsageError             a command was given arguments it cannot work with
    ├── StoreUnavailable       the store (SQLite file or Redis) cannot be read or written
    ├── SlackError             Slack refused a call
    │   ├── SlackRetryable     rate limited, 5xx or unreachable after retries: try later
    │   └── SlackPermanent     will fail again until a person fixes something (the fix is said)
    ├── BrokerError            anything the Pact Broker (or the way to it) did
    │   ├── BrokerUnreachable  no HTTP answer at all: DNS, refused, TLS, timeout
    │   ├── BrokerAuthRejected 401: the credentials are wrong or missing
    │   ├── BrokerForbidden    403: the credentials are right but may not do this
    │   ├── BrokerNotFound     404: no such pacticipant, pair or webhook
    │   ├── BrokerServerError  5xx or 429 that did not clear after retries
    │   └── BrokerBadResponse  an answer that is not the JSON we need (HTML, garbage,
    │                          a missing field, an unexpected status)
    └── GitHubError            GitHub's REST API (read with GITHUB_TOKEN) could not answer;
                               `status` is its HTTP status, None when no answer came

Errors are classified once, where the HTTP answer arrives (`bot.broker.client`,
`bot.github.client`); everything above that layer only reads `str(error)`. No message ever
carries a credential.
"""

from __future__ import annotations

from collections.abc import Sequence


class PactbotError(Exception):
    """An error with a message meant for a person."""

    @property
    def said(self) -> str:
        """What a person in Slack is told; the logs get `str()`, which may say more."""
        return str(self)


class ConfigError(PactbotError):
    """The configuration cannot be used."""


class UsageError(PactbotError):
    """A command's arguments cannot be acted on."""


class StoreUnavailable(PactbotError):
    """The store did not answer; what was being done is not lost, just not done yet."""

    @property
    def said(self) -> str:
        # Where the store is and what its driver said help the operator, not the person who
        # clicked; an unreachable store must never read as "you may not" either.
        return STORE_DOWN


STORE_DOWN = "pactbot cannot reach its store; try again in a minute"


class SlackError(PactbotError):
    def __init__(self, method: str, error: str, detail: str) -> None:
        super().__init__(f"Slack refused {method} ({error}): {detail}")
        self.method = method
        self.error = error


class SlackRetryable(SlackError):
    """Slack was busy or unreachable; the same call can succeed later."""


class SlackPermanent(SlackError):
    """The call fails until a person acts: invite the bot, fix a channel, reinstall the app."""


class BrokerError(PactbotError):
    """The Pact Broker could not give us what we asked for."""


class BrokerUnreachable(BrokerError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the Pact Broker at {url}: {reason}")


class BrokerAuthRejected(BrokerError):
    def __init__(self, url: str, credential: str) -> None:
        super().__init__(
            f"the Pact Broker rejected the credentials (401) for {url}: check {credential}"
        )


class BrokerForbidden(BrokerError):
    def __init__(self, url: str, action: str, hint: str) -> None:
        super().__init__(f"the Pact Broker refused to {action} (403) at {url}: {hint}")
        self.url = url


class BrokerNotFound(BrokerError):
    def __init__(self, subject: str, closest: Sequence[str] = (), *, url: str = "") -> None:
        message = f"the Pact Broker has no {subject}"
        if closest:
            message += "; closest: " + ", ".join(closest)
        super().__init__(message)
        self.url = url  # where the broker said 404, when a request was made


class BrokerServerError(BrokerError):
    def __init__(self, url: str, status: int, attempts: int, wait: float | None = None) -> None:
        if status == 429:
            after = f" and asked for {wait:.0f} s more" if wait else ""
            problem = f"rate limits pactbot (HTTP 429) at {url} {_tries(attempts)}{after}"
            super().__init__(f"the Pact Broker {problem}; try again later")
            return
        super().__init__(
            f"the Pact Broker answered HTTP {status} for {url} "
            f"{_tries(attempts)}: it is down or overloaded; try again later"
        )


class BrokerBadResponse(BrokerError):
    def __init__(self, endpoint: str, problem: str) -> None:
        super().__init__(f"unexpected answer from {endpoint}: {problem}")


class GitHubError(PactbotError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _tries(attempts: int) -> str:
    return "at the first attempt" if attempts == 1 else f"after {attempts} attempts"
