"""Read what a webhook's target answered from the broker's execution log text.

The broker writes one entry per line, `[<time>] <LEVEL>: <text>` (broker-api section 5): the
request line and headers, the request body, then either the response (`HTTP/1.1 401
Unauthorized`, one line per header, the body), an `ERROR: Error executing webhook ...` line, or the
"For security purposes" line when its webhook host whitelist hides the answer. The times written
inside the text are the broker's local clock and never move; callers take times from the JSON.
"""

from __future__ import annotations

import json
import re
from types import MappingProxyType

from bot.domain.model import TargetAnswer

_ENTRY = re.compile(r"^\[[^\]]*\] (?P<level>[A-Z]+): (?P<text>.*)$")
_STATUS = re.compile(r"^HTTP/\d(?:\.\d)? (?P<status>\d{3})\b")
_HEADER = re.compile(r"^(?P<name>[A-Za-z0-9-]+): ?(?P<value>.*)$")
_ERROR = re.compile(r"^Error executing webhook \S+? (?P<detail>\S+ - .*)$")
_HIDDEN = "For security purposes"
_CLOSING = ("Webhook execution failed", "Retrying webhook in", "Successfully executed webhook")


def parse_log(text: str, *, success: bool) -> TargetAnswer:
    """Read the target's answer from one execution's log; `success` is the broker's verdict."""
    status: int | None = None
    headers: dict[str, str] = {}
    body: str | None = None
    error: str | None = None
    hidden = False
    in_response = False
    for line in text.splitlines():
        entry = _ENTRY.match(line)
        if entry is None:
            continue
        level, content = entry["level"], entry["text"]
        if _HIDDEN in content:
            hidden = True
            if level == "ERROR":
                error = "the request raised an error; the broker hides which"
            continue
        if level == "ERROR":
            found = _ERROR.match(content)
            error = found["detail"] if found else content
            continue
        if content.startswith(_CLOSING):
            in_response = False
            continue
        if status is None and (found := _STATUS.match(content)):
            status, in_response = int(found["status"]), True
            continue
        if in_response and body is None:
            header = _HEADER.match(content)
            if header and not content.startswith("{"):
                headers[header["name"].lower()] = header["value"]
            else:
                body = content
    return TargetAnswer(
        success=success,
        status=status,
        headers=MappingProxyType(headers),
        message=target_message(body),
        error=error,
        hidden=hidden,
    )


def target_message(body: object) -> str | None:
    """The CI's own error text in a response body given as JSON text or parsed JSON: GitHub's
    and GitLab's `message` (GitLab's may be `{"base": [...]}`), GitLab's `error`, Bitbucket's
    `error.message`, Travis CI's `error_message`."""
    for path in (("message",), ("error", "message"), ("error",), ("error_message",)):
        found = _words(json_field(body, *path))
        if found:
            return found
    return None


def _words(value: object) -> str | None:
    """A message, or the messages of a JSON object or list of them, joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(filter(None, map(_words, value))) or None
    if isinstance(value, dict):
        return "; ".join(filter(None, map(_words, value.values()))) or None
    return None


def json_text_field(body: object, key: str) -> str | None:
    """The string at `key` of a JSON object given as text or parsed, else None."""
    found = json_field(body, key)
    return found if isinstance(found, str) else None


def json_field(body: object, *path: str) -> object:
    """What is at `path` in a JSON object given as text or parsed, else None."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    for key in path:
        body = body.get(key) if isinstance(body, dict) else None
    return body
