"""The chaos soak: three `pactbot serve` processes on one Redis, a seeded story, random faults.

The processes run as in production: one Redis with its append-only file, the sample broker and
the sample Slack on loopback, the Slack requests signed. Real processes keep real time, so the
timings are scaled: alerts are checked every second, fire after three and remind every twenty;
a tick of the story is one check interval.

The story, seeded: each lane is a provider with its own channel, whose incidents follow one
another with quiet in between, so that each alert a channel shows belongs to one incident. An
incident is a pair going stale and recovering (a second pair joining it, sometimes), a token
dying and being fixed (a pair waiting behind it), a webhook that did not fire for a new
provider, a stale pair under a silence set beforehand, an alert acknowledged, and a rotation
walked through from its first Test to the end. The digest is due every minute and posted once a
day.

The faults, at random throughout: the broker answering 500, HTML, truncated JSON or nothing
for a stretch; Slack answering 429 with Retry-After, 5xx, answering too late, or doing the post
and losing its answer; Redis restarted (its append-only file kept); the leader killed with
SIGKILL, also in the middle of a Slack call; a replica stopped with SIGTERM; each killed or
stopped replica started again.

The oracle is the pure state machine (`bot.domain.alerts.evaluate`) fed the same story, at the
same times, by a broker with no fault: what it said is what should have been said. The soak
prints what Slack shows against it, and exits 1 unless nothing was said twice (duplicates),
nothing the oracle said is missing (lost), nothing was said that it did not say (wrong) and
every fault struck as often as asked. The replicas run on for a minute after the story, with no
fault, before Slack is read: what is said then is counted late (lateness), not lost.

    python benchmarks/chaos.py                          # 1,000 ticks, each fault 20 times
    python benchmarks/chaos.py --ticks 200 --faults 1   # a short soak, each fault once
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import redis

from bot.broker.client import BrokerClient, Timeouts
from bot.config import load_config
from bot.domain.alerts import AlertState, Kind, Rules, Setup, Silence, Step, acknowledge, evaluate
from bot.domain.model import PairKey
from bot.reader import read_report
from bot.sample.broker import Fault, SampleBroker
from bot.sample.slack import Hold, Message, SampleSlack
from bot.service.alerting import routes_of
from bot.settings import BrokerSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers import slack_requests
from tests.helpers.alert_world import Timeline
from tests.helpers.alerting import buttons, shown
from tests.helpers.bot import Clock
from tests.helpers.redis_server import RedisServer
from tests.integration.test_serve import free_port, serving_env
from tests.integration.test_slack_command import texts

TICK = 1.0  # seconds: the check interval
SUSTAIN = 3  # ticks a pair must be stale before it fires (`for`)
REPEAT = 20  # ticks between reminders
# Ticks of quiet, at least, between two incidents of a lane: longer than a broker fault keeps
# pactbot from reading (a 15 s timeout), or it never sees the quiet and rightly keeps one alert
# where the oracle, reading with no fault, resolves one and fires another.
QUIET = 20
GRACE = 60  # seconds the replicas run on after the story, with no fault, before Slack is read
PATIENCE = 120  # seconds a person keeps pressing a button, or typing a command, that did nothing
# Ticks an incident lasts, at least. pactbot's waits in real time do not scale with the check
# interval: Slack's 10 s timeout, 30 s before a failed step is tried again, a 40 s step, a lease
# for a dead replica. Stacked by the faults, they delay what is said by up to a minute or so; an
# incident shorter than that may be over before it is said, and an alert that resolved unseen
# is not posted. In production `for` is minutes, and an incident lasts longer than that anyway.
SHORTEST = 100
ROTATION = 100  # ticks: its two Tests are a minute apart at least
SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
ONCALL = "U0ONCALL"
DIGEST_CHANNEL = "C0DIGEST"
GITHUB_API = "https://api.github.com"
LANES = ("orders", "billing", "search", "stock")
NEW_LANE = "new"  # providers with no build yet: their webhooks do not fire
CONSUMERS = ("web-app", "mobile-app")
LEASE = "pactbot:lease:scheduler"
STORE_DOWN = "cannot reach its store"
BROKER_FAULTS = ("broker 500", "broker timeout", "broker HTML", "broker truncated JSON")
SLACK_FAULTS = ("Slack 429", "Slack 5xx", "Slack timeout", "Slack lost answer")
PROCESS_FAULTS = ("Redis restart", "leader SIGKILL", "leader SIGKILL mid-call", "replica SIGTERM")
FAULTS = BROKER_FAULTS + SLACK_FAULTS + PROCESS_FAULTS
TWICE = "steps said twice"
STEPS = frozenset(step.value for step in Step)
# The lines of a rotation walked through to its end, one per move (`bot.domain.rotation`).
ROTATION_LINES = (
    "started the rotation",
    "Diagnosis confirmed.",
    "finished step 2",
    "finished step 3",
    "finished step 4",
    "finished step 5",
    "The new token works.",
    "finished step 7",
    "the rotation is finished",
)


def config_text() -> str:
    routes = "".join(
        f"  - provider: {lane}-*\n    channel: {channel(lane)}\n" for lane in (*LANES, NEW_LANE)
    )
    return f"""\
