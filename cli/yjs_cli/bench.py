"""`yjs bench`: the whole system under load, measured.

Starts every service as its own process (`yjs-serve`, as `yjs up` does) on fresh PostgreSQL
databases (or SQLite files) and a fresh RabbitMQ vhost, submits N establishment applications
(all five seals and a bank account: the five-step plan) through the HTTP API — a closed loop of
--concurrency clients, or an open loop at --rate — and waits for every case to finish, heard on
a queue bound to `case.events` before the first submission. Then it measures the raw ceiling of
the broker on this machine with plain kombu and reports everything as markdown
(docs/benchmarks.md explains the numbers). It asserts nothing about time.

Set MAX_WORKERS, DB_POOL_SIZE, EVENT_WORKERS, EVENT_BATCH, EVENT_LINGER_MS, DB_PREPARED_STATEMENTS,
DB_WAIT_BEFORE_YIELD_MS, LOG_LEVEL (default WARNING here) in the environment to try other settings; YJS_BENCH_REPLICAS="tax=2,case=2" runs replicas; YJS_BENCH_WARMUP the warm-up cases."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests
from yjs_contracts import samples
from yjs_kit.config import DEFAULTS, DEV_JWT_SECRET, METRICS_PORTS

from .bench_broker import CeilingRun, CompletionWatcher, measure_ceiling
from .bench_measure import (CpuWindow, ProcessUsage, counter_delta, descendants, machine_description, memory_kib,
                            parent_of, percentile, pids_by_name, scrape)
from .client import token_for

SERVICES = ["case", "registration", "seal_carving", "tax", "bank_account", "social_insurance", "gateway"]
IDLE_TIMEOUT = 60.0  # give up when no case finished for this long
EACH_CONFIRM_LIMIT = 2000  # the confirm-each ceiling is slow: at most this many messages


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def parse_replicas(raw: str) -> dict[str, int]:
    replicas = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, _, count = part.partition("=")
        replicas[name.strip()] = int(count)
    return replicas


# --- the load ---------------------------------------------------------------------------------

@dataclass
class Submission:
    index: int
    scheduled: float  # monotonic: when it was meant to start (open loop) or started (closed loop)
    started: float = 0.0
    answered: float = 0.0
    status: int = 0
    case_id: str | None = None
    error: str = ""


class Load:
    """Submits applications to the gateway and remembers when each was sent."""

    def __init__(self, base_url: str, name_offset: int, subjects: int = 10):
        self.base_url = base_url
        self.name_offset = name_offset
        self.tokens = [token_for(f"bench-applicant-{k}") for k in range(subjects)]
        self.local = threading.local()
        self.submissions: list[Submission] = []
        self.case_ids: set[str] = set()
        self.lock = threading.Lock()
        self.active = False

    def body(self, index: int) -> dict:
        return {"matter": "establishment", "application": samples.establishment_application(
            samples.unique_trade_name(self.name_offset + index))}

    def session(self) -> requests.Session:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        return session

    def submit(self, index: int, scheduled: float | None = None) -> Submission:
        body = self.body(index)
        started = time.monotonic()
        submission = Submission(index, scheduled if scheduled is not None else started, started)
        try:
            answer = self.session().post(f"{self.base_url}/v1/cases", json=body, timeout=60, headers={
                "Authorization": f"Bearer {self.tokens[index % len(self.tokens)]}"})
            submission.answered = time.monotonic()
            submission.status = answer.status_code
            if answer.status_code == 202:
                submission.case_id = answer.json()["case_id"]
            else:
                submission.error = answer.text[:300]
        except requests.RequestException as error:
            submission.answered = time.monotonic()
            submission.error = repr(error)[:300]
        with self.lock:
            self.submissions.append(submission)
            if submission.case_id:
                self.case_ids.add(submission.case_id)
        return submission

    def closed_loop(self, first: int, count: int, concurrency: int) -> None:
        indices = iter(range(first, first + count))
        lock = threading.Lock()

        def client():
            while True:
                with lock:
                    index = next(indices, None)
                if index is None:
                    return
                self.submit(index)

        threads = [threading.Thread(target=client, name=f"bench-client-{k}", daemon=True)
                   for k in range(max(1, min(concurrency, count)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def open_loop(self, first: int, count: int, rate: float, concurrency: int) -> None:
        """One submission every 1/rate seconds whatever the answers; a late start (all clients
        busy) counts against latency, which is measured from the scheduled time."""
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="bench-client") as pool:
            for k in range(count):
                scheduled = start + k / rate
                delay = scheduled - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(self.submit, first + k, scheduled)

    def run(self, first: int, count: int, concurrency: int, rate: float | None) -> None:
        self.active = True
        try:
            if rate:
                self.open_loop(first, count, rate, concurrency)
            else:
                self.closed_loop(first, count, concurrency)
        finally:
            self.active = False


# --- one run ----------------------------------------------------------------------------------

@dataclass
class BenchResult:
    started_at: str
    machine: dict[str, str]
    parameters: dict[str, str]
    cases: int
    submissions: list[Submission] = field(default_factory=list)
    finished: dict[str, tuple[float, str]] = field(default_factory=dict)
    window: float = 0.0
    published: dict[tuple, float] = field(default_factory=dict)
    consumed: dict[tuple, float] = field(default_factory=dict)
    body_bytes: int = 0
    usage: list[ProcessUsage] = field(default_factory=list)
    machine_cpu: tuple[float, float] = (0.0, 0.0)
    ceilings: list[CeilingRun] = field(default_factory=list)
    postgres: dict[str, float] = field(default_factory=dict)  # pg_stat_database counters per case
    statements: float = 0.0  # SQL statements the services sent in the measured window
    round_trips: float = 0.0  # and the round trips they took (several statements sent together count once; commits too)
    statements_by_service: dict[str, float] = field(default_factory=dict)
    # events applied in batches (one transaction each), and the batches, per service
    batched_by_service: dict[str, tuple[float, float]] = field(default_factory=dict)
    others: list[tuple[str, float]] = field(default_factory=list)  # the busiest processes not the bench's
    notes: list[str] = field(default_factory=list)

    # the numbers the report shows
    @property
    def accepted(self) -> list[Submission]:
        return [s for s in self.submissions if s.case_id]

    @property
    def failed_submissions(self) -> list[Submission]:
        return [s for s in self.submissions if not s.case_id]

    def finished_of(self, status: str) -> int:
        return sum(1 for s in self.accepted if self.finished.get(s.case_id, (0, ""))[1] == status)

    @property
    def completed(self) -> int:
        return self.finished_of("completed")

    @property
    def latencies(self) -> list[float]:
        return [self.finished[s.case_id][0] - s.scheduled for s in self.accepted if s.case_id in self.finished]

    @property
    def first_submit(self) -> float:
        return min((s.scheduled for s in self.submissions), default=0.0)

    @property
    def finish_times(self) -> list[float]:
        return sorted(self.finished[s.case_id][0] for s in self.accepted if s.case_id in self.finished)

    @property
    def throughput(self) -> float:
        times = self.finish_times
        return len(times) / (times[-1] - self.first_submit) if times and times[-1] > self.first_submit else 0.0

    @property
    def steady_throughput(self) -> float:
        """Cases per second between the 10th and the 90th percent finished: no ramp, no drain."""
        times = self.finish_times
        if len(times) < 10:
            return math.nan
        low, high = int(len(times) * 0.1), int(len(times) * 0.9) - 1
        return (high - low) / (times[high] - times[low]) if times[high] > times[low] else math.nan

    @property
    def total_published(self) -> float:
        return sum(self.published.values())

    @property
    def total_delivered(self) -> float:
        return sum(self.consumed.values())

    @property
    def message_rate(self) -> float:
        return (self.total_published + self.total_delivered) / self.window if self.window else 0.0

    @property
    def service_cpu(self) -> float:
        return sum(u.cpu for u in self.usage if u.name.split("#")[0] in SERVICES)

    @property
    def others_cpu(self) -> float:
        """CPU seconds the machine spent on processes that are not the bench's."""
        return max(self.machine_cpu[0] - sum(u.cpu for u in self.usage), 0.0)

    @property
    def bench_cpu(self) -> float:
        """The services, their databases, the broker and the client."""
        return self.machine_cpu[0] - self.others_cpu

    def summary(self) -> dict:
        """The headline numbers, for `--json`: what runs are compared by."""
        n = max(len(self.accepted), 1)
        latencies = self.latencies

        def ms(seconds: float | None) -> float | None:
            return None if seconds is None or math.isnan(seconds) else round(seconds * 1000, 1)

        ceiling = self.ceilings[0].operations_rate if self.ceilings else None
        classic = next((c.operations_rate for c in self.ceilings if c.queue_type == "classic" and c.batch > 1), None)
        available = self.machine_cpu[1]
        return {
            "cases": self.cases, "completed": self.completed,
            "cases_per_second": round(self.throughput, 2),
            "latency_ms": {"p50": ms(percentile(latencies, 50)), "p95": ms(percentile(latencies, 95)),
                           "p99": ms(percentile(latencies, 99)), "max": ms(max(latencies) if latencies else None)},
            "cpu_ms_per_case": round(self.bench_cpu / n * 1000, 1),
            "services_cpu_ms_per_case": round(self.service_cpu / n * 1000, 1),
            "sql_statements_per_case": round(self.statements / n, 1),
            "sql_round_trips_per_case": round(self.round_trips / n, 1),
            "deliveries_per_case": round(self.total_delivered / n, 2),
            "postgres_connections_per_case": round(self.postgres["sessions"], 2) if self.postgres else None,
            "broker_ceiling_msgs_per_second": round(ceiling) if ceiling else None,  # quorum queues, as the system's
            "broker_ceiling_classic_msgs_per_second": round(classic) if classic else None,
            "machine_busy_elsewhere_percent": round(self.others_cpu / available * 100, 1) if available else None,
        }


