"""GitHub's REST API, read-only: the workflow runs a `repository_dispatch` started."""

from bot.github.client import GitHubClient
from bot.github.schema import WorkflowRun

__all__ = ["GitHubClient", "WorkflowRun"]
