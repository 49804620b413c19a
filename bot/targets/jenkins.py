"""Jenkins: a remote build, `POST {jenkins}/job/{name}[/job/{name}…]/build` or
`…/buildWithParameters`, authenticated by a user's API token as the basic-auth password (API
tokens need no CSRF crumb) and/or the job's own trigger token (`?token=`). Its answers, from
the Jenkins handbook and, where it is silent, its core source: 201 with the queue item's
`Location`; 401 for a user name and API token it does not accept; 403 with
`X-Required-Permission` for a user without Job/Build, and without it for a wrong trigger token,
no credentials or a missing crumb; 404 for a job that does not exist or that the user may not
see; 405 for a GET; 409 for a disabled job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.domain.model import DispatchTarget, HealthKind, TargetAnswer
from bot.targets.base import Ci, Documented, Meaning, Runbook, Step

KEY = "jenkins"
_BUILD = re.compile(
    r"^(?P<root>https?://[^?#]+?)/(?P<job>(?:job/[^/?#]+/)+)(?:build|buildWithParameters)/?"
    r"(?:[?#].*)?$"
)


def recognise(url: str, body: object, headers: Mapping[str, str]) -> DispatchTarget | None:
    found = _BUILD.match(url)
    if found is None:
        return None
    root = found["root"]
    job = "/".join(found["job"].strip("/").split("/")[1::2])  # job/a/job/b → a/b
    return DispatchTarget(root, "", job, None, ci=KEY, web=root)


def _missing_permission(answer: TargetAnswer) -> bool:
    return "x-required-permission" in answer.headers


def _job_url(target: DispatchTarget) -> str:
    return f"{target.web_url}/job/" + "/job/".join(target.repo.split("/"))


def _runbook(target: DispatchTarget, note: str) -> Runbook:
    tokens = ("the user's API tokens", f"{target.web_url}/me/configure")
    return Runbook(
        confirm=(
            "Run the webhook's Test. Jenkins answering 401 confirms that the API token is dead, "
            "and the rotation moves on. (The Test starts a real build.)"
        ),
        sign_in=Step(
            "Sign in to Jenkins as the service user",
            "{link} as {account}. :warning: Not your own account: a token of yours acts as you "
            "and dies when you leave.",
            ("Sign in to Jenkins", f"{target.web_url}/login"),
        ),
        generate=Step(
            "Add an API token",
            f"Open {{link}} (the *Security* page on Jenkins 2.468 and later), *Add new Token*, "
            f"name `{note}`, *Generate*. Where the job has a trigger token too (Configure → "
            "Triggers → Trigger builds remotely), the webhook's `token=` must match it.",
            tokens,
        ),
        copy=(
            "Copy the token Jenkins shows: it is shown once. The webhook sends it as its "
            "basic-auth password, with the user's name."
        ),
        revoke=Step(
            "Revoke the old API token",
            f"In {{link}}, *Revoke* the old token (not `{note}`). Finish records the rotation.",
            tokens,
        ),
    )


JENKINS = Ci(
    key=KEY,
    name="Jenkins",
    token="API token",
    account="the service user",
    recognise=recognise,
    runbook=_runbook,
    runs=_job_url,
    runs_name="the job",
    near=lambda url: False,  # any host may be a Jenkins: only its build URLs say so
    endpoint="https://<jenkins>/job/<name>/buildWithParameters",
    not_a_trigger="it posts to Jenkins, but not to a job's build: no build starts",
    where_it_sits="as the webhook's basic-auth password",
    documented=(
        Documented(
            401,
            Meaning(
                HealthKind.TOKEN_DEAD,
                "token dead (401)",
                "{where} rejected the user name and API token (HTTP 401): the token was revoked "
                "or expired, or the user is gone.",
                (
                    "Rotate it: a new API token of the service user, pasted into the secret the "
                    "webhook references, then Test again.",
                ),
            ),
        ),
        Documented(
            403,
            Meaning(
                HealthKind.FORBIDDEN,
                "missing permission (403)",
                "{where} refused the request (HTTP 403): the user may not build this job "
                "(Jenkins names the permission it misses: Job/Build).",
                ("Give the service user Job/Build on the job.",),
            ),
            when=_missing_permission,
        ),
        Documented(
            403,
            Meaning(
                HealthKind.FORBIDDEN,
                "refused (403)",
                "{where} refused the request (HTTP 403): a wrong trigger token (`token=`), no "
                "credentials, or a password where an API token belongs (a password needs a "
                "CSRF crumb).",
                (
                    "Send the service user's API token as the basic-auth password (API tokens "
                    "need no crumb), and the job's current trigger token if it has one.",
                ),
            ),
        ),
        Documented(
            404,
            Meaning(
                HealthKind.NO_ACCESS,
                "no such job (404)",
                "{where} answered 404: the job does not exist, or the user may not see it.",
                ("Check the job's path in the URL and the user's Job/Read.",),
            ),
        ),
        Documented(
            405,
            Meaning(
                HealthKind.REJECTED,
                "method not allowed (405)",
                "{where} answered 405: a build is started with POST.",
                ("Make the webhook POST.",),
            ),
        ),
        Documented(
            409,
            Meaning(
                HealthKind.FAILING,
                "job disabled (409)",
                "{where} answered 409: the job is disabled, so it cannot be built.",
                ("Enable the job in Jenkins.",),
            ),
        ),
    ),
)
