"""Every error pactbot reports, in one tree, each worded for the person who has to act on it.

    PactbotError               a sentence for a person; the CLI prints it and exits 2
    ├── ConfigError            the config file, a flag or an environment variable is wrong
    ├── UsageError             a command was given arguments it cannot work with
    └── BrokerError            anything the Pact Broker (or the way to it) did
        ├── BrokerUnreachable  no HTTP answer at all: DNS, refused, TLS, timeout
        ├── BrokerAuthRejected 401: the credentials are wrong or missing
        ├── BrokerForbidden    403: the credentials are right but may not do this
        ├── BrokerNotFound     404: no such pacticipant, pair or webhook
        ├── BrokerServerError  5xx or 429 that did not clear after retries
        └── BrokerBadResponse  an answer that is not the JSON we need (HTML, garbage,
                               a missing field, an unexpected status)

Errors are classified once, where the HTTP answer arrives (`bot.broker.client`); everything
above that layer only reads `str(error)`. No message ever carries a credential.
"""

from __future__ import annotations

from collections.abc import Sequence


class PactbotError(Exception):
    """An error with a message meant for a person."""


class ConfigError(PactbotError):
    """The configuration cannot be used."""


class UsageError(PactbotError):
    """A command's arguments cannot be acted on."""


class BrokerError(PactbotError):
    """The Pact Broker could not give us what we asked for."""


class BrokerUnreachable(BrokerError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the Pact Broker at {url}: {reason}")
        self.url = url


class BrokerAuthRejected(BrokerError):
    def __init__(self, url: str, credential: str) -> None:
        super().__init__(
            f"the Pact Broker rejected the credentials (401) for {url}: check {credential}"
        )


class BrokerForbidden(BrokerError):
    def __init__(self, url: str, action: str, hint: str) -> None:
        super().__init__(f"the Pact Broker refused to {action} (403) at {url}: {hint}")


class BrokerNotFound(BrokerError):
    def __init__(self, subject: str, closest: Sequence[str] = ()) -> None:
        message = f"the Pact Broker has no {subject}"
        if closest:
            message += "; closest: " + ", ".join(closest)
        super().__init__(message)
        self.closest = tuple(closest)


class BrokerServerError(BrokerError):
    def __init__(self, url: str, status: int, attempts: int) -> None:
        super().__init__(
            f"the Pact Broker answered HTTP {status} for {url} "
            f"{_tries(attempts)}: it is down or overloaded; try again later"
        )
        self.status = status


class BrokerBadResponse(BrokerError):
    def __init__(self, endpoint: str, problem: str) -> None:
        super().__init__(f"unexpected answer from {endpoint}: {problem}")
        self.endpoint = endpoint


def _tries(attempts: int) -> str:
    return "at the first attempt" if attempts == 1 else f"after {attempts} attempts"
