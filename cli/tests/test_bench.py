"""`yjs bench` end to end, small: the whole system started by the benchmark, every case heard
finishing, a report with every section. No assertion about time: the numbers are the report's."""

from __future__ import annotations

import json
import os
import re

import subprocess
import sys

from yjs_cli.bench_measure import counter_delta, cpu_times, percentile
from yjs_cli.main import main

SECTIONS = ["## Machine", "## Parameters", "## Results", "## Per process", "## Broker ceiling", "## Events per case",
            "## By service"]


def row(report: str, measure: str) -> str:
    found = re.search(rf"^\| {re.escape(measure)} \| (.*?) \|$", report, re.MULTILINE)
    assert found, f"no row {measure!r} in the report"
    return found.group(1).strip("* ")


def test_a_closed_loop_on_postgres_completes_every_case_and_reports_it(tmp_path, capsys):
    output, headline = tmp_path / "bench.md", tmp_path / "bench.json"
    assert main(["bench", "-n", "20", "--concurrency", "5", "--output", str(output), "--json", str(headline)]) == 0
    report = output.read_text(encoding="utf-8")
    assert report in capsys.readouterr().out
    for section in SECTIONS:
        assert section in report
    assert row(report, "cases submitted") == "20"
    assert row(report, "completed") == "20"
    assert row(report, "submissions refused or failed") == "0"
    assert row(report, "not finished") == "0"
    assert float(row(report, "events published per case")) > 0
    assert float(row(report, "event deliveries per case (consumed by the services)")) > 0
    for service in ["case", "registration", "seal_carving", "tax", "bank_account", "social_insurance", "gateway"]:
        assert re.search(rf"^\| {service} \| [\d.]+ \|", report, re.MULTILINE), service
    assert "| case.completed | 1.00 |" in report  # one completion per case
    # measured against quorum queues, as the system's, with a classic queue beside
    assert "| confirms per batch of 100 | quorum |" in report and "| confirms per batch of 100 | classic |" in report
    assert "| confirm each message | classic |" in report
    assert "confirms per batch of 100, quorum queue)" in report
    assert "of the broker's ceiling" in report
    assert "PostgreSQL (backends of the bench databases)" in report
    # the headline numbers, as the report has them
    summary = json.loads(headline.read_text(encoding="utf-8"))
    assert (summary["cases"], summary["completed"]) == (20, 20)
    for key, measure in (("cases_per_second", "**cases completed per second**"),
                         ("deliveries_per_case", "event deliveries per case (consumed by the services)"),
                         ("sql_statements_per_case", "SQL statements per case (all services, counted by their engines)"),
                         ("sql_round_trips_per_case",
                          "SQL round trips per case (statements sent together count once; commits included)")):
        assert abs(summary[key] - float(row(report, measure))) <= 0.051, key  # the report rounds to fewer digits
    assert summary["sql_statements_per_case"] > 10  # every case is several transactions in five services
    assert summary["sql_round_trips_per_case"] > 10  # several statements, and commits, in five services
    latency = summary["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert 0 < summary["services_cpu_ms_per_case"] < summary["cpu_ms_per_case"]
    reported = re.search(r"the client used (\d+) CPU ms per case", report)
    assert reported and abs(int(reported.group(1)) - summary["cpu_ms_per_case"]) <= 1
    assert summary["broker_ceiling_msgs_per_second"] > 0 and summary["broker_ceiling_classic_msgs_per_second"] > 0
    assert 0 <= summary["machine_busy_elsewhere_percent"] <= 100
    assert summary["postgres_connections_per_case"] == float(row(report, "PostgreSQL connections opened per case")) > 0


def test_an_open_loop_on_sqlite_completes_every_case(tmp_path):
    output = tmp_path / "bench.md"
    assert main(["bench", "-n", "6", "--rate", "5", "--concurrency", "3", "--database", "sqlite",
                 "--output", str(output)]) == 0
    report = output.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert section in report
    assert "open loop at 5 cases/s" in report
    assert "SQLite" in report
    assert row(report, "completed") == "6"


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([3.0], 99) == 3.0


def test_counter_growth_is_per_labelled_sample():
    label = (("event_type", "case.submitted"), ("service", "case"))
    other = (("event_type", "case.completed"), ("service", "case"))
    before = {("yjs_events_published_total", label): 2.0}
    after = {("yjs_events_published_total", label): 5.0, ("yjs_events_published_total", other): 1.0,
             ("yjs_events_consumed_total", label): 9.0}
    assert counter_delta(before, after, "yjs_events_published_total") == {label: 3.0, other: 1.0}


def test_a_server_is_counted_with_the_workers_it_waited_for():
    """A PostgreSQL backend that ends during a run is gone before it is measured: its time is
    found in the postmaster's, counted with its reaped children."""
    alone, reaped = cpu_times(os.getpid()), cpu_times(os.getpid(), reaped=True)
    subprocess.run([sys.executable, "-c", "sum(range(20_000_000))"], check=True)  # a child that works, then ends
    grew = [after - before for after, before in zip(cpu_times(os.getpid(), reaped=True), reaped)]
    assert sum(grew) - sum(a - b for a, b in zip(cpu_times(os.getpid()), alone)) >= 0.2
