"""GitHub's JSON, as far as pactbot reads it (shapes: shared/broker-api/fixtures/github-*.json).

Unknown keys are ignored. `status` and `conclusion` stay strings: GitHub adds values over time
(`startup_failure`, `stale`), and a new one must not make every read fail.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict


class _Json(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WorkflowRun(_Json):
    """One GitHub Actions workflow run."""

    id: int
    name: str | None
    display_title: str
    event: str
    status: str | None
    conclusion: str | None
    created_at: AwareDatetime
    html_url: str
    head_branch: str | None
    run_attempt: int = 1


class WorkflowRuns(_Json):
    total_count: int
    workflow_runs: tuple[WorkflowRun, ...]
