"""Azure DevOps: a pipeline run, `POST {org}/{project}/_apis/pipelines/{id}/runs` (the
template library's), or a queued build, `POST {org}/{project}/_apis/build/builds` with the
definition in the body; on dev.azure.com, the older `{org}.visualstudio.com`, or an Azure
DevOps Server (`https://HOST/{collection}/{project}/_apis/…`). A PAT with the Build (Read &
execute) scope travels as `Authorization: Basic` (an empty user name and the PAT).

Its answers, from Microsoft's REST reference where it says them and from public issue threads
and Microsoft's own API clients where it does not (`tests/fixtures/targets/SOURCES.md`): 200
with the run; a PAT it does not accept answered **203 with its HTML sign-in page**, which the
broker counts as a success, unless the request carries `X-TFS-FedAuthRedirect: Suppress`
(Microsoft's clients send it), then 401 (`Access Denied: The Personal Access Token used has
expired.`); 429 for its rate limit. Its 403 and 404 are not documented: read by HTTP alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from bot.domain.model import Advice, DispatchTarget, HealthKind, TargetAnswer
from bot.domain.webhook_logs import json_field
from bot.targets.base import Ci, Documented, Meaning, Runbook, Step

KEY = "azure_devops"
SUPPRESS = "X-TFS-FedAuthRedirect"
_RUN = re.compile(
    r"^(?P<web>https?://[^/?#]+(?:/[^/?#]+)*?)/(?P<project>[^/?#]+)/_apis/"
    r"(?:build/builds|pipelines/(?P<pipeline>\d+)/runs)/?(?:[?#].*)?$"
)


def recognise(url: str, body: object, headers: Mapping[str, str]) -> DispatchTarget | None:
    found = _RUN.match(url)
    if found is None:
        return None
    web = found["web"]
    parts = urlsplit(web)
    # dev.azure.com/{org}; {org}.visualstudio.com; a server's collection: the last part.
    org = parts.path.strip("/").rpartition("/")[2] or (parts.hostname or "").split(".")[0]
    definition = json_field(body, "definition", "id")
    pipeline = found["pipeline"] or (str(definition) if definition is not None else None)
    advice = () if _suppressed(headers) else (_SIGN_IN_PAGE,)
    return DispatchTarget(
        web, org, found["project"], None, ci=KEY, web=web, pipeline=pipeline, advice=advice
    )


def _suppressed(headers: Mapping[str, str]) -> bool:
    return any(
        name.lower() == SUPPRESS.lower() and value.strip().lower() == "suppress"
        for name, value in headers.items()
    )


_SIGN_IN_PAGE = Advice(
    "sign_in_page",
    "Azure DevOps answers a dead PAT with a 203 sign-in page, which the broker counts as a "
    "success: a dead PAT would look green in the broker",
    f"add the header `{SUPPRESS}: Suppress`: Azure DevOps then answers 401, a failure (its own "
    "API clients send it; the REST reference does not say it)",
)


def _sign_in_page(answer: TargetAnswer) -> bool:
    return "text/html" in answer.headers.get("content-type", "")


def _runbook(target: DispatchTarget, note: str) -> Runbook:
    tokens = ("its personal access tokens", f"{target.web_url}/_usersSettings/tokens")
    return Runbook(
        confirm=(
            "Run the webhook's Test. Azure DevOps refusing the PAT (401, or 203 with its "
            "sign-in page) confirms that it is dead, and the rotation moves on. (The Test "
            "queues a real run of the pipeline.)"
        ),
        sign_in=Step(
            "Sign in to Azure DevOps as the service account",
            "{link} as {account}, in a private window. :warning: Not your own account: a PAT "
            "of yours acts as you and dies when you leave.",
            ("Sign in to Azure DevOps", target.web_url),
        ),
        generate=Step(
            "Create a PAT",
            f"Open {{link}}, *New Token*: name `{note}`, organization *{target.owner}* only, "
            "scope *Build (Read & execute)* and nothing else, and the longest expiry the "
            "organisation allows (a year at most). :calendar: Set a reminder a week before "
            "that date.",
            tokens,
        ),
        copy=(
            "Copy the PAT Azure DevOps shows: it is shown once. Where the webhook sends "
            "`Authorization: Basic ${user.<secret>}`, the secret holds the base64 of `:` and "
            "the PAT (an empty user name)."
        ),
        revoke=Step(
            "Revoke the old PAT",
            f"In {{link}}, *Revoke* the old PAT (not `{note}`). Finish records the rotation.",
            tokens,
        ),
    )


def _runs(target: DispatchTarget) -> str:
    runs = f"{target.web_url}/{target.repo}/_build"
    return f"{runs}?definitionId={target.pipeline}" if target.pipeline else runs


AZURE_DEVOPS = Ci(
    key=KEY,
    name="Azure DevOps",
    token="PAT",
    account="the service account",
    recognise=recognise,
    runbook=_runbook,
    runs=_runs,
    runs_name="its pipeline runs",
    near=lambda url: (
        "/_apis/" in url
        and (urlsplit(url).hostname or "").endswith(("dev.azure.com", "visualstudio.com"))
    ),
    endpoint="https://dev.azure.com/<org>/<project>/_apis/pipelines/<id>/runs?api-version=7.1",
    not_a_trigger=(
        "it posts to Azure DevOps, but neither runs a pipeline nor queues a build: nothing starts"
    ),
    where_it_sits="in the Authorization header (Basic)",
    documented=(
        Documented(
            203,
            Meaning(
                HealthKind.TOKEN_DEAD,
                "token dead (203, sign-in page)",
                "{where} answered 203 with its sign-in page: Azure DevOps' answer to a PAT it "
                "does not accept (expired, revoked or wrong). The broker counts a 203 as a "
                "success, so it shows nothing wrong.",
                (
                    "Rotate it: a new PAT with the Build (Read & execute) scope, pasted into the "
                    "secret the webhook references, then Test again.",
                    f"Add the header `{SUPPRESS}: Suppress` to the webhook: a dead PAT is then "
                    "a 401 that the broker counts as a failure.",
                ),
            ),
        ),
        Documented(
            200,
            Meaning(
                HealthKind.TOKEN_DEAD,
                "token dead (sign-in page)",
                "{where} answered with its HTML sign-in page instead of a run: the PAT is not "
                "accepted (expired, revoked or wrong), though the broker counts it a success.",
                (
                    "Rotate it: a new PAT with the Build (Read & execute) scope, pasted into the "
                    "secret the webhook references, then Test again.",
                ),
            ),
            when=_sign_in_page,
        ),
        Documented(
            401,
            Meaning(
                HealthKind.TOKEN_DEAD,
                "token dead (401)",
                "{where} rejected the PAT (HTTP 401{said}): it is expired, revoked or wrong.",
                (
                    "Rotate it: a new PAT with the Build (Read & execute) scope, pasted into the "
                    "secret the webhook references, then Test again.",
                ),
            ),
        ),
        Documented(
            429,
            Meaning(
                HealthKind.FAILING,
                "rate limited (429)",
                "{where} turned the request away (HTTP 429{said}): its rate limit.",
                ("It passes on its own; Test again in a while.",),
            ),
        ),
    ),
)
