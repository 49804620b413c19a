"""A sample Slack Web API: a real HTTP server on 127.0.0.1 that answers like Slack.

Its answers have the shapes of Slack's own examples (shared/slack-api/fixtures, checked key by
key by tests/integration/test_fake_slack.py). Point `AsyncWebClient(base_url=url + "/api/")` at
it and each payload's `response_url` at `response_url()`; then read every call (`calls`), what
each channel shows (`messages`), and script failures (`fail_next`). Tests and benchmarks share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.sample.loopback import LoopbackService, QuietHandler

Json = Any
Args = dict[str, Any]

# A fixed start (2024-12-01T08:00:00Z) so every run hands out the same message timestamps.
_EPOCH = 1733040000
_JSON = "application/json; charset=utf-8"
# The bot scopes of the manifest; Bolt reads them from auth.test's `x-oauth-scopes` header.
DEFAULT_SCOPES = "commands,chat:write,chat:write.public,usergroups:read,channels:history"
# chat.update rejects longer text with `msg_too_long` (slack-platform.md §7).
UPDATE_TEXT_LIMIT = 4000


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake received: a Web API method (or "respond") and its parsed arguments."""

    method: str
    http_method: str
    headers: dict[str, str]
    body: dict[str, Any]
    path: str = ""


@dataclass(slots=True)
class Message:
    """What a channel shows for one message after its latest post or update."""

    channel: str
    ts: str
    text: str
    blocks: list[Json]
    thread_ts: str | None = None
    edits: int = 0
    metadata: Json = None
    broadcast: bool = False  # a thread reply also shown in the channel (reply_broadcast)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the bot token belongs to; the defaults are those of api.auth.test.bot.ok.json."""

    url: str = "https://subarachnoid.slack.com/"
    team: str = "Subarachnoid Workspace"
    user: str = "bot"
    team_id: str = "T0G9PQBBK"
    user_id: str = "W23456789"
    bot_id: str = "BZYBOTHED"
    app_id: str = "A0PACTBOT"


@dataclass(frozen=True, slots=True)
class Channel:
    """A conversation `conversations.info` knows about."""

    id: str
    name: str
    is_member: bool = True
    is_private: bool = False
    is_archived: bool = False


@dataclass(slots=True)
class _Reply:
    status: int
    body: bytes
    content_type: str = _JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Script:
    reply: _Reply
    times: int
    after: int = 0  # calls answered as usual first
    done: bool = False  # the call takes effect, only its answer is the failure (a lost answer)


@dataclass(slots=True)
class Hold:
    """The next call of a method, kept unanswered until `release()`: a bot caught mid-call."""

    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()


