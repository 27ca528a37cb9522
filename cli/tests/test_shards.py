"""How `make test` splits the suite into shares: every file in exactly one share, balanced by
the recorded durations, and each share's durations read back from pytest's own junit report."""

import subprocess
import sys
import textwrap

import pytest
from yjs_cli.parallel_tests import file_durations
from yjs_cli.shards import parse_shard, shares


def test_every_file_lands_in_exactly_one_share_and_the_long_ones_are_spread():
    durations = {"e2e/a.py": 300.0, "e2e/b.py": 280.0, "e2e/c.py": 120.0, "s/d.py": 30.0, "s/e.py": 10.0}
    files = [*durations, "new/f.py"]  # a file never recorded counts as the median, 120 s
    dealt = shares(files, durations, 2)
    assert sorted(f for share in dealt for f in share) == sorted(files)
    loads = [sum(durations.get(f, 120.0) for f in share) for share in dealt]
    assert abs(loads[0] - loads[1]) <= 30.0, dealt  # 430 against 430 here
    assert not any({"e2e/a.py", "e2e/b.py"} <= set(share) for share in dealt)
    assert shares(files, durations, 2) == dealt  # the same split in every process


def test_one_share_is_the_whole_suite_and_a_bad_shard_is_refused():
    assert shares(["b.py", "a.py"], {}, 1) == [["a.py", "b.py"]]
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/2", "3/2", "x/2", "2"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_durations_are_summed_per_file_from_pytests_junit_report(tmp_path):
    (tmp_path / "test_one.py").write_text(textwrap.dedent("""
        import time
        def test_a(): time.sleep(0.2)
        def test_b(): pass
    """))
    (tmp_path / "test_two.py").write_text("def test_c(): pass\n")
    report = tmp_path / "report.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--noconftest",
                    "-o", "addopts=", "-o", "junit_family=xunit1", f"--junitxml={report}", str(tmp_path)],
                   cwd=tmp_path, check=True, capture_output=True)
    durations = file_durations([report])
    assert set(durations) == {"test_one.py", "test_two.py"}
    assert durations["test_one.py"] >= 0.2 > durations["test_two.py"]
