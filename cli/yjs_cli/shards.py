"""`--shard K/N`: run only the K-th of N shares of the suite's test files, so N pytest processes
can run the whole suite side by side (`python -m yjs_cli.parallel_tests`, what `make test` runs). Most of the suite's time is
spent waiting — on the broker, the database, a timer in a system under test — so two shares on
two cores finish in much less than the time of one.

The shares are balanced by each file's recorded duration (`infra/testing/durations.json`,
rewritten by `python -m yjs_cli.parallel_tests --record`); a file with no record counts as the median. A file is never
split: an end-to-end module starts one system for all its tests."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

DURATIONS = "infra/testing/durations.json"  # from the repository's root


def parse_shard(value: str) -> tuple[int, int]:
    index, _, count = value.partition("/")
    k, n = int(index), int(count)
    if not 1 <= k <= n:
        raise ValueError(f"--shard {value}: K must be between 1 and N")
    return k, n


def shares(files: list[str], durations: dict[str, float], count: int) -> list[list[str]]:
    """The files dealt out longest first, each to the share with the least time so far."""
    typical = statistics.median(durations.values()) if durations else 1.0
    loads = [0.0] * count
    dealt: list[list[str]] = [[] for _ in range(count)]
    for name in sorted(files, key=lambda f: (-durations.get(f, typical), f)):
        least = min(range(count), key=lambda i: (loads[i], i))
        dealt[least].append(name)
        loads[least] += durations.get(name, typical)
    return dealt


def recorded_durations(root: Path) -> dict[str, float]:
    try:
        return json.loads((root / DURATIONS).read_text())
    except FileNotFoundError:
        return {}


def pytest_addoption(parser):
    parser.addoption("--shard", default=None, metavar="K/N",
                     help="run only the K-th of N shares of the test files (yjs_cli.shards)")


def pytest_collection_modifyitems(session, config, items):
    value = config.getoption("--shard")
    if not value:
        return
    k, n = parse_shard(value)
    root = Path(config.rootpath)
    files = sorted({item.path.relative_to(root).as_posix() for item in items})
    mine = set(shares(files, recorded_durations(root), n)[k - 1])
    kept, others = [], []
    for item in items:
        (kept if item.path.relative_to(root).as_posix() in mine else others).append(item)
    config.hook.pytest_deselected(items=others)
    items[:] = kept