class _Refusal(Exception):
    """A Slack error answer (`{"ok": false, "error": code}`, HTTP 200)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SampleSlack(LoopbackService):
    """Serve a fake Slack Web API and response_url endpoint on 127.0.0.1 until stopped."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",
        app_token: str = "xapp-test",
        identity: Identity = Identity(),
        scopes: str = DEFAULT_SCOPES,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`bot_token` is the only token the Web API accepts, bar `app_token` for Socket Mode;
        message timestamps follow `clock` (the bot's, in tests that move time) if given."""
        self.bot_token = bot_token
        self.app_token = app_token
        self.identity = identity
        self.scopes = scopes
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.channels: dict[str, Channel] = {}
        self.home_views: dict[str, Json] = {}
        self._handles: dict[str, str] = {}
        self._scripts: dict[str, list[_Script]] = {}
        self._holds: dict[str, Hold] = {}
        self._triggers: set[str] = set()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._counter = itertools.count(1)
        self._ts = itertools.count(1)
        self._clock = clock
        self._last_ts = 0
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    def add_usergroup(self, id: str, handle: str, members: list[str]) -> None:
        """Make a user group known to usergroups.list and usergroups.users.list."""
        with self._lock:
            self._handles[id] = handle
            self.usergroups[id] = list(members)

    def add_channel(
        self, id: str, name: str, *, is_member: bool = True, is_private: bool = False
    ) -> None:
        """Make a conversation known to conversations.info."""
        with self._lock:
            self.channels[id] = Channel(id, name, is_member=is_member, is_private=is_private)

    def response_url(self) -> str:
        """A fresh response_url; POSTs to it are recorded as "respond" calls."""
        return f"{self.url}/response/{next(self._counter)}"

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        fields: Mapping[str, Json] | None = None,
        times: int = 1,
        after: int = 0,
        done: bool = False,
    ) -> None:
        """Answer `times` calls of `method` ("respond" too) with an error or a 5xx, once `after`
        more have been answered as usual; with `done`, each call still takes effect (a post
        whose answer was lost on the way)."""
        if error is None and (status is None or status < 500):
            raise ValueError("give an error code, or a 5xx status")
        code = error or "internal_error"
        if status is None:
            status = 429 if code == "ratelimited" else 400 if method == "respond" else 200
        if headers is None:
            headers = {"Retry-After": "1"} if code == "ratelimited" else {}
        if method == "respond":
            reply = _Reply(status, code.encode(), "text/html", dict(headers))
        else:
            body = {"ok": False, "error": code, **(fields or {})}
            reply = _Reply(status, json.dumps(body).encode(), _JSON, dict(headers))
        with self._lock:
            self._scripts.setdefault(method, []).append(_Script(reply, times, after, done))

    def hold(self, method: str) -> Hold:
        """Keep the next call of `method` waiting (it is then answered as usual)."""
        held = Hold()
        with self._lock:
            self._holds[method] = held
        return held

    def _wait_if_held(self, method: str) -> None:
        with self._lock:
            held = self._holds.pop(method, None)
        if held is not None:
            held.arrived.set()
            held.released.wait(timeout=30)  # a test that forgets to release cannot hang

    def calls_to(self, method: str) -> list[Call]:
        """The calls of `method` so far, oldest first."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def in_channel(self, channel: str) -> list[Message]:
        """The messages `channel` shows, oldest first."""
        with self._lock:
            held = [message for (where, _), message in self.messages.items() if where == channel]
        return sorted(held, key=lambda message: float(message.ts))

    def last(self, method: str) -> Call:
        """The latest call of `method` (IndexError when there was none)."""
        return self.calls_to(method)[-1]

    @property
    def responses(self) -> list[dict[str, Any]]:
        """The bodies POSTed to response URLs, oldest first."""
        return [call.body for call in self.calls_to("respond")]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 2.0,  # noqa: ASYNC109 - a bound on the wait, so no test can hang on it
    ) -> list[Call]:
        """The calls of `method` once there are `count`; TimeoutError after `timeout` seconds."""
        try:
            await self.wait_until(lambda: len(self.calls_to(method)) >= count, timeout)
        except TimeoutError:
            seen = sorted({call.method for call in self.calls})
            message = f"{len(self.calls_to(method))} of {count} {method} calls after {timeout} s"
            raise TimeoutError(f"{message}; saw {seen}") from None
        return self.calls_to(method)

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 2.0,  # noqa: ASYNC109 - a bound on the wait, so no test can hang on it
    ) -> None:
        """Return once `condition` holds, looked at after every call Slack receives."""
        # Bolt acks first and runs the listener in a background task, so calls arrive late.
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    waiter[1].clear()
                    if condition():
                        return
                    await waiter[1].wait()
        finally:
            with self._lock:
                self._waiters.remove(waiter)

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            waiters = list(self._waiters)
        for loop, arrived in waiters:
            # The server thread may not touch an asyncio.Event directly, only ask its loop to.
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(arrived.set)

    def _take_script(self, method: str) -> _Script | None:
        with self._lock:
            queue = self._scripts.get(method)
            if not queue:
                return None
            if queue[0].after:
                queue[0].after -= 1
                return None
            queue[0].times -= 1
            return queue.pop(0) if queue[0].times == 0 else queue[0]

    def _answer(self, method: str, headers: dict[str, str], args: Args) -> _Reply:
        """Answer a Web API call the way Slack would, scripted failures first."""
        scripted = self._take_script(method)
        if scripted is not None:
            if scripted.done:
                self._perform(method, headers, args)
            return scripted.reply
        return self._perform(method, headers, args)

    def _perform(self, method: str, headers: dict[str, str], args: Args) -> _Reply:
        handler = _METHODS.get(method)
        try:
            self._authorise(method, _token(headers, args))
            if handler is None:
                raise _Refusal("unknown_method")
            with self._lock:
                answer = handler(self, args)
        except _Refusal as refusal:
            answer = {"ok": False, "error": refusal.code}
        except (ValueError, TypeError, AttributeError):
            # Malformed arguments (a `view` that is no object, `blocks` that are no JSON), which
            # Slack refuses rather than failing.
            answer = {"ok": False, "error": "invalid_arguments"}
        return _Reply(200, json.dumps(answer).encode(), headers={"x-oauth-scopes": self.scopes})

    def _authorise(self, method: str, token: str | None) -> None:
        # Socket Mode's method takes only the app-level token; every other one the bot token.
        wanted, other = (self.app_token, self.bot_token)
        if method != "apps.connections.open":
            wanted, other = other, wanted
        if not token:
            raise _Refusal("not_authed")
        if token == other:
            raise _Refusal("not_allowed_token_type")
        if token != wanted:
            raise _Refusal("invalid_auth")

    def _next_ts(self) -> str:
        if self._clock is None:
            micros = _EPOCH * 1_000_000 + next(self._ts) * 100
        else:  # Slack's ts is its clock, in microseconds, and unique in a channel
            micros = max(int(self._clock().timestamp() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _auth_test(self, args: Args) -> Json:
        identity = asdict(self.identity)
        del identity["app_id"]
        return {"ok": True, **identity}

    def _post_message(self, args: Args) -> Json:
        channel = _required(args, "channel", "channel_not_found")
        text, blocks = _content(args)
        # Slack numbers the attachments it stores.
        attached = _decoded(args.get("attachments") or [])
        attachments = [{**item, "id": n} for n, item in enumerate(attached, 1)]
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        ts = self._next_ts()
        metadata = _decoded(args.get("metadata")) or None
        broadcast = bool(thread_ts) and _flag(args.get("reply_broadcast"))
        self.messages[(channel, ts)] = Message(
            channel, ts, text, blocks, thread_ts, 0, metadata, broadcast
        )
        message: Json = {
            "text": text,
            "username": self.identity.user,
            "bot_id": self.identity.bot_id,
            "type": "message",
            "subtype": "bot_message",
            "ts": ts,
        }
        optional = {"blocks": blocks, "attachments": attachments, "thread_ts": thread_ts}
        message |= {name: value for name, value in optional.items() if value}
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _update(self, args: Args) -> Json:
        channel = _required(args, "channel", "channel_not_found")
        ts = str(args.get("ts", ""))
        held = self.messages.get((channel, ts))
        if held is None:
            raise _Refusal("message_not_found")
        text, blocks = _content(args)
        if len(text) > UPDATE_TEXT_LIMIT:
            raise _Refusal("msg_too_long")
        held.text = text
        # Blocks that are not sent are kept, as Slack does.
        held.blocks = blocks if "blocks" in args else held.blocks
        held.edits += 1
        message: Json = {"text": text, "user": self.identity.user_id}
        if "blocks" in args:
            message["blocks"] = blocks
        return {"ok": True, "channel": channel, "ts": ts, "text": text, "message": message}

    def _history(self, args: Args) -> Json:
        """conversations.history: the channel's messages, newest first, since `oldest`."""
        channel = _required(args, "channel", "channel_not_found")
        found = [
            message
            for (where, _), message in self.messages.items()
            if where == channel and message.thread_ts is None
        ]
        return self._listed(found, args, newest_first=True)

    def _replies(self, args: Args) -> Json:
        """conversations.replies: a thread, its first message first, since `oldest`."""
        channel = _required(args, "channel", "channel_not_found")
        parent = _required(args, "ts", "thread_not_found")
        found = [
            message
            for (where, ts), message in self.messages.items()
            if where == channel and (ts == parent or message.thread_ts == parent)
        ]
        return self._listed(found, args, newest_first=False)

    def _listed(self, found: list[Message], args: Args, *, newest_first: bool) -> Json:
        oldest = float(args.get("oldest") or 0)
        metadata = _flag(args.get("include_all_metadata"))
        chosen = sorted(
            (message for message in found if float(message.ts) >= oldest),
            key=lambda message: float(message.ts),
            reverse=newest_first,
        )
        listed = []
        for message in chosen:
            item: Json = {"type": "message", "ts": message.ts, "text": message.text}
            if message.thread_ts:
                item["thread_ts"] = message.thread_ts
            if metadata and message.metadata:
                item["metadata"] = message.metadata
            listed.append(item)
        return {"ok": True, "messages": listed, "has_more": False}

    def _post_ephemeral(self, args: Args) -> Json:
        _required(args, "channel", "channel_not_found")
        _required(args, "user", "user_not_in_channel")
        _content(args)
        return {"ok": True, "message_ts": self._next_ts()}

    def _publish(self, args: Args) -> Json:
        user = _required(args, "user_id", "invalid_arguments")
        sent = _decoded(args.get("view") or {})
        current = self.home_views.get(user)
        if args.get("hash") and current is not None and current["hash"] != args["hash"]:
            raise _Refusal("hash_conflict")
        view = self._view(sent)
        view |= {"close": None, "submit": None, "previous_view_id": None}
        self.home_views[user] = view
        return {"ok": True, "view": view}

    def _open(self, args: Args) -> Json:
        trigger = _required(args, "trigger_id", "invalid_trigger_id")
        if trigger in self._triggers:
            # A trigger_id is good for one use (slack-platform.md §1).
            raise _Refusal("exchanged_trigger_id")
        self._triggers.add(trigger)
        sent = _decoded(args.get("view") or {})
        view = self._view(sent)
        view |= {name: sent[name] for name in ("title", "submit", "close") if name in sent}
        return {"ok": True, "view": view}

    def _view(self, sent: Json) -> Json:
        """A view as Slack stores it (api.views.*.ok.json), with the fields it fills in."""
        view_id = f"V{next(self._counter):08d}"
        return {
            "id": view_id,
            "team_id": self.identity.team_id,
            "type": sent.get("type", "modal"),
            "blocks": _with_block_ids(sent.get("blocks", [])),
            "private_metadata": sent.get("private_metadata", ""),
            "callback_id": sent.get("callback_id", ""),
            "external_id": sent.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{_EPOCH}.{next(self._counter):07d}",
            "clear_on_close": bool(sent.get("clear_on_close", False)),
            "notify_on_close": bool(sent.get("notify_on_close", False)),
            "root_view_id": view_id,
            "app_id": self.identity.app_id,
            "bot_id": self.identity.bot_id,
        }

    def _usergroup_users(self, args: Args) -> Json:
        members = self.usergroups.get(str(args.get("usergroup", "")))
        if members is None:
            raise _Refusal("no_such_subteam")
        return {"ok": True, "users": list(members)}

    def _usergroup_list(self, args: Args) -> Json:
        """Shaped as the example of api-ref methods/usergroups/usergroups.list.json."""
        with_users = _flag(args.get("include_users"))
        groups = []
        for id, members in self.usergroups.items():
            handle = self._handles.get(id, id.lower())
            group: Json = {
                "id": id,
                "team_id": self.identity.team_id,
                "is_usergroup": True,
                "name": handle,
                "description": "",
                "handle": handle,
                "is_external": False,
                "date_create": _EPOCH,
                "date_update": _EPOCH,
                "date_delete": 0,
                "auto_type": None,
                "created_by": self.identity.user_id,
                "updated_by": self.identity.user_id,
                "deleted_by": None,
                "prefs": {"channels": [], "groups": []},
                "user_count": str(len(members)),  # a string in Slack's example
            }
            groups.append(group | ({"users": list(members)} if with_users else {}))
        return {"ok": True, "usergroups": groups}

    def _conversation(self, args: Args) -> Json:
        """Shaped as example 0 of api-ref methods/conversations/conversations.info.json."""
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            raise _Refusal("channel_not_found")
        is_im = channel.id.startswith("D")
        blank = {"value": "", "creator": "", "last_set": 0}
        info = {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not is_im,
            "is_group": False,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": channel.is_private or is_im,
            "created": _EPOCH,
            "creator": self.identity.user_id,
            "is_archived": channel.is_archived,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": channel.name,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "pending_shared": [],
            "is_pending_ext_shared": False,
            "is_member": channel.is_member,
            "topic": blank,
            "purpose": dict(blank),
            "previous_names": [],
        }
        return {"ok": True, "channel": info}

    def _connections_open(self, args: Args) -> Json:
        # Shaped as api-ref methods/apps/apps.connections.open.json; nothing serves the socket.
        ticket = next(self._counter)
        link = f"ws{self.url.removeprefix('http')}/link/?ticket={ticket}"
        return {"ok": True, "url": f"{link}&app_id={self.identity.app_id}"}