def code_revision() -> str:
    """The commit the code under test was checked out at, and whether tracked files differ from it."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %cs %s"], capture_output=True,
                              text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    return head.stdout.strip()[:80] + (" + uncommitted changes" if dirty.stdout.strip() else "")


def _service_databases(database: str, tmp: Path) -> tuple[dict[str, str], list[str]]:
    """{service: url}, and the PostgreSQL ones to drop afterwards."""
    backends = [s for s in SERVICES if s != "gateway"]
    if database == "sqlite":
        return {s: f"sqlite:///{tmp / (s + '.sqlite3')}" for s in backends}, []
    from yjs_kit.testing import create_database

    urls = {}
    for service in backends:
        urls[service] = create_database(f"yjs_bench_{service}")
    return urls, list(urls.values())


def _postgres_pids(urls: dict[str, str]) -> tuple[list[int], list[int]]:
    """(the backends serving the bench's databases, the server's own processes: WAL writer,
    checkpointer, background writer, autovacuum — shared with every other database)."""
    from urllib.parse import urlsplit

    from sqlalchemy import text
    from yjs_kit.testing import _admin_engine

    names = [urlsplit(u).path.lstrip("/") for u in urls.values() if u.startswith("postgresql")]
    if not names:
        return [], []
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT pid, datname = ANY(:names), backend_type FROM pg_stat_activity"),
                                      {"names": names}).all()
        return ([pid for pid, ours, _ in rows if ours],
                [pid for pid, _, kind in rows if kind not in ("client backend", "walsender")])
    except Exception:  # noqa: BLE001 - a measurement, not the run
        return [], []
    finally:
        engine.dispose()


# `sessions`: connections opened (PostgreSQL 14+); each is a backend forked and warmed up
PG_COUNTERS = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted", "tup_fetched",
               "sessions")


def _postgres_counters(urls: dict[str, str]) -> dict[str, int]:
    """pg_stat_database counters summed over the bench's databases. PostgreSQL publishes a
    backend's counts when it ends or about once a second, so read them after the services stop."""
    from urllib.parse import urlsplit

    from sqlalchemy import text
    from yjs_kit.testing import _admin_engine

    names = [urlsplit(u).path.lstrip("/") for u in urls.values() if u.startswith("postgresql")]
    if not names:
        return {}
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            row = connection.execute(text(f"SELECT {', '.join(f'sum({c})' for c in PG_COUNTERS)} "
                                          "FROM pg_stat_database WHERE datname = ANY(:names)"), {"names": names}).one()
        return {c: int(v or 0) for c, v in zip(PG_COUNTERS, row)}
    except Exception:  # noqa: BLE001 - a measurement, not the run
        return {}
    finally:
        engine.dispose()


