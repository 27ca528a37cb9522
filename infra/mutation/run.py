"""`make mutate`: cosmic-ray over the code where a silent bug costs most, each module with the
fast tests that guard it. The mutants are made in a scratch copy of the tracked files (the
packages are imported from it through PYTHONPATH), never in the working tree.

    python infra/mutation/run.py                 every mutant (tens of minutes on 2 cores)
    python infra/mutation/run.py --sample 200    a random sample of 200, spread over the modules
                                                 by their size (CI; the seed is printed)

The last line is `mutation score: K of N killed (P%)`; the exit status is 1 below --minimum."""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPARTMENTS = ["registration", "seal_carving", "tax", "bank_account", "licensing", "deregistration", "social_insurance"]

#: module -> the fast tests (pure, no broker or database) that guard it
TARGETS: dict[str, list[str]] = {
    "contracts/yjs_contracts/codes.py": ["contracts/tests/test_codes.py", "contracts/tests/test_entities.py"],
    "services/case/yjs_case/record.py": ["services/case/tests/test_record.py"],
    **{f"services/{d}/yjs_{d}/rules.py": [f"services/{d}/tests/test_rules.py"] for d in DEPARTMENTS},
    # the registrar's rules are tested by entity and by matter too
    "services/registration/yjs_registration/rules.py": [
        "services/registration/tests/test_rules.py", "services/registration/tests/test_entity_rules.py",
        "services/registration/tests/test_change_rules.py"],
}
#: package roots the scratch copy is imported from
PACKAGES = ["contracts", "cli", *[f"services/{p}" for p in ["kit", "case", "gateway", *DEPARTMENTS]]]
#: operators left out, as regular expressions over cosmic-ray's names: `==` and `is` swapped
#: (either way) are the same in CPython for None, small numbers and interned strings — the
#: mutants are equivalent wherever the tests use literals. See docs/testing.md.
EXCLUDED_OPERATORS = [r"core/ReplaceComparisonOperator_(Eq_Is|NotEq_IsNot|Is_Eq|IsNot_NotEq)$"]


