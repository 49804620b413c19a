"""Hypothesis strategies that spoil a captured answer the ways a broker, a proxy or a network do.

A JSON document is mutated in place (a field dropped, a value nulled or of another JSON type,
a type swapped, a nested object or list cut short), or its whole answer is replaced on the wire
(the JSON text cut off, an HTML page, a 5xx or 429, an empty body, another status or content
type, bytes that are not text). The strategies only describe answers; `tests.helpers.stage`
serves them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

Json = Any
Path = tuple[str | int, ...]
Draw = Callable[[st.SearchStrategy[Any]], Any]

HAL_JSON = "application/hal+json;charset=utf-8"
HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
    b"<body><form action='/login'><input name='password'></form></body></html>\n"
)
# Statuses without a body (RFC 9110): the stage sends them none, or the leftover bytes would
# spoil the next answer on the same kept-alive connection.
BODILESS = frozenset({204, 304})
# What a proxy, a login page or a broken broker may put in front of the JSON.
OTHER_STATUSES = (201, 204, 299, 301, 302, 304, 400, 401, 403, 404, 409, 410, 418, 422, 599)
FAILING_STATUSES = (429, 500, 502, 503, 504)
CONTENT_TYPES = (
    None,
    "text/plain",
    "text/html; charset=utf-8",
    "application/octet-stream",
    "application/json; charset=no-such-charset",
    "application/problem+json",
)
# Latin-1 is what HTTP headers carry; no control characters, which would end the header.
_HEADER_TEXT = st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=24)
# Where a redirect points. Never another host: a client that follows it would make the test
# resolve a name, and loopback is all the tests may reach.
LOCATIONS = ("", "/login", "login?next=/", "http://[::1", "http://127.0.0.1:1/elsewhere")
RETRY_AFTERS = st.one_of(
    st.sampled_from(
        (
            "7",
            "0",
            "-1",
            "1e3",
            "99999999999999999999999",
            "soon",
            "²",  # a digit to str.isdigit(), not to float()
            "Sat, 28 Nov 2026 09:58:23 GMT",
            "Sat, 28 Nov 2026 09:58:23 -0000",  # a date without a zone
            "Sat, 28 Nov 99999 09:58:23 GMT",
        )
    ),
    _HEADER_TEXT,
)


# Strings a parser or a link follower may choke on: dates without a zone, hrefs that are no URL.
ODD_STRINGS = (
    "",
    " ",
    "2026-11-28T09:58:23",
    "not-a-date",
    "/relative",
    "relative",
    "http://",
    "http://[::1",
    "http://127.0.0.1:port/x",
    "//127.0.0.2:9/x",  # another host, named without a DNS query
    "ftp://127.0.0.1/x",
    "http://127.0.0.1:9292/webhooks/{uuid}",
    "été",
)


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer: what the stage sends for a request."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def json_values() -> st.SearchStrategy[Json]:
    """Any small JSON value, NaN and infinities included (Python's `json` writes them), nested
    one level: deeper values find nothing more and cost more to draw."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=12),
        st.sampled_from(ODD_STRINGS),
    )
    return st.one_of(
        scalars,
        st.lists(scalars, max_size=3),
        st.dictionaries(st.text(max_size=6), scalars, max_size=3),
    )