def _mean_event_bytes(urls: dict[str, str]) -> int:
    """The mean size of the event bodies the services stored in their outboxes (and published)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    total = count = 0
    for url in urls.values():
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                for (body,) in connection.execute(text("SELECT body FROM kit_outbox")):
                    total += len(body.encode("utf-8"))
                    count += 1
        except Exception:  # noqa: BLE001 - a service without an outbox
            pass
        finally:
            engine.dispose()
    return round(total / count) if count else 0


def _scrape_all(ports: dict[str, int]) -> dict[str, dict]:
    return {name: scrape(port) for name, port in ports.items()}


def _events_total(scrapes: dict[str, dict]) -> float:
    return sum(value for page in scrapes.values() for (name, _), value in page.items()
               if name in ("yjs_events_published_total", "yjs_events_consumed_total"))


def _settled_scrape(ports: dict[str, int], seconds: float = 10.0) -> dict[str, dict]:
    """Scrapes until the event counters stop moving (late deliveries after the last case)."""
    previous = _scrape_all(ports)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = _scrape_all(ports)
        if _events_total(current) == _events_total(previous):
            return current
        previous = current
    return previous


def bench(cases: int, concurrency: int, rate: float | None, database: str) -> BenchResult:
    from yjs_cli.system import GATEWAY_PORT, System, SystemConfig, free_port_offset
    from yjs_kit.testing import drop_database, drop_vhost, fresh_vhost

    replicas = parse_replicas(os.environ.get("YJS_BENCH_REPLICAS", ""))
    warmup = int(os.environ.get("YJS_BENCH_WARMUP", max(2, min(20, cases // 20))))
    env = {"LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING")}
    settings = {k: os.environ.get(k) or default for k, default in (
        ("MAX_WORKERS", DEFAULTS["MAX_WORKERS"]), ("DB_POOL_SIZE", "MAX_WORKERS + 2"),
        *((k, DEFAULTS[k]) for k in ("EVENT_WORKERS", "EVENT_BATCH", "EVENT_PREFETCH", "EVENT_LINGER_MS",
                                     "DB_PREPARED_STATEMENTS", "DB_WAIT_BEFORE_YIELD_MS", "RETRY_DELAYS_MS")))}
    tmp = Path(tempfile.mkdtemp(prefix="yjs-bench-"))
    vhost = amqp_uri = None
    drop: list[str] = []
    system = watcher = None
    ok = False
    try:
        say(f"bench: fresh vhost and {database} databases in {tmp}")
        vhost, amqp_uri = fresh_vhost()
        urls, drop = _service_databases(database, tmp)
        from yjs_kit.testing import TEST_POSTGRES_URL

        machine = machine_description(TEST_POSTGRES_URL if database == "postgres" else None)
        offset = free_port_offset(SERVICES, replicas)
        config = SystemConfig(amqp_uri=amqp_uri, gateway_address=f"127.0.0.1:{GATEWAY_PORT + offset}", database_urls=urls,
                              services=list(SERVICES), replicas=replicas, metrics_port_offset=offset, env=env,
                              log_dir=tmp / "logs", jwt_secret=os.environ.get("JWT_SECRET", DEV_JWT_SECRET))
        mode = f"open loop at {rate:g} cases/s (at most {concurrency} requests in flight)" if rate else \
            f"closed loop, {concurrency} concurrent clients"
        result = BenchResult(
            started_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine=machine, cases=cases,
            parameters={
                "cases": f"{cases} establishment applications (5 steps: registration, seals, tax registration, "
                         "invoices, bank account), after a warm-up of " + f"{warmup} not counted",
                "load": mode,
                "database": "PostgreSQL, one fresh database per service" if database == "postgres"
                            else "SQLite, one file per service",
                "processes": ", ".join(f"{s}×{replicas.get(s, 1)}" for s in SERVICES) + " (each `yjs-serve`)",
                "code": code_revision(),
                "settings": ", ".join(f"{k}={v}" for k, v in {**settings, **env}.items()),
            })
        system = System(config)
        started = time.monotonic()
        say(f"bench: starting {len(SERVICES)} services (logs in {config.log_dir})")
        system.start()
        system.wait_ready(timeout=120)
        say(f"bench: ready in {time.monotonic() - started:.1f}s at {config.base_url}")

        pg_counters = _postgres_counters(urls)  # before the warm-up: divided by every case run
        watcher = CompletionWatcher(amqp_uri).start()  # bound before the first submission
        load = Load(config.base_url, random.randrange(len(samples._CHARS) ** 4 - cases - warmup - 1))
        if warmup:
            load.run(0, warmup, min(concurrency, warmup), None)
            if not watcher.wait(set(load.case_ids), IDLE_TIMEOUT, lambda: False):
                raise RuntimeError("the warm-up cases did not finish")
            say(f"bench: warm-up of {warmup} cases done")

        ports = {f"{p.service}#{p.replica}" if p.replica else p.service:
                 METRICS_PORTS[p.service] + offset + 20 * p.replica for p in system.processes}
        service_pids = {(f"{p.service}#{p.replica}" if p.replica else p.service): descendants(p.popen.pid)
                        for p in system.processes}
        broker_pids = pids_by_name("beam.smp")
        pg_before, pg_server = _postgres_pids(urls)
        # the postmaster, with the backends that end in the window (a connection closed and
        # opened again): they are gone before the window closes, and would count as nobody's
        postmaster = {parent_of(pg_server[0])} - {None} if pg_server else set()
        pg_server = pg_server + sorted(postmaster)
        before = _scrape_all(ports)
        measured = Load(config.base_url, load.name_offset)
        measured.active = True  # until the load returns: the set of cases still grows
        all_pids = ([pid for pids in service_pids.values() for pid in pids] + broker_pids + pg_before + pg_server
                    + [os.getpid()])
        window = CpuWindow(reaped=postmaster)
        window.start(all_pids)
        say(f"bench: submitting {cases} cases ({mode})")
        loader = threading.Thread(target=measured.run, args=(warmup, cases, concurrency, rate), daemon=True)
        loader.start()
        progress = threading.Thread(target=_progress, args=(measured, watcher, cases), daemon=True)
        progress.start()
        complete = watcher.wait(measured.case_ids, IDLE_TIMEOUT, lambda: measured.active or loader.is_alive())
        pg_after, _ = _postgres_pids(urls)
        pg_pids = sorted(set(pg_before) | set(pg_after))
        window.stop(all_pids + [pid for pid in pg_pids if pid not in all_pids])
        loader.join()
        result.submissions = sorted(measured.submissions, key=lambda s: s.index)
        with watcher.changed:
            result.finished = {s.case_id: watcher.finished[s.case_id] for s in result.accepted
                               if s.case_id in watcher.finished}
        times = result.finish_times
        result.window = (times[-1] - result.first_submit) if times else 0.0
        if not complete:
            result.notes.append(f"gave up waiting: no case finished for {IDLE_TIMEOUT:.0f}s")
        say(f"bench: {len(result.finished)} of {cases} finished in {result.window:.1f}s")

        after = _settled_scrape(ports)
        for name in ports:
            for labels, value in counter_delta(before[name], after[name], "yjs_events_published_total").items():
                result.published[labels] = result.published.get(labels, 0.0) + value
            for labels, value in counter_delta(before[name], after[name], "yjs_events_consumed_total").items():
                result.consumed[labels] = result.consumed.get(labels, 0.0) + value
            sent = sum(counter_delta(before[name], after[name], "yjs_db_statements_total").values())
            result.statements += sent
            result.round_trips += sum(counter_delta(before[name], after[name], "yjs_db_round_trips_total").values())
            service = name.split("#")[0]
            result.statements_by_service[service] = result.statements_by_service.get(service, 0.0) + sent
            events, batches = (sum(counter_delta(before[name], after[name], f"yjs_event_batch_size_{part}").values())
                               for part in ("sum", "count"))
            kept = result.batched_by_service.get(service, (0.0, 0.0))
            result.batched_by_service[service] = (kept[0] + events, kept[1] + batches)
        for name, pids in service_pids.items():
            result.usage.append(ProcessUsage(name, pids, window.used(pids), sum(memory_kib(p)[0] for p in pids)))
        if pg_pids:
            result.usage.append(ProcessUsage("PostgreSQL (backends of the bench databases)", pg_pids,
                                             window.used(pg_pids), max((memory_kib(p)[0] for p in pg_pids), default=0),
                                             note="peak RSS: the largest backend"))
        if pg_server:
            result.usage.append(ProcessUsage("PostgreSQL server processes (postmaster, WAL writer, checkpointer, "
                                             "autovacuum…, and backends that ended in the window)",
                                             pg_server, window.used(pg_server), 0,
                                             note="shared with every database on the server"))
        if broker_pids:
            result.usage.append(ProcessUsage("RabbitMQ (beam.smp, the whole broker)", broker_pids,
                                             window.used(broker_pids), sum(memory_kib(p)[0] for p in broker_pids),
                                             note="shared with anything else using the broker"))
        result.usage.append(ProcessUsage("bench client (this process)", [os.getpid()], window.used([os.getpid()]),
                                         memory_kib(os.getpid())[0]))
        for usage in result.usage:
            usage.system_cpu = window.used(usage.pids, part=1)
        result.machine_cpu = window.machine()
        result.others = window.busiest_others({pid for u in result.usage for pid in u.pids})
        result.body_bytes = _mean_event_bytes(urls)

        say("bench: stopping the system")
        system.stop()
        system = None
        pg_after_stop = _postgres_counters(urls)
        if pg_counters and pg_after_stop:
            run = warmup + len(result.submissions)
            result.postgres = {k: (pg_after_stop[k] - pg_counters[k]) / run for k in PG_COUNTERS}
        published = int(result.total_published) or cases * 10
        say(f"bench: broker ceiling, {published} messages of {result.body_bytes} bytes")
        # first the queue type the system's queues all are: the ceiling its traffic is measured against
        for queue_type in ("quorum", "classic"):
            result.ceilings.append(measure_ceiling(amqp_uri, published, result.body_bytes or 1000, batch=100,
                                                   broker_pids=broker_pids, queue_type=queue_type))
        each = min(published, EACH_CONFIRM_LIMIT)
        result.ceilings.append(measure_ceiling(amqp_uri, each, result.body_bytes or 1000, batch=1,
                                               broker_pids=broker_pids))
        ok = True
        return result
    finally:
        if watcher is not None:
            watcher.stop()
        if system is not None:
            system.stop()
        for url in drop:
            try:
                drop_database(url)
            except Exception as error:  # noqa: BLE001 - keep cleaning
                say(f"bench: could not drop {url}: {error}")
        if vhost is not None:
            drop_vhost(vhost)
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"bench: failed; the services' logs are kept in {tmp / 'logs'}")


def _progress(load: Load, watcher: CompletionWatcher, cases: int) -> None:
    while True:
        time.sleep(5)
        with watcher.changed:
            done = sum(1 for c in list(load.case_ids) if c in watcher.finished)
        say(f"bench:   submitted {len(load.submissions)}/{cases}, finished {done}")
        if done >= cases or (not load.active and done >= len(load.case_ids)):
            return


# --- the report -------------------------------------------------------------------------------

def _ms(seconds: float) -> str:
    return "—" if seconds is None or math.isnan(seconds) else f"{seconds * 1000:,.0f} ms"


def _n(value: float, digits: int = 1) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def _percent(part: float, whole: float) -> str:
    return f"{part / whole * 100:.0f}%" if whole else "—"


def render(result: BenchResult) -> str:
    r = result
    accepted = r.accepted
    latencies = r.latencies
    http = [s.answered - s.started for s in r.submissions if s.case_id]
    n = max(len(accepted), 1)
    lines = [f"# yijianshi benchmark — {r.started_at}", "", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in r.machine.items()]
    lines += ["", "## Parameters", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in r.parameters.items()]

    lines += ["", "## Results", "", "| measure | value |", "|---|---|",
              f"| cases submitted | {len(r.submissions)} |",
              f"| submissions refused or failed | {len(r.failed_submissions)} |",
              f"| completed | {r.completed} |",
              f"| rejected | {r.finished_of('rejected')} |",
              f"| not finished | {len(accepted) - len(r.finished)} |",
              f"| first submission to last completion | {_n(r.window, 2)} s |",
              f"| **cases completed per second** | **{_n(r.throughput)}** |",
              f"| cases per second, 10%–90% finished (steady) | {_n(r.steady_throughput)} |",
              f"| submit-to-completed latency p50 | {_ms(percentile(latencies, 50))} |",
              f"| submit-to-completed latency p95 | {_ms(percentile(latencies, 95))} |",
              f"| **submit-to-completed latency p99** | **{_ms(percentile(latencies, 99))}** |",
              f"| submit-to-completed latency max | {_ms(max(latencies) if latencies else math.nan)} |",
              f"| POST /v1/cases answer (202) p50 / p99 | {_ms(percentile(http, 50))} / {_ms(percentile(http, 99))} |",
              f"| events published per case | {_n(r.total_published / n, 2)} |",
              f"| event deliveries per case (consumed by the services) | {_n(r.total_delivered / n, 2)} |",
              f"| event messages (published + delivered) per second | {_n(r.message_rate, 0)} |",
              f"| mean event body | {r.body_bytes} bytes |"]
    if r.postgres:
        p = r.postgres
        lines.append(f"| PostgreSQL transactions per case (commits + rollbacks, all services) | "
                     f"{p['xact_commit'] + p['xact_rollback']:.1f} ({p['xact_rollback']:.1f} rollbacks) |")
        lines.append(f"| PostgreSQL rows inserted / updated / fetched per case | "
                     f"{p['tup_inserted']:.1f} / {p['tup_updated']:.1f} / {p['tup_fetched']:.1f} |")
        lines.append(f"| PostgreSQL connections opened per case | {p['sessions']:.2f} |")
    retried = sum(v for labels, v in r.consumed.items() if dict(labels).get("outcome") == "retried")
    dead = sum(v for labels, v in r.consumed.items() if dict(labels).get("outcome") == "dead_lettered")
    lines.append(f"| deliveries retried / dead-lettered | {retried:.0f} / {dead:.0f} |")
    lines.append(f"| SQL statements per case (all services, counted by their engines) | {r.statements / n:.1f} |")
    lines.append(f"| SQL round trips per case (statements sent together count once; commits included) | "
                 f"{r.round_trips / n:.1f} |")
    for s in r.failed_submissions[:5]:
        lines.append(f"| failed submission #{s.index} | {s.status} {s.error[:120]} |")
    for note in r.notes:
        lines.append(f"| note | {note} |")

    busy, available = r.machine_cpu
    lines += ["", "## Per process", "",
              f"CPU in the measured window ({_n(r.window, 2)} s). CPU % is of one core; the machine has "
              f"{os.cpu_count()} (200% = all of a 2-core machine). Peak RSS is VmHWM.", "",
              "| process | CPU s | of which kernel | CPU % | CPU ms per case | share of machine busy | peak RSS MiB |",
              "|---|---:|---:|---:|---:|---:|---:|"]

    def row(name: str, cpu: float, kernel: float | None, rss_kib: int = 0, cpu_text: str | None = None) -> str:
        return (f"| {name} | {cpu_text or f'{cpu:.1f}'} | {_percent(kernel, cpu) if kernel is not None else ''} | "
                f"{_percent(cpu, r.window)} | {cpu / n * 1000:.1f} | {_percent(cpu, busy)} | "
                f"{f'{rss_kib / 1024:.0f}' if rss_kib else '—'} |")

    notes = []
    for u in r.usage:
        name = u.name
        if u.note:
            notes.append(u.note)
            name += f" ({len(notes)})"
        lines.append(row(name, u.cpu, u.system_cpu, u.peak_rss_kib))
    services = [u for u in r.usage if u.name.split("#")[0] in SERVICES]
    lines.append(row("**all services**", r.service_cpu, sum(u.system_cpu for u in services),
                     cpu_text=f"**{r.service_cpu:.1f}**"))
    lines.append(row("everything else on the machine", r.others_cpu, None))
    lines.append(row("machine (every process, /proc/stat)", busy, None, cpu_text=f"{busy:.1f} of {available:.1f}"))
    if notes:
        lines.append("\n" + "; ".join(f"({k}) {note}" for k, note in enumerate(notes, 1)) + ".")
    if r.others:
        lines.append("\nThe busiest processes that were not the bench's: "
                     + "; ".join(f"`{command}` {seconds:.1f} s" for command, seconds in r.others) + ".")
    if r.bench_cpu > 0:
        lines.append(f"\nThe system, its databases, the broker and the client used {r.bench_cpu / n * 1000:.0f} "
                     f"CPU ms per case: {os.cpu_count()} cores doing nothing else would finish at most "
                     f"{os.cpu_count() * n / r.bench_cpu:.0f} cases per second at that cost.")

    lines += ["", "## Broker ceiling", "",
              "Plain kombu/py-amqp on the same vhost, publisher and consumer each its own process: persistent "
              "messages of the mean event body size through a durable topic exchange to one durable queue, "
              "with publisher confirms; the consumer (prefetch 100) acks each message. The queue is a quorum "
              "queue, as every queue of the system, and then a classic one for comparison.", "",
              "| mode | queue | messages | body bytes | publish msg/s | consume msg/s | published + delivered /s "
              "| publisher / consumer / broker CPU s | |",
              "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for c in r.ceilings:
        lines.append(f"| {c.mode} | {c.queue_type} | {c.messages} | {c.body_bytes} | {_n(c.publish_rate, 0)} | "
                     f"{_n(c.consume_rate, 0)} | {_n(c.operations_rate, 0)} | "
                     f"{c.publisher_cpu:.1f} / {c.consumer_cpu:.1f} / {c.broker_cpu:.1f} | {c.error} |")
    if r.ceilings and r.ceilings[0].operations_rate:
        ceiling = r.ceilings[0].operations_rate
        lines.append(f"\nThe system moved **{_n(r.message_rate, 0)}** event messages per second (published + "
                     f"delivered) = **{r.message_rate / ceiling * 100:.1f}%** of the broker's ceiling "
                     f"({_n(ceiling, 0)}/s, {r.ceilings[0].mode}, {r.ceilings[0].queue_type} queue).")

    lines += ["", "## Events per case", "", "| event | published per case | delivered per case |", "|---|---:|---:|"]
    by_type: dict[str, list[float]] = {}
    for labels, value in r.published.items():
        by_type.setdefault(dict(labels)["event_type"], [0.0, 0.0])[0] += value
    for labels, value in r.consumed.items():
        by_type.setdefault(dict(labels)["event_type"], [0.0, 0.0])[1] += value
    for event_type, (pub, con) in sorted(by_type.items()):
        lines.append(f"| {event_type} | {pub / n:.2f} | {con / n:.2f} |")
    lines.append("\nNot counted above: each submission is also one RPC from the gateway to the case service "
                 "(a request and a reply message).")
    lines += ["", "## By service", "",
              "| service | deliveries per case | events published per case | SQL statements per case "
              "| deliveries applied in batches | events per batch |",
              "|---|---:|---:|---:|---:|---:|"]
    for service in sorted(r.statements_by_service):
        delivered = sum(v for labels, v in r.consumed.items() if dict(labels).get("service") == service)
        published = sum(v for labels, v in r.published.items() if dict(labels).get("service") == service)
        batched, batches = r.batched_by_service.get(service, (0.0, 0.0))
        lines.append(f"| {service} | {delivered / n:.2f} | {published / n:.2f} | "
                     f"{r.statements_by_service[service] / n:.1f} | "
                     f"{_percent(batched, delivered)} | {_n(batched / batches, 1) if batches else '—'} |")
    return "\n".join(lines) + "\n"


def run_bench(args) -> int:
    if args.cases < 1 or args.concurrency < 1 or (args.rate is not None and args.rate <= 0):
        print("cases, concurrency and rate must be positive", file=sys.stderr)
        return 2
    result = bench(args.cases, args.concurrency, args.rate, args.database)
    report = render(result)
    print(report)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(report, encoding="utf-8")
        say(f"bench: report written to {args.output}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
        say(f"bench: summary written to {args.json}")
    return 0 if result.completed == args.cases else 1


__all__ = ["run_bench", "bench", "render", "BenchResult"]