digest:
  channel: {DIGEST_CHANNEL}
  schedule: "* * * * *"
  timezone: UTC
access:
  oncall_usergroups: [pact-oncall]
alerts:
  check_interval: {int(TICK)}s
  for: {SUSTAIN}s
  repeat_interval: {REPEAT}s
routes:
{routes}"""


def channel(lane: str) -> str:
    return f"C0{lane.upper()}"


def provider(lane: str, episode: int = 0) -> str:
    return f"{lane}-{episode}-api" if lane == NEW_LANE else f"{lane}-api"


def hook(lane: str, episode: int = 0) -> str:
    """A webhook uuid of the broker's length, 22 characters."""
    return f"hook{lane.title()}{episode:03d}AbCdEfGhIjKlMn"[:22]


# The story -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    tick: int
    what: str  # stale, verify, dead, fix, unfired, silence, ack, rotate
    lane: str
    episode: int
    consumer: str = CONSUMERS[0]
    span: int = 0  # a silence's, in ticks

    @property
    def pair(self) -> PairKey:
        return PairKey(self.consumer, provider(self.lane, self.episode))


@dataclass(frozen=True, slots=True)
class Episode:
    number: int
    lane: str
    kind: str
    start: int
    end: int  # when the story heals it
    until: int = 0  # when the lane's next incident starts: the window of what it shows


@dataclass
class Story:
    ticks: int
    episodes: list[Episode] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def at(self, tick: int) -> list[Event]:
        return [event for event in self.events if event.tick == tick]

    def episode_of(self, lane: str, tick: float) -> Episode | None:
        return next(
            (e for e in self.episodes if e.lane == lane and e.start <= tick < e.until), None
        )


KINDS = ("stale", "stale", "joined", "token", "token", "silenced", "acknowledged")


def write_story(ticks: int, rng: random.Random, rotations: int) -> Story:
    """Each lane's incidents, one after another; the last heals well before the end."""
    story = Story(ticks)
    numbers = iter(range(1, 10_000))
    last = ticks - 30  # every incident over by then, so that its resolve is seen
    rotation_lanes = rng.sample(LANES, rotations)
    for lane in (*LANES, NEW_LANE):
        tick = rng.randint(2, 10)
        while True:
            if lane == NEW_LANE:
                kind = "unfired"
            elif lane in rotation_lanes and tick > 5:
                kind, rotation_lanes = "rotation", [x for x in rotation_lanes if x != lane]
            else:
                kind = rng.choice(KINDS)
            length = {"rotation": ROTATION, "acknowledged": rng.randint(110, 150)}.get(
                kind, rng.randint(SHORTEST, 140)
            )
            if tick + length > last:
                break
            number = next(numbers)
            story.episodes.append(Episode(number, lane, kind, tick, tick + length))
            story.events += _events(Episode(number, lane, kind, tick, tick + length), rng)
            tick += length + rng.randint(QUIET, 2 * QUIET) + (10 if kind == "silenced" else 0)
    windows = []
    for episode in story.episodes:
        following = [
            e.start for e in story.episodes if e.lane == episode.lane and e.start > episode.start
        ]
        windows.append(_until(episode, min(following, default=ticks + 1_000)))
    story.episodes = sorted(windows, key=lambda e: e.start)
    story.events.sort(key=lambda e: e.tick)
    return story


def _until(episode: Episode, until: int) -> Episode:
    return Episode(episode.number, episode.lane, episode.kind, episode.start, episode.end, until)


def _events(e: Episode, rng: random.Random) -> list[Event]:
    first, second = CONSUMERS

    def at(tick: int, what: str, consumer: str = first, span: int = 0) -> Event:
        return Event(tick, what, e.lane, e.number, consumer, span)

    if e.kind == "unfired":
        return [at(e.start, "unfired"), at(e.end, "verify")]
    if e.kind in ("token", "rotation"):
        events = [at(e.start, "dead"), at(e.end - 4, "fix")]
        if e.kind == "rotation":
            events.append(at(e.start + 4, "rotate"))
        return events
    events = [at(e.start, "stale"), at(e.end, "verify")]
    if e.kind == "joined":
        events += [at(e.start + rng.randint(10, 16), "stale", second), at(e.end, "verify", second)]
    if e.kind == "silenced":  # set five ticks before, it ends ten after the pair recovers
        events.append(at(e.start - 5, "silence", span=e.end - e.start + 15))
    if e.kind == "acknowledged":
        events.append(at(e.start + SUSTAIN + 8, "ack"))
    return events


