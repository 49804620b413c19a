"""The README's quick start is what CI runs: the two must not drift apart."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import load_config
from bot.store.factory import open_store
from bot.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_the_quick_start_is_two_commands_the_first_runs_the_demo() -> None:
    commands = quick_start_commands()

    assert len(commands) == 2
    assert commands[0].endswith("pactbot demo")
    assert "pytest" in commands[1]


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()

    assert quick_start_commands()[1] in ci


def test_the_readmes_config_examples_are_accepted(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [block.split("```", 1)[0] for block in readme.split("```yaml\n")[1:]]
    examples = [block for block in blocks if block.startswith(("defaults:", "digest:"))]
    path = tmp_path / "pactbot.yml"

    assert len(examples) == 2
    for example in examples:
        path.write_text(example, encoding="utf-8")
        load_config(path)


async def test_the_readmes_sqlite_urls_name_the_files_it_says() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    workdir = re.search(r"^WORKDIR (\S+)$", dockerfile.split("FROM ")[-1], re.MULTILINE)
    wanted = {
        "sqlite:///pactbot.sqlite3": Path("pactbot.sqlite3"),  # relative: three slashes
        "sqlite:////var/lib/pactbot/pactbot.sqlite3": Path("/var/lib/pactbot/pactbot.sqlite3"),
        "sqlite:////data/pactbot.sqlite3": Path("/data/pactbot.sqlite3"),  # the image's volume
    }

    assert set(re.findall(r"sqlite:/+[\w./-]+", readme)) == set(wanted)
    assert workdir is not None
    assert Path(workdir[1]) == wanted["sqlite:////data/pactbot.sqlite3"].parent
    for url, path in wanted.items():
        store = open_store(url)
        assert isinstance(store, SqliteStore)
        assert store.path == path
        await store.close()