# The Web API methods the fake answers; every other one is `unknown_method`.
_METHODS: dict[str, Callable[[SampleSlack, Args], Json]] = {
    "auth.test": SampleSlack._auth_test,
    "chat.postMessage": SampleSlack._post_message,
    "chat.update": SampleSlack._update,
    "chat.postEphemeral": SampleSlack._post_ephemeral,
    "views.publish": SampleSlack._publish,
    "views.open": SampleSlack._open,
    "usergroups.users.list": SampleSlack._usergroup_users,
    "usergroups.list": SampleSlack._usergroup_list,
    "conversations.info": SampleSlack._conversation,
    "conversations.history": SampleSlack._history,
    "conversations.replies": SampleSlack._replies,
    "apps.connections.open": SampleSlack._connections_open,
}


def _token(headers: dict[str, str], args: Args) -> str | None:
    """The bearer token, or the `token` argument Slack also accepts."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return token
    given = args.get("token")
    return str(given) if given else None


def _required(args: Args, name: str, error: str) -> str:
    value = args.get(name)
    if not value:
        raise _Refusal(error)
    return str(value)


def _decoded(value: Json) -> Json:
    """A JSON argument: as sent in a JSON body, or the string a form body carries."""
    return json.loads(value) if isinstance(value, str) else value


def _content(args: Args) -> tuple[str, list[Json]]:
    """The text and blocks of a message; `no_text` when it has neither (nor attachments)."""
    text = str(args.get("text") or "")
    blocks = list(_decoded(args.get("blocks") or []))
    if not text and not blocks and not args.get("attachments"):
        raise _Refusal("no_text")
    return text, blocks


def _flag(value: Json) -> bool:
    return value in (True, 1, "1", "true")


def _with_block_ids(blocks: list[Json]) -> list[Json]:
    """Blocks as Slack stores them: each gets a `block_id` when it was sent without one."""
    stored = []
    for index, block in enumerate(blocks):
        digest = hashlib.sha1(f"{index}:{json.dumps(block, sort_keys=True)}".encode())
        stored.append({"block_id": digest.hexdigest()[:5], **block})
    return stored


def _parse(content_type: str, raw: bytes, query: str) -> Args:
    """The call's arguments: from the query string, then the JSON or form body."""
    args: Args = dict(parse_qsl(query, keep_blank_values=True))
    if not raw:
        return args
    if content_type.startswith("application/json"):
        try:
            loaded = json.loads(raw)
        except ValueError:
            return args
        return args | loaded if isinstance(loaded, dict) else args
    return args | dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _handler_for(slack: SampleSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, http_method: str) -> None:
            parts = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            raw = self.rfile.read(int(headers.get("content-length", "0") or 0))
            args = _parse(headers.get("content-type", ""), raw, parts.query)
            # Each call is recorded once answered, so a test that waits for it sees its effect.
            if parts.path.startswith("/api/"):
                method = parts.path.removeprefix("/api/")
                slack._wait_if_held(method)
                answer = slack._answer(method, headers, args)
                slack._record(Call(method, http_method, headers, args, parts.path))
                self._send(answer)
            elif parts.path.startswith("/response/") and http_method == "POST":
                # Slack's webhooks answer a plain `ok`.
                script = slack._take_script("respond")
                answer = script.reply if script else _Reply(200, b"ok", "text/html")
                slack._record(Call("respond", http_method, headers, args, parts.path))
                self._send(answer)
            else:
                self._send(_Reply(404, b"", "text/plain"))

        def _send(self, answer: _Reply) -> None:
            self.reply(answer.status, answer.body, answer.content_type, answer.headers)

    return Handler