class Broker:
    """The story's broker: the sample world moved by the story's events."""

    def __init__(self, clock: Clock | RealClock) -> None:
        self.timeline = Timeline(clock)  # type: ignore[arg-type]
        for lane in LANES:
            self.timeline.webhook(provider(lane), hook(lane))
            for consumer in CONSUMERS:
                self.timeline.fresh(PairKey(consumer, provider(lane)))

    def apply(self, event: Event) -> None:
        with self.timeline.world.lock:  # the sample broker may be answering from it right now
            self._apply(event)

    def _apply(self, event: Event) -> None:
        timeline = self.timeline
        if event.what == "stale":
            timeline.stale(event.pair)
        elif event.what == "verify":
            timeline.verify(event.pair)
        elif event.what == "dead":  # the token dies, and a publication's dispatch fails
            timeline.token(hook(event.lane), dead=True)
            timeline.pending(event.pair)
        elif event.what == "fix":  # a new token, and a publication dispatched and verified
            timeline.token(hook(event.lane), dead=False)
            timeline.pending(event.pair)
            timeline.verify(event.pair)
        elif event.what == "unfired":  # a new provider: the broker fires nothing for it
            timeline.webhook(event.pair.provider, hook(event.lane, event.episode), built=False)
            timeline.pending(event.pair)


class RealClock:
    @property
    def now(self) -> datetime:
        return datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


# The oracle ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Said:
    """One alert step, as the oracle or Slack says it."""

    alert: str
    channel: str
    step: str
    at: float  # seconds since the epoch
    mark: str = ""
    ts: str = ""  # its Slack message


async def oracle(story: Story, config_path: Path, t0: datetime) -> list[Said]:
    """The pure state machine fed the story at the nominal time of each tick, no fault."""
    config = load_config(config_path)
    routes, default = routes_of(config)
    assert default is not None
    rules = Rules(config.alerts.sustain, config.alerts.repeat_interval, config.retention.alerts)
    clock = Clock(t0)
    broker = Broker(clock)
    state, silences, said = AlertState(), list[Silence](), list[Said]()
    with SampleBroker(broker.timeline.world) as sample:
        settings = BrokerSettings(base_url=sample.url)
        async with BrokerClient(settings, timeouts=Timeouts(read=5)) as client:
            for tick in range(story.ticks):
                clock.now = t0 + timedelta(seconds=tick * TICK)
                for event in story.at(tick):
                    if event.what == "silence":
                        silences.append(_silence(event, clock.now))
                    elif event.what == "ack":
                        state = _acknowledged(state, channel(event.lane), rules, clock.now)
                    else:
                        broker.apply(event)
                report = await read_report(client, config, now=clock.now, github_api_url=GITHUB_API)
                setup = Setup(rules, routes, default, silences)
                state, actions = evaluate(state, report, None, setup, clock.now)
                for action in actions:
                    alert = state.alert(action.alert)
                    if alert is not None and action.step is not Step.UPDATE:
                        stamp = clock.now.timestamp()
                        said.append(Said(alert.id, alert.channel, action.step.value, stamp))
    return said


def _silence(event: Event, now: datetime) -> Silence:
    span = timedelta(seconds=event.span * TICK)
    return Silence(f"s{event.episode}", provider(event.lane), None, "soak", ONCALL, now, now + span)


def _acknowledged(state: AlertState, where: str, rules: Rules, now: datetime) -> AlertState:
    firing = [a for a in state.alerts if a.channel == where and a.firing and a.kind is Kind.PAIRS]
    if not firing:
        return state
    decided = acknowledge(state, firing[0].id, ONCALL, rules, now)
    return state if isinstance(decided, str) else decided[0]


# The processes -------------------------------------------------------------------------------


