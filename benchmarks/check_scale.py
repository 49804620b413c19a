"""How `pactbot check` scales with the number of pairs, against a hand-written CI script.

For 100, 1,000, 5,000 and 20,000 pairs (20 webhooks, 1% of pairs stale behind a dead token) it
runs `pactbot check` in its own process against the sample broker on loopback and prints the
broker requests it made (counted by the sample broker), its wall time and its peak RSS; then the
same for the baseline the field guide's Example 4 suggests: one `/matrix` query per pair with
curl, its newest `verifiedAt` picked out with jq, in a shell loop (up to 5,000 pairs: beyond, the
loop alone takes many minutes).

    python benchmarks/check_scale.py [--sizes 100,1000,5000,20000] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.sample.broker import SampleBroker
from bot.sample.story import scaled_world

WEBHOOKS = 20
BASELINE_UP_TO = 5000  # pairs: one curl and one jq per pair
WALL_TARGET = (20000, 2.0)  # pairs, seconds

_BASELINE = r"""
while read -r consumer provider; do
  newest=$(curl -s -H 'Accept: application/hal+json' \
    "$BROKER/matrix?q[][pacticipant]=$consumer&q[][pacticipant]=$provider&latestby=cvpv" --globoff \
    | jq -r '[.matrix[].verificationResult.verifiedAt // empty] | max // "never"')
  echo "$consumer $provider $newest"
done < "$PAIRS" > /dev/null
"""


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    peak_rss_mb: float
    exit_code: int


def measure(command: list[str], env: dict[str, str], broker: SampleBroker) -> Run:
    before = len(broker.requests)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    # ru_maxrss is in KiB on Linux; for the shell loop it is its largest child (curl or jq).
    return Run(
        len(broker.requests) - before,
        seconds,
        usage.ru_maxrss / 1024,
        os.waitstatus_to_exitcode(status),
    )


def help_seconds() -> float:
    """The median of 20 runs of `pactbot check --help`, from process start to exit."""
    runs = []
    for _ in range(20):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "check", "--help"], stdout=subprocess.DEVNULL, check=True
        )
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def run_size(size: int, now: datetime, baseline: bool) -> dict[str, Run]:
    """Both runs against one sample broker of `size` pairs."""
    world = scaled_world(now, pairs=size, webhooks=WEBHOOKS, stale=max(1, size // 100))
    with SampleBroker(world) as broker, tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "PACT_BROKER_BASE_URL": broker.url}
        runs = {"pactbot": measure([sys.executable, "-m", "bot", "check"], env, broker)}
        if baseline and size <= BASELINE_UP_TO:
            pairs = Path(scratch) / "pairs.txt"
            pairs.write_text("".join(f"{c} {p}\n" for c, p in world.pairs()), encoding="utf-8")
            shell_env = env | {"BROKER": broker.url, "PAIRS": str(pairs)}
            runs["baseline"] = measure(["bash", "-c", _BASELINE], shell_env, broker)
    return runs


def print_targets(results: dict[tuple[int, str], Run], largest: int) -> None:
    stale = max(1, largest // 100)
    ours = results[(largest, "pactbot")]
    budget = f"20 + {WEBHOOKS} webhooks + {stale} stale = {20 + WEBHOOKS + stale}"
    print(f"target: requests at {largest} pairs <= {budget}: {ours.requests}")
    print(f"target: peak RSS at {largest} pairs < 120 MB: {ours.peak_rss_mb:.1f} MB")
    pairs, seconds = WALL_TARGET
    if (pairs, "pactbot") in results:
        wall = results[(pairs, "pactbot")].seconds
        print(f"target: pactbot check at {pairs} pairs <= {seconds:.0f} s wall: {wall:.2f} s")
    if (1000, "baseline") in results:
        speedup = results[(1000, "baseline")].seconds / results[(1000, "pactbot")].seconds
        print(f"target: at 1000 pairs >= 20x faster than the baseline: {speedup:.1f}x")
    print(f"target: pactbot check --help < 0.3 s: {help_seconds():.3f} s (median of 20)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,5000,20000")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    if not args.skip_baseline and not (shutil.which("curl") and shutil.which("jq")):
        parser.error("the baseline needs curl and jq, or --skip-baseline")
    sizes = [int(size) for size in args.sizes.split(",")]
    now = datetime.now(UTC)
    print(
        f"{'pairs':>6} {'stale':>5}  {'run':<8} {'requests':>8} {'wall s':>8} {'peak RSS MB':>11}"
    )
    results: dict[tuple[int, str], Run] = {}
    for size in sizes:
        for name, run in run_size(size, now, not args.skip_baseline).items():
            results[(size, name)] = run
            figures = f"{run.requests:>8} {run.seconds:>8.2f} {run.peak_rss_mb:>11.1f}"
            print(
                f"{size:>6} {max(1, size // 100):>5}  {name:<8} {figures}  (exit {run.exit_code})"
            )
    print()
    print_targets(results, max(sizes))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this benchmark process, with the sample broker in it: {own:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
