"""How `pactbot serve` logs: text for a terminal, or one JSON object per line for a log pipeline
(`PACTBOT_LOG_FORMAT=json`); never a secret in either.

A record's structured fields (`extra={"webhook": ..., "alert": ...}` where pactbot has them)
become keys of the JSON object. Every message passes a filter that blanks the bot's own secrets
(the values it was given) and anything shaped like a Slack, GitHub or bearer token, so that a
credential quoted back by an error cannot reach the logs.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Slack (xoxb-, xapp-, ...), GitHub (ghp_, github_pat_, ...) and bearer tokens.
_TOKENS = re.compile(
    r"\b(?:xox[abposr]-[\w-]+|xapp-[\w-]+|gh[pousr]_\w+|github_pat_\w+)|(?<=Bearer )[\w.~+/=-]+"
)
_HIDDEN = "***"
# What every LogRecord has: the rest of its attributes came as `extra=`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Every job run and every request at INFO would bury what pactbot itself says; their failures
# still show. /metrics counts the requests.
_CHATTY = ("apscheduler", "httpx")


def configure(log_format: str, secrets: Iterable[str]) -> None:
    """Log at INFO to stderr in `log_format` ("text" or "json"), hiding `secrets`."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(_TEXT))
    handler.addFilter(Redactor(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # in the same format, not raw lines on stderr
    for chatty in _CHATTY:
        logging.getLogger(chatty).setLevel(logging.WARNING)


class Redactor(logging.Filter):
    """Blanks the given secrets and token-shaped strings in a record's message and fields."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first: a secret that contains another is blanked whole.
        self._secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.clean(record.getMessage())
        record.args = ()
        if record.exc_info:
            record.exc_text = self.clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for name, value in _fields(record).items():
            if isinstance(value, str):
                setattr(record, name, self.clean(value))
        return True

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _HIDDEN)
        return _TOKENS.sub(_HIDDEN, text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {name: _plain(value) for name, value in _fields(record).items()}
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {name: value for name, value in vars(record).items() if name not in _STANDARD}


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