class Replicas:
    """Three `pactbot serve`, each started again (on a new port) when killed or stopped."""

    def __init__(self, env: Callable[[], dict[str, str]], directory: Path, count: int = 3) -> None:
        self._env = env
        self._directory = directory
        self._lock = threading.Lock()
        self._started = 0
        self.processes: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []
        for _ in range(count):
            self.processes.append(self._spawn())
            self.ports.append(self._port)

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = self._env()
        self._port = int(env["PORT"])
        self._started += 1
        with (self._directory / f"serve-{self._started}.log").open("wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"], env=env, cwd=self._directory, stderr=log
            )

    def alive(self) -> list[int]:
        """The ports of the processes running."""
        with self._lock:
            return [
                port for p, port in zip(self.processes, self.ports, strict=True) if p.poll() is None
            ]

    def slot_of(self, pid: int) -> int | None:
        with self._lock:
            return next((n for n, p in enumerate(self.processes) if p.pid == pid), None)

    def stop_and_start(self, slot: int, how: signal.Signals) -> None:
        with self._lock:
            process = self.processes[slot]
            process.send_signal(how)
            process.wait(timeout=30)
            self.processes[slot] = self._spawn()
            self.ports[slot] = self._port

    def wait_ready(self) -> None:
        for port in self.ports:
            for _ in range(600):
                with suppress(httpx.TransportError):
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        break
                time.sleep(0.05)  # start-up, not a deadline
            else:
                logs = sorted(self._directory.glob("serve-*.log"))
                tail = logs[0].read_text(errors="replace")[-3000:] if logs else ""
                raise SystemExit(f"a replica never became ready:\n{tail}")

    def stop(self) -> None:
        with self._lock:
            for process in self.processes:
                process.send_signal(signal.SIGTERM)
            for process in self.processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def leader(url: str) -> int | None:
    """The PID of the process holding the scheduler's lease (`host:pid:random`), if Redis says."""
    try:
        with redis.Redis.from_url(url, socket_timeout=1) as store:
            holder = store.hget(LEASE, "holder")
    except redis.RedisError:
        return None
    return int(holder.decode().split(":")[1]) if isinstance(holder, bytes) else None


# The faults ----------------------------------------------------------------------------------


@dataclass
class World:
    """What the soak runs against, and what moves it."""

    broker: SampleBroker
    slack: SampleSlack
    redis: RedisServer
    replicas: Replicas
    rng: random.Random
    t0: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)
    injected: Counter[str] = field(default_factory=Counter)
    leaders: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what people could not do
    _holds: dict[str, threading.Lock] = field(
        default_factory=lambda: {m: threading.Lock() for m in ("chat.postMessage", "chat.update")}
    )
    _processes: threading.Lock = field(default_factory=threading.Lock)

    def sleep_until(self, tick: float) -> bool:
        """Wait for the story's `tick`; False when the soak is stopping."""
        return not self.stop.wait(max(0.0, self.t0 + tick * TICK - time.time()))

    # faults, each run in a thread of its own
    def strike(self, kind: str) -> None:
        """Inject `kind`, again and again a few seconds apart until it takes (a leader to kill,
        a Slack call to hold), while the soak runs."""
        while not self.fault(kind):
            if self.stop.wait(3):
                return
        self.injected[kind] += 1

    def fault(self, kind: str) -> bool:
        rng, broker = self.rng, self.broker
        # A stretch of requests: a read fails at its first failing one, and reads come once a
        # tick, so each failing request is a tick of broker unread.
        stretch = rng.randint(1, 4)
        if kind == "broker 500":
            broker.inject(".", Fault(500, times=stretch))
        elif kind == "broker timeout":
            broker.inject(".", Fault(delay=Timeouts().read + 1, times=1))
        elif kind == "broker HTML":
            broker.inject(".", Fault.html(times=stretch))
        elif kind == "broker truncated JSON":
            broker.inject(".", Fault.garbage(times=stretch))
        elif kind in ("Slack 429", "Slack 5xx", "Slack lost answer"):
            method = rng.choice(("chat.postMessage", "chat.update"))
            if kind == "Slack 429":
                self.slack.fail_next(method, error="ratelimited", headers={"Retry-After": "2"})
            else:
                self.slack.fail_next(
                    method,
                    status=503 if kind == "Slack 5xx" else 500,
                    done=kind == "Slack lost answer",
                )
        elif kind == "Slack timeout":
            # Whichever method no other fault holds: a hold waits up to a minute for its call.
            methods = rng.sample(("chat.postMessage", "chat.update"), 2)
            free = [m for m in methods if not self._holds[m].locked()]
            return self._held((free or methods)[0], kill=False)
        elif kind == "leader SIGKILL mid-call":
            return self._held("chat.postMessage", kill=True)
        elif kind in ("leader SIGKILL", "replica SIGTERM"):
            with self._processes:
                if kind == "leader SIGKILL":
                    slot = self.replicas.slot_of(leader(self.redis.url) or 0)
                else:
                    slot = rng.randrange(3)
                if slot is None:
                    return False
                how = signal.SIGKILL if kind == "leader SIGKILL" else signal.SIGTERM
                self.replicas.stop_and_start(slot, how)
        elif kind == "Redis restart":
            with self._processes:
                self.redis.stop()
                time.sleep(rng.uniform(0.1, 1.5))  # how long Redis is away
                self.redis.start()
        return True

    def _held(self, method: str, *, kill: bool) -> bool:
        """A call of `method` kept past the client's 10 s timeout, and then done; with `kill`, the
        leader killed while it waits. False when no such call came within a minute."""
        with self._holds[method]:  # the sample Slack holds one call of a method at a time
            held = self.slack.hold(method)
            if not self._arrived(held):
                held.release()
                return False
            if kill:
                with self._processes:
                    slot = self.replicas.slot_of(leader(self.redis.url) or 0)
                    if slot is not None:
                        self.replicas.stop_and_start(slot, signal.SIGKILL)
            else:
                self.stop.wait(11)
            held.release()
            return kill is False or slot is not None

    def _arrived(self, held: Hold) -> bool:
        """Whether a call came into `held` within a minute, while the soak runs."""
        for _ in range(300):
            if held.arrived.wait(0.2):
                return True
            if self.stop.is_set():
                return False
        return False

    def watch_leader(self) -> None:
        while not self.stop.wait(0.2):
            pid = leader(self.redis.url)
            if pid is not None and (not self.leaders or self.leaders[-1] != pid):
                self.leaders.append(pid)