def paths(document: Json, here: Path = ()) -> Iterator[Path]:
    """Every place in `document`, the document itself first."""
    yield here
    if isinstance(document, dict):
        for key, value in document.items():
            yield from paths(value, (*here, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from paths(value, (*here, index))


def swapped(value: Json) -> Json:
    """`value` as the JSON type a careless serialiser would pick instead."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return int(value) if value.isdecimal() and value.isascii() else len(value)
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return {str(index): item for index, item in enumerate(value)}
    return ""


def _cut(draw: Draw, value: Json) -> Json:
    """`value` cut short: fewer keys or items, a shorter string."""
    if isinstance(value, dict):
        keys = list(value)
        kept = draw(st.integers(0, max(len(keys) - 1, 0)))
        return {key: value[key] for key in keys[:kept]}
    if isinstance(value, list | str):
        return value[: draw(st.integers(0, max(len(value) - 1, 0)))]
    return None


def _mutate_once(draw: Draw, document: Json, keep_root: bool) -> Json:
    places = list(paths(document))[1:] if keep_root else list(paths(document))
    if not places:  # an empty object: nothing in it to spoil
        return document
    where: Path = draw(st.sampled_from(places))
    how = draw(st.sampled_from(("drop", "null", "other", "swap", "cut")))
    if not where:  # the whole document
        return _replacement(draw, how, document)
    *parents, last = where
    parent = document
    for step in parents:
        parent = parent[step]
    if how == "drop":
        del parent[last]
    else:
        parent[last] = _replacement(draw, how, parent[last])
    return document


def _replacement(draw: Draw, how: str, value: Json) -> Json:
    if how in {"null", "drop"}:  # the whole document dropped: nothing is left
        return None
    if how == "swap":
        return swapped(value)
    if how == "cut":
        return _cut(draw, value)
    return draw(json_values())


@st.composite
def mutated(draw: Draw, document: Json, *, keep_root: bool = False) -> Json:
    """`document` with one to three fields dropped, nulled, replaced, swapped or cut; with
    `keep_root`, the document itself stays what it is (an object stays an object)."""
    spoilt = json.loads(json.dumps(document))  # a copy, five times faster than deepcopy
    for _ in range(draw(st.integers(1, 3))):
        spoilt = _mutate_once(draw, spoilt, keep_root)
    return spoilt


def _maybe_mutated(body: bytes) -> st.SearchStrategy[bytes]:
    """`body` as it is, or its JSON mutated."""
    return st.just(body) | mutated(json.loads(body)).map(lambda spoilt: json.dumps(spoilt).encode())


# Four in eleven answers keep their JSON shape: most of what a client checks is in the fields.
_SPOILS = ("mutated",) * 4 + (
    "truncated",
    "html",
    "failing",
    "empty",
    "status",
    "content type",
    "bytes",
)


@st.composite
def answers(draw: Draw, answer: Answer) -> Answer:
    """`answer` (a captured one) spoilt in its JSON or replaced on the wire."""
    kind = draw(st.sampled_from(_SPOILS))
    headers = answer.headers
    if kind == "mutated":
        body = json.dumps(draw(mutated(json.loads(answer.body)))).encode()
        return Answer(answer.status, body, headers)
    if kind == "truncated":
        return Answer(
            answer.status, answer.body[: draw(st.integers(0, len(answer.body) - 1))], headers
        )
    if kind == "html":
        # A login page, labelled as what it is or as the JSON that was asked for.
        labelled = draw(st.sampled_from(("text/html; charset=utf-8", HAL_JSON)))
        return Answer(200, HTML_PAGE, {"Content-Type": labelled})
    if kind == "failing":
        status = draw(st.sampled_from(FAILING_STATUSES))
        body = draw(
            st.sampled_from((b"", HTML_PAGE, b'{"error": "Internal server error"}'))
            | _maybe_mutated(answer.body)
        )
        waited = {"Retry-After": draw(RETRY_AFTERS)} if draw(st.booleans()) else {}
        return Answer(status, body, {"Content-Type": HAL_JSON} | waited)
    if kind == "empty":
        return Answer(200, b"", draw(st.sampled_from((headers, {}))))
    if kind == "status":
        # The body of an error is read too, for the broker's or GitHub's own words.
        status = draw(st.sampled_from(OTHER_STATUSES))
        moved = {"Location": draw(st.sampled_from(LOCATIONS))} if 300 <= status < 400 else {}
        return Answer(status, draw(_maybe_mutated(answer.body)), headers | moved)
    if kind == "content type":
        labelled = draw(st.sampled_from(CONTENT_TYPES))
        return Answer(
            answer.status, answer.body, {} if labelled is None else {"Content-Type": labelled}
        )
    return Answer(answer.status, draw(st.binary(max_size=64)), headers)
