"""The tests that need Redis: run where there is one, skipped with one line that says how to run
them where there is none (a fresh machine), and failed where CI requires them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.redis_server import HOW, NEED_REDIS, redis_unavailable

ROOT = Path(__file__).resolve().parents[2]
# Two tests of the store contract: one on SQLite, one on Redis.
SELECTED = [
    "tests/integration/test_store_contract.py::test_only_the_holder_can_release_a_lease",
    "-p",
    "no:xdist",
    "-q",
]


def test_redis_is_there_with_a_redis_server_on_path_or_a_redis_url() -> None:
    assert redis_unavailable({}, lambda name: None) == "no redis-server on PATH and no REDIS_URL"
    assert redis_unavailable({}, lambda name: f"/usr/bin/{name}") is None
    assert redis_unavailable({"REDIS_URL": "redis://127.0.0.1:6379/0"}, lambda name: None) is None


def run_without_redis(**extra: str) -> subprocess.CompletedProcess[str]:
    """The selected tests, run as on a machine with no redis-server on PATH and no REDIS_URL."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in ("REDIS_URL", NEED_REDIS, "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")
    }
    empty = ROOT / "tests" / "fixtures"  # a directory with no redis-server in it
    environ |= {"PATH": str(empty)} | extra
    return subprocess.run(
        [sys.executable, "-m", "pytest", *SELECTED],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_redis_the_redis_tests_are_skipped_and_the_run_says_how_to_run_them() -> None:
    ran = run_without_redis()

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 passed, 1 skipped" in ran.stdout
    assert f"1 test that need Redis skipped: {HOW}" in ran.stdout


def test_where_redis_is_required_its_absence_fails_the_run() -> None:
    ran = run_without_redis(**{NEED_REDIS: "1"})

    assert ran.returncode != 0
    assert f"needs Redis, and {NEED_REDIS} is set" in ran.stdout


@pytest.mark.skipif(redis_unavailable(os.environ) is not None, reason="needs Redis here")
def test_with_redis_on_path_the_redis_tests_run() -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", *SELECTED],
        cwd=ROOT,
        env={name: value for name, value in os.environ.items() if name != "PYTEST_XDIST_WORKER"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "2 passed" in ran.stdout