# The people ----------------------------------------------------------------------------------


class Person:
    """The on-call engineer: types commands and presses buttons on whichever replica the load
    balancer picks, and tries again, as people do, when nothing happened or pactbot could not."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._told: str | None = None  # what pactbot said last

    def command(self, text: str, where: str, done: Callable[[str | None], bool]) -> bool:
        def request(url: str) -> bytes:
            return slack_requests.slash_command(
                text, response_url=url, user_id=ONCALL, channel_id=where
            )

        return self._until(request, done)

    def press(self, message: Message, action_id: str, done: Callable[[str | None], bool]) -> bool:
        def request(url: str) -> bytes:
            current = self._world.slack.messages[(message.channel, message.ts)]
            return slack_requests.block_action(
                action_id,
                buttons(current).get(action_id, ""),
                response_url=url,
                user_id=ONCALL,
                channel_id=message.channel,
                message_ts=message.ts,
                message_blocks=current.blocks,
            )

        return self._until(request, done)

    def _until(self, request: Callable[[str], bytes], done: Callable[[str | None], bool]) -> bool:
        """Ask until `done`, for two minutes: at once again when nothing happened, a few
        seconds later when told to try again in a moment (one webhook Test a minute)."""
        give_up = time.time() + PATIENCE
        while time.time() < give_up:
            url = self._world.slack.response_url()
            if self._sent(request(url)) and self._answered(url, done):
                return True
            later = self._told is not None and "try again in a moment" in self._told
            if self._world.stop.wait(5 if later else 1):
                return False
        self._world.notes.append(f"gave up, told: {self._told!r}")
        return False

    def _sent(self, body: bytes) -> bool:
        ports = self._world.replicas.alive()
        if not ports:
            return False
        port = self._world.rng.choice(ports)
        headers = slack_requests.signed_headers(body, SIGNING_SECRET, int(time.time()))
        try:
            answer = httpx.post(
                f"http://127.0.0.1:{port}/slack/events", content=body, headers=headers, timeout=5
            )
        except httpx.TransportError:
            return False
        return answer.status_code == 200

    def _answered(self, url: str, done: Callable[[str | None], bool]) -> bool:
        """Whether `done` holds, given what pactbot answered through `url`, within 10 s."""
        path = url.removeprefix(self._world.slack.url)
        for _ in range(50):
            answers = [c for c in self._world.slack.calls_to("respond") if c.path == path]
            said = [texts(c.body) for c in answers]
            final = [s for s in said if not s.startswith("Checking")]
            self._told = final[-1] if final else self._told
            if done(final[-1] if final else None):
                return True
            if final or self._world.stop.wait(0.2):
                return False
        return False


# The story told ------------------------------------------------------------------------------


def tell(story: Story, world: World, live: Broker) -> list[threading.Thread]:
    """Each tick's events at its time; what people do, each in a thread of its own."""
    person, people = Person(world), list[threading.Thread]()
    for tick in range(story.ticks):
        if not world.sleep_until(tick):
            break
        for event in story.at(tick):
            act: Callable[[], object] | None = None
            if event.what == "silence":
                act = _silencing(person, event)
            elif event.what == "ack":
                act = _acknowledging(person, world, event)
            elif event.what == "rotate":
                act = _rotating(person, world, event, story)
            else:
                live.apply(event)
            if act is not None:
                people.append(threading.Thread(target=act, daemon=True))
                people[-1].start()
    return people


def _silencing(person: Person, event: Event) -> Callable[[], object]:
    text = f"silence {provider(event.lane)} {event.span * int(TICK)}s soak"
    return lambda: person.command(text, channel(event.lane), _said("silenced"))


def _said(word: str) -> Callable[[str | None], bool]:
    return lambda answer: answer is not None and word in answer.lower()