def tracked_copy(into: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            target = into / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def config(module: str, tests: list[str], timeout: float) -> str:
    # pure tests: neither the root conftest (eventlet) nor nameko's plugin is needed, and both cost time;
    # nor is hypothesis's plugin where no test uses it (importing it is two thirds of a mutant's CPU)
    plugins = "-p no:nameko -p no:cacheprovider"
    if not any("hypothesis" in (ROOT / test).read_text(encoding="utf-8") for test in tests):
        plugins += " -p no:hypothesispytest"
    command = f"{sys.executable} -m pytest -x -q --no-header --noconftest {plugins} " \
              f"-o addopts='--import-mode=importlib' {' '.join(tests)}"
    return "\n".join([
        "[cosmic-ray]", f'module-path = "{module}"', f"timeout = {timeout}", "excluded-modules = []",
        f'test-command = "{command}"', "", "[cosmic-ray.distributor]", 'name = "local"', "",
        "[cosmic-ray.filters.operators-filter]",
        "exclude-operators = [" + ", ".join(f'"{o}"' for o in EXCLUDED_OPERATORS) + "]", ""])


def run(args: list[str], cwd: Path, env: dict) -> None:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=0, help="test this many mutants, chosen at random (0: all)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--minimum", type=float, default=85.0, help="the lowest acceptable score, in percent")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant before it counts as killed")
    parser.add_argument("--only", default="", help="a substring of the modules to mutate")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once, each worker in its own copy")
    options = parser.parse_args()
    seed = options.seed if options.seed is not None else random.randrange(1 << 30)
    started = time.monotonic()
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="yjs-mutate-") as scratch:
        # one copy per worker: a mutant in contracts must not leak into another worker's tests
        trees = [Path(scratch) / f"tree{i}" for i in range(options.jobs)]
        for tree in trees:
            tracked_copy(tree)
        envs = [{**os.environ, "PYTHONPATH": os.pathsep.join(str(tree / p) for p in PACKAGES),
                 "PYTHONDONTWRITEBYTECODE": "1"} for tree in trees]
        targets = {m: t for m, t in TARGETS.items() if options.only in m}
        sessions = {}
        for module, tests in targets.items():
            name = Path(scratch) / module.replace("/", "_")
            Path(f"{name}.toml").write_text(config(module, tests, options.timeout))
            run([str(bin_dir / "cosmic-ray"), "init", f"{name}.toml", f"{name}.sqlite"], trees[0], envs[0])
            run([str(bin_dir / "cr-filter-operators"), f"{name}.sqlite", f"{name}.toml"], trees[0], envs[0])
            skip_annotations(f"{name}.sqlite", trees[0] / module)
            sessions[module] = name
        jobs = {m: pending_jobs(f"{n}.sqlite") for m, n in sessions.items()}
        total = sum(len(j) for j in jobs.values())
        if options.sample and options.sample < total:
            chosen = set(random.Random(seed).sample([(m, j) for m, js in jobs.items() for j in js], options.sample))
            for module, name in sessions.items():
                jobs[module] = [j for j in jobs[module] if (module, j) in chosen]
                drop_jobs(f"{name}.sqlite", [j for j in pending_jobs(f"{name}.sqlite") if (module, j) not in chosen])
            print(f"a sample of {options.sample} of {total} mutants (seed {seed}; rerun with --seed {seed})")
        else:
            print(f"all {total} mutants")
        # the modules shared out among the workers, the largest first, each to the least loaded
        shares: list[list[str]] = [[] for _ in trees]
        for module in sorted(sessions, key=lambda m: -len(jobs[m])):
            min(shares, key=lambda share: sum(len(jobs[m]) for m in share)).append(module)

        def work(i: int) -> None:
            for module in shares[i]:
                name = sessions[module]
                # the tests must pass on the unmutated code, or every mutant would count as killed
                run([str(bin_dir / "cosmic-ray"), "baseline", f"{name}.toml"], trees[i], envs[i])
                if jobs[module]:
                    run([str(bin_dir / "cosmic-ray"), "exec", f"{name}.toml", f"{name}.sqlite"], trees[i], envs[i])

        with ThreadPoolExecutor(len(trees)) as pool:
            list(pool.map(work, range(len(trees))))
        killed = tested = 0
        survivors = []
        for module, name in sessions.items():
            k, n, alive = results(f"{name}.sqlite")
            killed, tested = killed + k, tested + n
            survivors += alive
            print(f"{module}: {k} of {n} killed")
    for module, operator, occurrence, diff in survivors:
        print(f"\nsurvived: {module} {operator} #{occurrence}\n{diff.strip()}")
    print(f"\n{time.monotonic() - started:.0f} s")
    score = 100.0 * killed / tested if tested else 100.0
    print(f"mutation score: {killed} of {tested} killed ({score:.1f}%)")
    sys.exit(0 if score >= options.minimum else 1)


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the module's type annotations are, as (row, column) in characters. The modules use
    `from __future__ import annotations`: an annotation is never evaluated, and a mutant in one
    is equivalent."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()

    def char_col(row: int, byte_col: int) -> int:
        return len(lines[row - 1].encode("utf-8")[:byte_col].decode("utf-8"))

    spans = []
    for node in ast.walk(ast.parse(source)):
        found = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            found.append(node.returns)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            found.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        for a in found:
            spans.append(((a.lineno, char_col(a.lineno, a.col_offset)),
                          (a.end_lineno, char_col(a.end_lineno, a.end_col_offset))))
    return spans


def skip_annotations(db: str, module: Path) -> None:
    if "from __future__ import annotations" not in module.read_text(encoding="utf-8"):
        return
    spans = annotation_spans(module)
    with sqlite3.connect(db) as connection:
        for job, row, col in connection.execute(
                "SELECT job_id, start_pos_row, start_pos_col FROM mutation_specs "
                "WHERE job_id NOT IN (SELECT job_id FROM work_results)").fetchall():
            if any(start <= (row, col) < end for start, end in spans):
                connection.execute("INSERT INTO work_results (job_id, worker_outcome, output) VALUES (?, 'SKIPPED', ?)",
                                   (job, "in a type annotation: never evaluated"))


def pending_jobs(db: str) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute(
            "SELECT job_id FROM work_items WHERE job_id NOT IN (SELECT job_id FROM work_results) ORDER BY job_id")]


def drop_jobs(db: str, job_ids: list[str]) -> None:
    with sqlite3.connect(db) as connection:
        for job in job_ids:
            connection.execute("DELETE FROM mutation_specs WHERE job_id = ?", (job,))
            connection.execute("DELETE FROM work_items WHERE job_id = ?", (job,))


def results(db: str) -> tuple[int, int, list]:
    """(killed, tested, survivors) — cosmic-ray's own reckoning: a mutant that fails the tests,
    breaks the import or hangs them past the timeout is killed; SKIPPED ones are not counted."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT r.test_outcome, r.worker_outcome, s.module_path, s.operator_name, s.occurrence, r.diff "
            "FROM work_results r JOIN mutation_specs s ON s.job_id = r.job_id").fetchall()
    counted = [r for r in rows if r[1] != "SKIPPED"]
    alive = [(m, o, n, d or "") for t, w, m, o, n, d in counted if t == "SURVIVED"]
    return len(counted) - len(alive), len(counted), alive


if __name__ == "__main__":
    main()
