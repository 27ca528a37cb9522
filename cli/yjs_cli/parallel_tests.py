"""The whole suite in N pytest processes side by side, each running one share of the test files
(`--shard K/N`, yjs_cli.shards). `make test` runs it with two.

    python -m yjs_cli.parallel_tests [--jobs N] [--record] [pytest arguments ...]

Each share's output is kept in a file and printed whole when all are done, share by share, so a
failure reads as it would from one pytest; the exit status is the first failing share's. With
--record, each file's duration is written to infra/testing/durations.json for the next runs'
balancing (commit it when the suite's shape has changed)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

from .shards import DURATIONS


def file_durations(reports: list[Path]) -> dict[str, float]:
    """Seconds per test file (setup, call and teardown of every test in it) from junit reports
    written with junit_family=xunit1, whose test cases name their file."""
    seconds: dict[str, float] = defaultdict(float)
    for report in reports:
        for case in ElementTree.parse(report).iter("testcase"):
            seconds[case.get("file")] += float(case.get("time", 0))
    return {name: round(total, 1) for name, total in sorted(seconds.items()) if name}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--record", action="store_true", help="rewrite infra/testing/durations.json")
    options, pytest_args = parser.parse_known_args(argv)
    root = Path.cwd()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="yjs-shards-") as scratch:
        outputs = [Path(scratch) / f"share-{k}.log" for k in range(1, options.jobs + 1)]
        reports = [Path(scratch) / f"share-{k}.xml" for k in range(1, options.jobs + 1)]
        processes = []
        for k in range(1, options.jobs + 1):
            command = [sys.executable, "-m", "pytest", f"--shard={k}/{options.jobs}", *pytest_args]
            if options.record:
                command += [f"--junitxml={reports[k - 1]}", "-o", "junit_family=xunit1"]
            with outputs[k - 1].open("wb") as output:
                processes.append(subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                                  env={**os.environ, "YJS_TEST_SHARE": str(k)}))
        print(f"the suite in {options.jobs} shares: pytest --shard=K/{options.jobs} {' '.join(pytest_args)}", flush=True)
        try:
            codes = []
            for k, process in enumerate(processes, start=1):
                codes.append(process.wait())
                print(f"share {k}/{options.jobs}: exit {codes[-1]} after {time.monotonic() - started:.0f} s", flush=True)
        finally:
            for process in processes:  # interrupted: nothing left running
                if process.poll() is None:
                    process.terminate()
                    process.wait()
        for k, output in enumerate(outputs, start=1):
            print(f"\n===== share {k}/{options.jobs} =====", flush=True)
            sys.stdout.buffer.write(output.read_bytes())
            sys.stdout.flush()
        if options.record and all(report.exists() for report in reports):
            (root / DURATIONS).parent.mkdir(parents=True, exist_ok=True)
            (root / DURATIONS).write_text(json.dumps(file_durations(reports), indent=1, ensure_ascii=False) + "\n")
            print(f"wrote {DURATIONS}")
    failed = [code for code in codes if code != 0]
    print(f"\nthe whole suite: {'failed' if failed else 'passed'} in {time.monotonic() - started:.0f} s")
    return failed[0] if failed else 0


if __name__ == "__main__":
    sys.exit(main())