def _acknowledging(person: Person, world: World, event: Event) -> Callable[[], object]:
    def act() -> None:
        since = world.t0 + (event.tick - SUSTAIN - 8) * TICK
        for _ in range(60):  # the alert may come late when faults hold it up
            posted = [
                m
                for m in world.slack.in_channel(channel(event.lane))
                if m.thread_ts is None and float(m.ts) >= since and _mark(m)
            ]
            if posted:
                person.press(posted[-1], "pact_alert_ack", _said("acknowledged"))
                return
            if world.stop.wait(1):
                return

    return act


def _rotating(person: Person, world: World, event: Event, story: Story) -> Callable[[], object]:
    where = channel(event.lane)
    [episode] = [e for e in story.episodes if e.number == event.episode]

    def message() -> Message | None:
        found = [m for m in world.slack.in_channel(where) if m.thread_ts is None and _rotation(m)]
        return world.slack.messages[(where, found[-1].ts)] if found else None

    def at(step: int) -> Callable[[str | None], bool]:
        def reached(_: str | None) -> bool:
            current = message()
            found = re.search(r"Step (\d+) of", shown(current)) if current else None
            return found is not None and int(found.group(1)) >= step

        return reached

    def finished(_: str | None) -> bool:
        current = message()
        return current is not None and any(
            ROTATION_LINES[-1] in line for line in _thread(world.slack, current)
        )

    def shows(action: str) -> Callable[[str | None], bool]:
        def done(_: str | None) -> bool:
            current = message()
            return current is not None and action in buttons(current)

        return done

    def advance(started: Message, action: str, done: Callable[[str | None], bool]) -> bool:
        for _ in range(5):
            current = message()
            if current is None:
                return False
            if done(None):  # a press whose answer was lost did it already
                return True
            if action in buttons(current):
                return person.press(started, action, done)
            # The message shows a step the rotation has left (an edit of it landed late): a
            # person presses what it shows, is told where it is, and it shows that step again.
            person.press(started, "pact_rotation_done", shows(action))
        return False

    def act() -> None:
        if not person.command(
            f"rotate {provider(event.lane)}", where, lambda _: message() is not None
        ):
            return
        started = message()
        assert started is not None
        if not advance(started, "pact_rotation_test", at(2)):
            return
        tested = time.time()
        for step in (3, 4, 5, 6):
            if not advance(started, "pact_rotation_done", at(step)):
                return
        # The secret holds a new token once the story fixed it; one Test a minute.
        world.sleep_until(max(episode.end - 3, (tested + 61 - world.t0) / TICK))
        if advance(started, "pact_rotation_test", at(7)) and advance(
            started, "pact_rotation_done", at(8)
        ):
            advance(started, "pact_rotation_done", finished)

    return act


def _thread(slack: SampleSlack, message: Message) -> list[str]:
    return [shown(m) for m in slack.in_channel(message.channel) if m.thread_ts == message.ts]


def _mark(message: Message) -> str:
    return str((message.metadata or {}).get("event_payload", {}).get("mark", ""))


def run_faults(plan: list[tuple[float, str]], world: World) -> list[threading.Thread]:
    running = []
    for at, kind in plan:
        if not world.sleep_until(at):
            break
        running.append(threading.Thread(target=world.strike, args=(kind,), daemon=True))
        running[-1].start()
    return running


# What was said, against the oracle -----------------------------------------------------------


@dataclass
class Tally:
    said: Counter[str] = field(default_factory=Counter)  # "alerts: oracle", ...
    duplicates: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    late: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    notes: list[str] = field(default_factory=list)

    def compare(self, what: str, oracle: int, real: int) -> None:
        self.said[f"{what} oracle"] += oracle
        self.said[f"{what} said"] += real
        if oracle == 0:
            self.wrong[what] += real
        else:
            self.duplicates[what] += max(0, real - oracle)
            self.lost[what] += max(0, oracle - real)


def real_said(slack: SampleSlack) -> list[Said]:
    said = []
    for message in slack.messages.values():
        parts = _mark(message).split(":")
        if len(parts) == 3 and parts[1] in STEPS:
            at, mark = float(message.ts), _mark(message)
            said.append(Said(parts[0], message.channel, parts[1], at, mark, message.ts))
    return said


