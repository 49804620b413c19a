"""Bitbucket Cloud Pipelines: `POST https://api.bitbucket.org/2.0/repositories/{workspace}/
{repo}/pipelines/` with a pipeline target in the body; credentials by basic auth (the
template library's app password; since 28 July 2026 an API token with the Atlassian account
email as user name) or a repository access token as `Bearer`. Its answers: 201 with the
pipeline; 400 when the repository is not enabled for Pipelines, `bitbucket-pipelines.yml` is
missing at that revision or the body is invalid; 404 for a workspace or repository not found;
401 `Token is invalid, expired, or not supported for this endpoint.`; 403 `Forbidden`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.domain.model import DispatchTarget, HealthKind
from bot.targets.base import Ci, Documented, Meaning, Runbook, Step, on_host

KEY = "bitbucket"
_PIPELINES = re.compile(
    r"^(?P<api>https://api\.bitbucket\.org/2\.0)/repositories/(?P<workspace>[^/?#]+)/"
    r"(?P<repo>[^/?#]+)/pipelines/?(?:[?#].*)?$"
)
_TOKENS = "https://id.atlassian.com/manage-profile/security/api-tokens"


def recognise(url: str, body: object, headers: Mapping[str, str]) -> DispatchTarget | None:
    found = _PIPELINES.match(url)
    if found is None:
        return None
    return DispatchTarget(
        found["api"], found["workspace"], found["repo"], None, ci=KEY, web="https://bitbucket.org"
    )


def _runbook(target: DispatchTarget, note: str) -> Runbook:
    tokens = ("the account's API tokens", _TOKENS)
    return Runbook(
        confirm=(
            "Run the webhook's Test. Bitbucket answering 401 confirms that the credential is "
            "dead, and the rotation moves on. (The Test starts a real pipeline.)"
        ),
        sign_in=Step(
            "Sign in to Atlassian as the bot account",
            "{link} as {account}. :warning: Not your own account: a token of yours acts as you "
            "and dies when you leave.",
            ("Sign in to Bitbucket", "https://bitbucket.org/account/signin/"),
        ),
        generate=Step(
            "Create an API token with scopes",
            f"Open {{link}}, *Create API token with scopes*: name `{note}`, app *Bitbucket*, "
            "scope `write:pipeline:bitbucket` only, the longest expiry allowed. (App passwords "
            "stopped working on 28 July 2026. A repository access token with *Pipelines: Write*, "
            "sent as `Bearer`, works too.)",
            tokens,
        ),
        copy=(
            "Copy the token Atlassian shows: it is shown once. The webhook's basic-auth user "
            "name is the account's Atlassian email, its password the token."
        ),
        revoke=Step(
            "Revoke the old credential",
            f"In {{link}}, revoke the old token (not `{note}`). Finish records the rotation.",
            tokens,
        ),
    )


BITBUCKET = Ci(
    key=KEY,
    name="Bitbucket",
    token="API token",
    account="the bot account",
    recognise=recognise,
    runbook=_runbook,
    runs=lambda target: f"{target.web_url}/{target.slug}/pipelines",
    runs_name="its pipelines",
    near=on_host("api.bitbucket.org"),
    endpoint="https://api.bitbucket.org/2.0/repositories/<workspace>/<repo>/pipelines/",
    not_a_trigger=(
        "it posts to Bitbucket, but not to a repository's pipelines: no pipeline starts"
    ),
    where_it_sits="as the webhook's basic-auth password (or a Bearer access token)",
    documented=(
        Documented(
            401,
            Meaning(
                HealthKind.TOKEN_DEAD,
                "token dead (401)",
                "{where} rejected the credential (HTTP 401{said}): it expired or was revoked, "
                "or it is an app password (Bitbucket stopped taking them on 28 July 2026).",
                (
                    "Rotate it: an API token with the scope `write:pipeline:bitbucket` (basic "
                    "auth, the Atlassian account email as user name), pasted into the secret the "
                    "webhook references, then Test again.",
                ),
            ),
        ),
        Documented(
            403,
            Meaning(
                HealthKind.FORBIDDEN,
                "forbidden (403)",
                "{where} refused the request (HTTP 403{said}): the credential may not run "
                "pipelines there.",
                ("Give it the pipeline write scope (`write:pipeline:bitbucket`).",),
            ),
        ),
        Documented(
            404,
            Meaning(
                HealthKind.NO_ACCESS,
                "not found (404)",
                "{where} answered 404{said}: the workspace or the repository was not found.",
                ("Check the workspace and repository in the URL.",),
            ),
        ),
        Documented(
            400,
            Meaning(
                HealthKind.REJECTED,
                "pipeline not started (400)",
                "{where} answered 400{said}: the repository is not enabled for Pipelines, "
                "`bitbucket-pipelines.yml` is missing at that revision, or the body is invalid.",
                ("Check the branch and the custom pipeline's name the body asks for.",),
            ),
        ),
    ),
)
