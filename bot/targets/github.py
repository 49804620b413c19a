"""GitHub: a `repository_dispatch` (`POST /repos/{owner}/{repo}/dispatches`) with a classic
token of a machine user in `Authorization: Bearer`, on github.com or an Enterprise Server
(`https://HOST/api/v3`). GitHub's answers: 204 started, 401 `Bad credentials`, 403 with
`x-github-sso: required` for a token not authorised for SAML SSO, 404 for a repository the
token cannot see, 422 for a body GitHub refuses; `github-authentication-token-expiration`
says when an expiring token dies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from bot.domain.model import (
    DEFAULT_GITHUB_API_URL,
    Advice,
    DispatchTarget,
    HealthKind,
    TargetAnswer,
)
from bot.domain.webhook_logs import json_text_field
from bot.targets.base import Ci, Documented, Meaning, Runbook, Step

KEY = "github"
MEANT_EVENT = "contract_requiring_verification_published"

_REPO_PATH = r"/repos/(?P<owner>[^/?#]+)/(?P<repo>[^/?#]+)/dispatches/?(?:[?#].*)?$"
# GitHub Enterprise Server serves its REST API under /api/v3 on its own host.
_ENTERPRISE = re.compile(r"^(?P<api>https?://[^/]+/api/v3)" + _REPO_PATH)


def dispatch(
    url: str, body: object, headers: Mapping[str, str], api_url: str = DEFAULT_GITHUB_API_URL
) -> DispatchTarget | None:
    """The repository a webhook dispatches to, on `api_url` (GITHUB_API_URL), github.com or
    an Enterprise Server; None if it is not a dispatch."""
    event_type = json_text_field(body, "event_type")
    advice = () if event_type else (_NO_EVENT_TYPE,)
    for api in dict.fromkeys((api_url.rstrip("/"), DEFAULT_GITHUB_API_URL)):
        if match := re.match(re.escape(api) + _REPO_PATH, url):
            return DispatchTarget(api, match["owner"], match["repo"], event_type, advice=advice)
    if match := _ENTERPRISE.match(url):
        api = match["api"]
        return DispatchTarget(api, match["owner"], match["repo"], event_type, advice=advice)
    return None


_NO_EVENT_TYPE = Advice(
    "no_event_type",
    "its body has no event_type: GitHub rejects the dispatch (HTTP 422)",
    f'send {{"event_type": "{MEANT_EVENT}", "client_payload": {{…}}}}, the type the '
    "provider's workflow lists under repository_dispatch",
)


def aims_at(url: str) -> bool:
    """Whether `url` is GitHub's REST API (github.com's, or an Enterprise Server's /api/v3)."""
    parts = urlsplit(url)
    return parts.hostname == "api.github.com" or parts.path.startswith("/api/v3/")


def sso_required(answer: TargetAnswer) -> bool:
    """GitHub's header that says a classic PAT is not authorised for the org's SAML SSO."""
    return answer.status == 403 and "required" in answer.headers.get("x-github-sso", "")


def _runbook(target: DispatchTarget, note: str) -> Runbook:
    web = target.web_url
    new = f"{web}/settings/tokens/new?scopes=repo&description={quote(note)}"
    return Runbook(
        confirm=(
            "Run the webhook's Test. GitHub answering 401 confirms that the token is dead, and "
            "the rotation moves on. (The Test dispatches a real run of the provider's workflow.)"
        ),
        sign_in=Step(
            "Sign in to GitHub as the machine user",
            "{link} as {account}, in a private window. :warning: Not your own account: a token "
            "of yours acts as you and dies when you leave.",
            ("Sign in to GitHub", f"{web}/login"),
        ),
        generate=Step(
            "Generate a classic token",
            f"{{link}} (the link fills it in): note `{note}`, expiration *No expiration*, scope "
            "*repo* and nothing else.",
            ("Generate a new classic token", new),
        ),
        copy="Copy the token GitHub shows: it is shown once.",
        revoke=Step(
            "Revoke the old token",
            f"As the machine user open {{link}} and delete the old one (not `{note}`). Finish "
            "records the rotation.",
            ("its tokens", f"{web}/settings/tokens"),
        ),
    )


def _runs(target: DispatchTarget) -> str:
    return f"{target.web_url}/{target.slug}/actions?query=event%3Arepository_dispatch"


GITHUB = Ci(
    key=KEY,
    name="GitHub",
    token="token",
    account="the machine user",
    recognise=lambda url, body, headers: dispatch(url, body, headers),
    runbook=_runbook,
    runs=_runs,
    runs_name="its Actions",
    near=aims_at,
    endpoint="https://api.github.com/repos/<owner>/<repo>/dispatches",
    not_a_trigger="it posts to GitHub, but not to a repository's /dispatches: no workflow starts",
    expiry_header="github-authentication-token-expiration",
    documented=(
        Documented(
            401,
            Meaning(
                HealthKind.TOKEN_DEAD,
                "token dead (401)",
                "{where} rejected the token (HTTP 401{said}): the PAT in the broker's secret is "
                "expired, revoked or wrong.",
                (
                    "Rotate it: sign in to GitHub as the machine user, generate a classic token "
                    "with the repo scope, paste it into the secret the webhook references, then "
                    "Test again.",
                ),
            ),
        ),
        Documented(
            403,
            Meaning(
                HealthKind.FORBIDDEN,
                "SSO not authorised (403)",
                "{where} refused the token (HTTP 403): it is not authorised for the "
                "organisation's SAML single sign-on.",
                (
                    "As the machine user open Settings → Developer settings → Personal access "
                    "tokens (classic), choose Configure SSO on the token and authorise the "
                    "organisation.",
                ),
            ),
            when=sso_required,
        ),
        Documented(
            403,
            Meaning(
                HealthKind.FORBIDDEN,
                "forbidden (403)",
                "{where} refused the request (HTTP 403{said}).",
                (
                    "A fine-grained token without permission, a rate limit, or GitHub's lock-out "
                    "after repeated bad credentials: read GitHub's message above.",
                ),
            ),
        ),
        Documented(
            404,
            Meaning(
                HealthKind.NO_ACCESS,
                "no access or no repo scope (404)",
                "{where} answered 404{said}: the repository does not exist, or the token cannot "
                "see it, or it lacks the repo scope (GitHub hides private repositories behind "
                "404).",
                (
                    "Check that the machine user can write to the repository and that its "
                    "classic token has the repo scope.",
                ),
            ),
        ),
        Documented(
            422,
            Meaning(
                HealthKind.REJECTED,
                "body rejected (422)",
                "{where} rejected the request body (HTTP 422{said}).",
                ("event_type must be 1 to 100 characters and client_payload at most 10 keys.",),
            ),
        ),
    ),
    where_it_sits="in the Authorization header",
)