def judge(
    story: Story, expected: list[Said], real: list[Said], shows: Callable[[Said], str], t0: float
) -> Tally:
    """What Slack said (`real`; `shows`: what a step's message shows now) against the oracle,
    incident by incident of the story."""
    tally = Tally()
    for mark, times in Counter(s.mark for s in real).items():
        if times > 1:
            tally.duplicates[TWICE] += times - 1
            tally.notes.append(f"said {times} times: {mark}")
    by_lane = {channel(lane): lane for lane in (*LANES, NEW_LANE)}
    grouped = {name: _alerts(said) for name, said in (("oracle", expected), ("real", real))}
    placed: dict[tuple[str, int], dict[str, list[list[Said]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for name, alerts in grouped.items():
        for steps in alerts:
            first = steps[0]
            lane = by_lane.get(first.channel)
            if lane is None:
                tally.said[f"broker alerts ({name})"] += 1
                ticks = ", ".join(f"{s.step} {(s.at - t0) / TICK:.0f}" for s in steps)
                tally.notes.append(f"broker alert ({name}) at ticks: {ticks}")
                continue
            episode = story.episode_of(lane, (first.at - t0) / TICK)
            if episode is None:
                tally.wrong["alerts outside any incident"] += 1
                tally.notes.append(f"{name} alert outside any incident: {first}")
                continue
            placed[(lane, episode.number)][name].append(steps)
    for episode in story.episodes:
        found = placed[(episode.lane, episode.number)]
        oracle, said = found["oracle"], found["real"]
        tally.compare("alerts", len(oracle), len(said))
        if len(oracle) != len(said):
            tally.notes.append(f"{episode}: oracle {len(oracle)} alerts, Slack {len(said)}")
        for o, r in zip(oracle, said, strict=False):
            for step in ("resolve", "fix"):
                tally.compare(f"{step}s", _count(o, step), _count(r, step))
            tally.compare("joins", _count(o, "join"), _count(r, "join"))
            if _count(o, "resolve"):  # and its message shows it, whatever edit landed last
                tally.compare("ends shown", 1, int("Resolved" in shows(r[0])))
            tally.said["reminders oracle"] += _count(o, "remind")
            tally.said["reminders said"] += _count(r, "remind")
            # Decided twice within one repeat interval: said late, they may land close together.
            decided = sorted(int(s.mark.rsplit(":", 1)[1]) for s in r if s.step == "remind")
            close = sum(1 for a, b in itertools.pairwise(decided) if b - a < REPEAT * TICK / 2)
            tally.duplicates["reminders"] += close
            for step in ("post", "resolve"):
                late = [(b.at - a.at) / TICK for a in o for b in r if a.step == b.step == step][:1]
                tally.late[step] += late
                if late and late[0] > 2 * SUSTAIN:
                    tally.notes.append(f"{step} {late[0]:.0f} ticks late: {episode}")
    return tally


def _now_shown(slack: SampleSlack) -> Callable[[Said], str]:
    return lambda said: shown(slack.messages[(said.channel, said.ts)])


def _alerts(said: list[Said]) -> list[list[Said]]:
    """Each alert's steps, oldest first, the alerts in the order they were posted."""
    steps: dict[str, list[Said]] = defaultdict(list)
    for one in sorted(said, key=lambda s: s.at):
        steps[one.alert].append(one)
    return sorted(steps.values(), key=lambda s: s[0].at)


def _count(steps: list[Said], step: str) -> int:
    return sum(1 for s in steps if s.step == step)


def rotation_lines(story: Story, slack: SampleSlack, tally: Tally) -> None:
    """Each rotation of the story, walked through to its end: each move's line once."""
    for episode in story.episodes:
        if episode.kind != "rotation":
            continue
        where = channel(episode.lane)
        started = [m for m in slack.in_channel(where) if m.thread_ts is None and _rotation(m)]
        lines = [line for m in started for line in _thread(slack, m)]
        if len(started) != 1:
            tally.notes.append(f"{len(started)} rotation messages for {episode}")
        for expected in ROTATION_LINES:
            tally.compare("rotation lines", 1, sum(1 for line in lines if expected in line))
        ended = [m for m in started if m.text.endswith("finished")]
        tally.compare("ends shown", 1, len(ended))


def _rotation(message: Message) -> bool:
    """A rotation's message: "Rotating the token of …", "Token rotation of …: finished"."""
    return not _mark(message) and message.text.startswith(("Rotating the token", "Token rotation"))


def digests(slack: SampleSlack, tally: Tally, t0: float, t1: float) -> None:
    days = {datetime.fromtimestamp(t, UTC).date() for t in (t0, t1)}
    posted = [
        m
        for m in slack.in_channel(DIGEST_CHANNEL)
        if m.thread_ts is None and m.text.startswith("Pact freshness")
    ]
    tally.compare("digests", len(days), len(posted))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


# The soak ------------------------------------------------------------------------------------


def soak(ticks: int, per_fault: int, seed: int, rotations: int) -> int:
    rng = random.Random(seed)
    story = write_story(ticks, rng, rotations)
    # Over by the last incident's end, with time for a fault that waits for its call (a hold).
    plan = sorted((rng.uniform(5, ticks - 60), kind) for kind in FAULTS for _ in range(per_fault))
    started = time.monotonic()
    directory = Path(tempfile.mkdtemp(prefix="pactbot-chaos-"))
    with ExitStack() as stack:
        config = directory / "pactbot.yml"
        config.write_text(config_text(), encoding="utf-8")
        live = Broker(RealClock())
        broker = stack.enter_context(SampleBroker(live.timeline.world))
        slack = stack.enter_context(SampleSlack(clock=lambda: datetime.now(UTC)))
        slack.add_usergroup("S0ONCALL", "pact-oncall", [ONCALL])
        server = RedisServer(directory, persistent=True)
        server.start()
        stack.callback(server.stop)

        def env() -> dict[str, str]:
            return serving_env(
                broker.url,
                slack,
                directory,
                PORT=str(free_port()),
                SLACK_SIGNING_SECRET=SIGNING_SECRET,
                PACTBOT_STORE_URL=server.url,
                PACTBOT_CONFIG=str(config),
            )

        replicas = Replicas(env, directory)
        stack.callback(replicas.stop)
        replicas.wait_ready()
        world = World(broker, slack, server, replicas, random.Random(seed + 1), t0=time.time())
        watcher = threading.Thread(target=world.watch_leader, daemon=True)
        watcher.start()
        faults = threading.Thread(target=run_faults, args=(plan, world), daemon=True)
        faults.start()
        people = tell(story, world, live)
        world.stop.set()
        for thread in [faults, watcher, *people]:
            thread.join(timeout=30)
        time.sleep(max(0.0, world.t0 + story.ticks * TICK + GRACE - time.time()))
        replicas.stop()
        ended = time.time()
        expected = asyncio.run(oracle(story, config, datetime.fromtimestamp(world.t0, UTC)))
        tally = judge(story, expected, real_said(slack), _now_shown(slack), world.t0)
        rotation_lines(story, slack, tally)
        digests(slack, tally, world.t0, ended)
        report(story, tally, world, time.monotonic() - started, seed)
    failed = sum(tally.duplicates.values()) + sum(tally.lost.values()) + sum(tally.wrong.values())
    short = [kind for kind in FAULTS if world.injected[kind] < per_fault]
    if short:
        print(f"injected fewer than {per_fault} times: {', '.join(short)}")
        failed += len(short)
    if not failed:
        shutil.rmtree(directory)
        return 0
    keep_for_a_look(slack, directory)
    return 1


def keep_for_a_look(slack: SampleSlack, directory: Path) -> None:
    """What Slack shows, beside the replicas' logs, for whoever looks into a failed soak."""
    with (directory / "slack.jsonl").open("w", encoding="utf-8") as out:
        for message in sorted(slack.messages.values(), key=lambda m: float(m.ts)):
            seen = {"channel": message.channel, "ts": message.ts, "thread_ts": message.thread_ts}
            seen |= {"mark": _mark(message), "edits": message.edits, "shown": shown(message)}
            out.write(json.dumps(seen) + "\n")
    print(f"kept for a look: {directory}")


def report(story: Story, tally: Tally, world: World, took: float, seed: int) -> None:
    kinds = Counter(e.kind for e in story.episodes)
    print(
        f"chaos soak: seed {seed}, {story.ticks} ticks of {TICK:.0f} s (the check interval), "
        f"3 replicas, {took / 60:.1f} min"
    )
    print(
        f"story: {len(story.episodes)} incidents: "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    )
    print("faults: " + ", ".join(f"{k} {world.injected[k]}" for k in FAULTS))
    print(f"leader changes: {max(0, len(world.leaders) - 1)}")
    said = ("alerts", "joins", "fixes", "resolves", "reminders", "digests", "rotation lines")
    for what in (*said, "ends shown"):
        counts = f"oracle {tally.said[f'{what} oracle']}, said {tally.said[f'{what} said']}"
        verdict = f"lost {tally.lost[what]}, wrong {tally.wrong[what]}"
        print(f"{what}: {counts}, duplicates {tally.duplicates[what]}, {verdict}")
    print(f"steps said twice (one mark on two messages): {tally.duplicates[TWICE]}")
    print(
        "broker-unreachable alerts (faults held the broker for `for`): "
        f"{tally.said['broker alerts (real)']} (oracle {tally.said['broker alerts (oracle)']})"
    )
    for step, late in tally.late.items():
        print(
            f"lateness of each {step} against the oracle, in ticks: "
            f"p50 {percentile(late, 0.5):.1f}, p99 {percentile(late, 0.99):.1f}, "
            f"max {max(late, default=0):.1f}"
        )
    for note in tally.notes + world.notes:
        print(f"  {note}")
    duplicates, lost, wrong = (sum(c.values()) for c in (tally.duplicates, tally.lost, tally.wrong))
    print(f"duplicates {duplicates}, lost {lost}, wrong {wrong}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=1_000)
    parser.add_argument(
        "--faults", type=int, default=20, help="how many times each fault is injected"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rotations", type=int, default=2)
    arguments = parser.parse_args()
    return soak(arguments.ticks, arguments.faults, arguments.seed, arguments.rotations)


if __name__ == "__main__":
    sys.exit(main())
