"""An async Pact Broker client that can only read, and run the webhook Test.

Every request carries `Accept: application/hal+json` (without it `/integrations` answers Graphviz
and logs answer text) and `User-Agent: pactbot/<version>`. GETs are retried on connection errors,
5xx and 429; the Test is a POST that starts a real CI run and is never retried. Another POST
asks whether the Test is allowed, of a webhook that does not exist; the last two make a canary
(`pactbot canary --create`, a pacticipant and a webhook), never retried either. No other method
exists here: `DELETE` on the URLs the bot reads would wipe pacts, webhooks or whole integrations.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from pydantic import BaseModel

from bot import __version__
from bot.broker import answers, schema
from bot.broker.hal import expand, reroot
from bot.domain.model import PairKey
from bot.errors import (
    BrokerAuthRejected,
    BrokerBadResponse,
    BrokerError,
    BrokerForbidden,
    BrokerNotFound,
    BrokerServerError,
    BrokerUnreachable,
)
from bot.retry import Clock, RetryPolicy, Sleep, transport_failure, with_retries
from bot.settings import BrokerSettings

HAL_JSON = "application/hal+json"
USER_AGENT = f"pactbot/{__version__}"
# Pacticipants per page of a label's list: a few requests even for a large broker.
LABEL_PAGE = 1000
# Not the shape of the broker's own ids (22 characters), so no webhook it made has it.
PROBE_WEBHOOK = "pactbot-doctor-permission-probe"
READ_WRITE = (
    "use a read/write token (PactFlow: 'Read/write token (CI)'; open-source broker: the "
    "read/write basic-auth user)"
)

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Timeouts:
    read: float = 15.0
    # The broker waits up to 15 s to connect to the target and 15 s for its answer.
    test: float = 40.0


class BrokerClient:
    def __init__(
        self,
        settings: BrokerSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = asyncio.sleep,
        clock: Clock = lambda: datetime.now(UTC),
        concurrency: int = 8,
    ) -> None:
        auth: httpx.Auth | None = None
        headers = {"Accept": HAL_JSON, "User-Agent": USER_AGENT}
        if settings.token is not None:
            headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
        elif settings.username is not None and settings.password is not None:
            auth = httpx.BasicAuth(settings.username, settings.password.get_secret_value())
        self._http = httpx.AsyncClient(
            headers=headers,
            auth=auth,
            transport=transport,
            timeout=httpx.Timeout(timeouts.read, connect=5.0),
            follow_redirects=False,
        )
        self._settings = settings
        self._timeouts = timeouts
        self._retry = retry
        self._sleep = sleep
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._index: schema.Index | None = None
        # Each dashboard page's last answer and its parse: most reads find the broker as it
        # was, and validating megabytes again costs far more than comparing them. Other
        # answers are small, and their URLs change with what waits: they are parsed each time.
        self._pages: dict[str, tuple[bytes, schema.Dashboard]] = {}

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    async def __aenter__(self) -> BrokerClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._http.aclose()

    # -- reads ---------------------------------------------------------------------------------

    async def index(self) -> schema.Index:
        if self._index is None:
            self._index = await self._get(self.base_url + "/", "GET /", schema.Index)
        return self._index

    async def dashboard(self, page_size: int) -> list[schema.DashboardItem]:
        """Every dashboard row: the broker pages without links, so read until a short page."""
        items: list[schema.DashboardItem] = []
        page, previous = 1, None
        while True:
            rows = await self.dashboard_page(page, page_size)
            if rows and rows == previous:  # it would be read for ever
                raise BrokerBadResponse(
                    "GET /dashboard",
                    f"page {page} repeats page {page - 1}: the broker ignores page=",
                )
            items.extend(rows)
            if len(rows) < page_size:
                return items
            page, previous = page + 1, rows

    async def dashboard_page(self, page: int, size: int) -> list[schema.DashboardItem]:
        """One page of dashboard rows."""
        url = f"{self.base_url}/dashboard?page={page}&size={size}"
        return (await self._dashboard_page(url)).items

    async def matrix(self, pairs: Sequence[PairKey], limit: int) -> schema.Matrix:
        """Matrix rows between the pacticipants of `pairs` (name-only selectors, cvpv)."""
        names = sorted({name for pair in pairs for name in (pair.consumer, pair.provider)})
        query = [("q[][pacticipant]", name) for name in names]
        query += [("latestby", "cvpv"), ("limit", str(limit))]
        url = str(httpx.URL(self.base_url + "/matrix", params=query))
        return await self._get(url, "GET /matrix", schema.Matrix)

    async def webhooks(self) -> list[schema.WebhookResource]:
        """Every webhook: the list holds links only, so each one is read too."""
        links = await self.webhook_links()
        return list(await asyncio.gather(*(self.webhook(link.href) for link in links)))

    async def webhook_links(self) -> list[schema.Link]:
        """The list of webhooks: a link to each."""
        url = await self.link("pb:webhooks")
        return (await self._get(url, "GET /webhooks", schema.WebhookList)).links.webhooks

    async def webhook(self, href: str) -> schema.WebhookResource:
        return await self._get(self._reroot(href), "GET /webhooks/{uuid}", schema.WebhookResource)

    async def webhook_by_id(self, webhook_id: str) -> schema.WebhookResource:
        """The webhook with the broker's id `webhook_id` (any string: ids are not UUIDs)."""
        return await self.webhook(expand(await self.link("pb:webhook"), uuid=webhook_id))

    async def webhook_status(self, href: str) -> schema.TriggeredWebhookList:
        """The newest triggered webhook per webhook and event of one pair."""
        endpoint = "GET /pacts/provider/{p}/consumer/{c}/webhooks/status"
        return await self._get(self._reroot(href), endpoint, schema.TriggeredWebhookList)

    async def triggered_webhooks(self, pact_href: str) -> schema.TriggeredWebhookList:
        """The webhooks one publication triggered (the pact's `pb:triggered-webhooks`)."""
        endpoint = "GET /pacts/provider/{p}/consumer/{c}/version/{v}/triggered-webhooks"
        url = self._reroot(pact_href).rstrip("/") + "/triggered-webhooks"
        return await self._get(url, endpoint, schema.TriggeredWebhookList)

    async def triggered_webhook_logs(self, href: str) -> schema.TriggeredWebhookLogs:
        endpoint = "GET /triggered-webhooks/{uuid}/logs"
        return await self._get(self._reroot(href), endpoint, schema.TriggeredWebhookLogs)

    async def triggered_webhook_log_text(self, href: str) -> str:
        """The same logs as text: the only form brokers before 2.112.0 serve."""
        response = await self._get_with_retries(self._reroot(href), accept="text/plain")
        self._check(response, "GET /triggered-webhooks/{uuid}/logs")
        return response.text

    async def pacticipant(self, name: str) -> schema.PacticipantResource:
        """One pacticipant: its main branch, latest version and labels."""
        url = expand(await self.link("pb:pacticipant"), pacticipant=name)
        return await self._get(url, "GET /pacticipants/{name}", schema.PacticipantResource)

    async def branch_exists(self, pacticipant: str, branch: str) -> bool:
        """Whether `pacticipant` has a version on `branch` (the broker makes a branch only
        with its first version)."""
        link = await self.link("pb:pacticipant-branch")
        url = expand(link, pacticipant=pacticipant, branch=branch)
        try:
            await self._get(url, "GET /pacticipants/{name}/branches/{branch}", schema.Branch)
        except BrokerNotFound:
            return False
        return True

    async def labelled(self, href: str) -> list[str]:
        """The names of the pacticipants a label link (`pb:consumers`, `pb:providers` of a
        webhook) lists, every page of them."""
        names: list[str] = []
        url: str | None = self._reroot(href) + f"?size={LABEL_PAGE}"
        while url is not None:
            page = await self._get(url, "GET /pacticipants/label/{label}", schema.PacticipantList)
            names += [found.name for found in page.embedded.pacticipants]
            url = self._reroot(page.links.next.href) if page.links.next else None
        return names

    async def link(self, relation: str) -> str:
        """The href of an index relation, re-rooted on the configured base URL."""
        found = (await self.index()).links.get(relation)
        if not isinstance(found, schema.Link):
            raise BrokerBadResponse("GET /", f"the index has no {relation!r} link")
        return self._reroot(found.href)

    # -- the writes ------------------------------------------------------------------------------

    async def execute(self, href: str) -> schema.ExecuteResult:
        """Run the webhook Test once. Never retried: every run dispatches a real CI build."""
        url = self._reroot(href)
        endpoint = "POST /webhooks/{uuid}/execute"
        try:
            async with self._slots:
                response = await self._http.post(url, timeout=self._timeouts.test)
        except httpx.TimeoutException:
            raise BrokerError(
                f"the Pact Broker did not answer the Test within {self._timeouts.test:.0f} s at "
                f"{url}; it may still have dispatched a CI run, so check the provider's CI before "
                "running it again"
            ) from None
        except httpx.TransportError as error:
            raise BrokerUnreachable(url, transport_failure(error)) from None
        if response.status_code == 403:
            raise BrokerForbidden(
                url, "run the webhook Test", f"a read-only token cannot run it; {READ_WRITE}"
            )
        if response.status_code >= 500:
            raise BrokerServerError(url, response.status_code, attempts=1)
        return self._decode(response, endpoint, schema.ExecuteResult)

    async def create_pacticipant(self, name: str) -> bool:
        """Make the pacticipant `name`; False when it exists already."""
        try:
            await self.pacticipant(name)
        except BrokerNotFound:
            pass
        else:
            return False
        url = await self.link("pb:pacticipants")
        response = await self._post(url, {"name": name})
        if response.status_code == 409:  # made meanwhile
            return False
        self._check(response, "POST /pacticipants")
        return True

    async def create_webhook(self, definition: dict[str, object]) -> schema.WebhookResource:
        """Make a webhook from its JSON (`POST /webhooks`)."""
        url = await self.link("pb:webhooks")
        response = await self._post(url, definition)
        return self._decode(response, "POST /webhooks", schema.WebhookResource)

    async def _post(self, url: str, body: dict[str, object]) -> httpx.Response:
        """One POST of JSON, never retried: it writes."""
        try:
            async with self._slots:
                response = await self._http.post(
                    url, json=body, headers={"Content-Type": "application/json"}
                )
        except httpx.TransportError as error:
            raise BrokerUnreachable(url, transport_failure(error)) from None
        if response.status_code == 403:
            raise BrokerForbidden(url, "write", f"a read-only token cannot write; {READ_WRITE}")
        return response

    async def may_run_tests(self) -> bool | None:
        """Whether these credentials may run the webhook Test, found without running one.

        It POSTs to the Test of a webhook that does not exist. The broker (Webmachine) checks
        credentials and permissions before it looks the resource up: a read/write token gets
        404, a read-only one 403 (PactFlow) or 401 (the open-source read-only user), and
        nothing is dispatched. None when the answer says neither, or the probe's webhook
        exists after all (then nothing is posted).
        """
        url = expand(await self.link("pb:webhook"), uuid=PROBE_WEBHOOK)
        try:
            await self.webhook(url)
        except BrokerNotFound:
            pass
        else:
            return None
        try:
            async with self._slots:
                response = await self._http.post(url + "/execute")
        except httpx.TransportError as error:
            raise BrokerUnreachable(url, transport_failure(error)) from None
        return {404: True, 401: False, 403: False}.get(response.status_code)

    # -- plumbing --------------------------------------------------------------------------------

    def _reroot(self, href: str) -> str:
        """`href`, from an answer, on the configured base URL; refused if it is no URL."""
        root = None
        if self._index is not None:
            own = self._index.links.get("self")
            root = own.href if isinstance(own, schema.Link) else None
        try:
            url = reroot(href, self.base_url, root)
            httpx.URL(url)  # what httpx would refuse when sending, refused here with the link
        except (ValueError, httpx.InvalidURL) as error:
            raise BrokerBadResponse(
                "the Pact Broker", f"the link {href[:200]!r} cannot be followed ({error})"
            ) from None
        return url

    async def _get(self, url: str, endpoint: str, model: type[Model]) -> Model:
        response = await self._get_with_retries(url)
        return self._decode(response, endpoint, model)

    async def _get_with_retries(self, url: str, accept: str = HAL_JSON) -> httpx.Response:
        async def send() -> httpx.Response:
            async with self._slots:
                return await self._http.get(url, headers={"Accept": accept})

        try:
            answer = await with_retries(send, self._retry, self._sleep, self._clock)
        except httpx.TransportError as error:
            raise BrokerUnreachable(url, transport_failure(error)) from None
        if answer.gave_up:
            raise BrokerServerError(url, answer.response.status_code, answer.attempts, answer.wait)
        return answer.response

    def _decode(self, response: httpx.Response, endpoint: str, model: type[Model]) -> Model:
        self._check(response, endpoint)
        return answers.json_model(response, endpoint, model)

    async def _dashboard_page(self, url: str) -> schema.Dashboard:
        """One dashboard page, parsed again only when its bytes changed since the last read."""
        response = await self._get_with_retries(url)
        self._check(response, "GET /dashboard")
        # A digest, not the bytes: holding megabytes across reads fragments the heap.
        digest = hashlib.sha256(response.content).digest()
        kept = self._pages.get(url)
        if kept is not None and kept[0] == digest:
            return kept[1]  # frozen models: sharing the last parse is safe
        page = answers.json_model(response, "GET /dashboard", schema.Dashboard)
        self._pages[url] = (digest, page)
        return page

    def _check(self, response: httpx.Response, endpoint: str) -> None:
        """Raise the error an HTTP status means; 2xx passes."""
        url = str(response.request.url)
        status = response.status_code
        if status == 401:
            raise BrokerAuthRejected(url, self._settings.credential_hint)
        if status == 403:
            raise BrokerForbidden(url, "answer", "the credentials may not read this resource")
        if status == 404:
            said = answers.broker_says(response)
            raise BrokerNotFound(f"{endpoint} at {url}" + (f" ({said})" if said else ""), url=url)
        if 300 <= status < 400:
            where = response.headers.get("location", "elsewhere")
            raise BrokerBadResponse(
                endpoint,
                f"HTTP {status} redirect to {where}: a proxy or login page is in the way; "
                "set PACT_BROKER_BASE_URL to the broker itself",
            )
        if status >= 400:
            said = answers.broker_says(response) or response.reason_phrase
            raise BrokerBadResponse(endpoint, f"HTTP {status}: {said}")
