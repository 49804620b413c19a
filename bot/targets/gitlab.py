"""GitLab: a pipeline trigger, `POST {api}/projects/{id}/trigger/pipeline` (or
`…/projects/{id}/ref/{ref}/trigger/pipeline?token=…`), on gitlab.com or a self-managed host
(`https://HOST/api/v4`); `{id}` is the project's number or its URL-encoded path. The
pipeline trigger token travels as the request's `token` (query, form or JSON) and acts as the
member who made it. GitLab's answers: 201 with the pipeline; 404 `404 Not Found` for a token
it does not know (revoked, expired, never valid) and, on purpose, for a project the token may
not see; 400 for a missing token or ref, a ref that does not exist (`Reference not found`) or
an owner who may no longer run pipelines (`Insufficient permissions…`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from bot.domain.model import DispatchTarget, HealthKind
from bot.targets.base import Ci, Documented, Meaning, Runbook, Step, says

KEY = "gitlab"
_TRIGGER = re.compile(
    r"^(?P<api>https?://[^/?#]+(?:/[^?#]*?)?/api/v4)/projects/(?P<project>[^/?#]+)"
    r"(?:/ref/[^/?#]+)?/trigger/pipeline/?(?:[?#].*)?$"
)


def recognise(url: str, body: object, headers: Mapping[str, str]) -> DispatchTarget | None:
    found = _TRIGGER.match(url)
    if found is None:
        return None
    project = unquote(found["project"])
    owner, _, name = project.rpartition("/")
    api = found["api"]
    return DispatchTarget(api, owner, name, None, ci=KEY, web=api.removesuffix("/api/v4"))


def _near(url: str) -> bool:
    parts = urlsplit(url)
    return parts.hostname == "gitlab.com" or "/api/v4/projects/" in parts.path


def project_url(target: DispatchTarget) -> str:
    """The project's page: by its path, or by its number (GitLab redirects /projects/<id>)."""
    if target.owner:
        return f"{target.web_url}/{target.slug}"
    return f"{target.web_url}/projects/{target.repo}"


def _settings(target: DispatchTarget) -> str:
    return f"{project_url(target)}/-/settings/ci_cd#js-pipeline-triggers"


def _runbook(target: DispatchTarget, note: str) -> Runbook:
    triggers = ("the project's pipeline trigger tokens", _settings(target))
    return Runbook(
        confirm=(
            "Run the webhook's Test. GitLab answering 404 confirms that the trigger token is "
            "dead (GitLab answers 404 to a token it does not know), and the rotation moves on. "
            "(The Test starts a real pipeline.)"
        ),
        sign_in=Step(
            "Sign in to GitLab as a Maintainer of the project",
            "{link} as {account}. A trigger token acts as the member who made it: "
            ":warning: not your own account if you may leave the project, or the token dies "
            "with your membership.",
            ("Sign in to GitLab", f"{target.web_url}/users/sign_in"),
        ),
        generate=Step(
            "Add a pipeline trigger token",
            f"Open {{link}} (Settings → CI/CD → Pipeline trigger tokens), *Add new token*, "
            f"description `{note}`, and create it.",
            triggers,
        ),
        copy="Copy the token GitLab shows (it starts with `glptt-`).",
        revoke=Step(
            "Revoke the old trigger token",
            f"In {{link}}, *Revoke* the old token (not `{note}`): a revoked trigger token cannot "
            "come back. Finish records the rotation.",
            triggers,
        ),
    )


GITLAB = Ci(
    key=KEY,
    name="GitLab",
    token="pipeline trigger token",
    account="a Maintainer of the project",
    recognise=recognise,
    runbook=_runbook,
    runs=lambda target: f"{project_url(target)}/-/pipelines",
    runs_name="its pipelines",
    near=_near,
    endpoint="https://gitlab.com/api/v4/projects/<id>/trigger/pipeline",
    not_a_trigger="it posts to GitLab, but not to a pipeline trigger: no pipeline starts",
    where_it_sits="as the `token` of the trigger request",
    documented=(
        Documented(
            404,
            Meaning(
                HealthKind.TOKEN_DEAD,
                "token dead (404)",
                "{where} answered 404{said}: GitLab's answer to a pipeline trigger token it does "
                "not know (revoked, expired, or never valid), and to a project the token may not "
                "see.",
                (
                    "Rotate it: a Maintainer of the project adds a new pipeline trigger token "
                    "(Settings → CI/CD → Pipeline trigger tokens) and pastes it into the secret "
                    "the webhook references, then Test again. If a new token gets 404 too, check "
                    "the project in the URL.",
                ),
            ),
        ),
        Documented(
            400,
            Meaning(
                HealthKind.FORBIDDEN,
                "owner may not run pipelines (400)",
                "{where} answered 400{said}: the trigger token's owner may no longer create "
                "pipelines there (they left the project, lost their role, or the ref is "
                "protected).",
                (
                    "A current Maintainer of the project makes a new trigger token: a token acts "
                    "as the member who made it.",
                ),
            ),
            when=says("Insufficient permissions"),
        ),
        Documented(
            400,
            Meaning(
                HealthKind.REJECTED,
                "ref not found (400)",
                "{where} answered 400{said}: the branch or tag the webhook asks for does not "
                "exist.",
                ("Send an existing ref: the provider's main branch.",),
            ),
            when=says("Reference not found"),
        ),
        Documented(
            400,
            Meaning(
                HealthKind.REJECTED,
                "bad request (400)",
                "{where} answered 400{said}: the trigger request lacks its token or its ref, or "
                "its variables are not strings.",
                ("Send `token` and `ref`, and variables as `variables[NAME]=value`.",),
            ),
        ),
    ),
)
