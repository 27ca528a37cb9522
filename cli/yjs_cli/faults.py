"""`make faults` (`yjs faults`): the whole system on a three-node broker cluster of its own and
fresh PostgreSQL databases, two replicas of every department, at least 300 establishments
driven through the gateway while, one after another: a broker node is SIGKILLed and restarted,
the node the case service's outbox relay is connected to is paused (SIGSTOP) and resumed,
PostgreSQL is restarted once, and every service process is SIGKILLed once and started again.
Then every case is checked against every department's own tables, and the last line says
`faults: N cases, L lost, D doubled`; the exit status is non-zero unless L and D are 0.

Every submission carries its own Idempotency-Key and is sent again, with the same key, until
the gateway accepts it: a refused or unanswered submission during a fault is the client's to
retry, and a retry must never open a second case. Everything started is stopped at the end,
on failure and on Ctrl-C too."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .bench import Load
from .rabbit_cluster import RabbitCluster
from .system import GATEWAY_PORT, System, SystemConfig, free_port_offset, installed_services

# every department installed, though an establishment without licensed business reaches fewer: the
# others still consume what every case announces, and are killed like the rest
DEPARTMENTS = [s for s in installed_services() if s not in ("gateway", "case")]
SERVICES = ["case", *DEPARTMENTS, "gateway"]
SEALS = ("official", "finance", "invoice", "contract", "legal_representative")  # the sample asks for all five
#: what each case must have left in each department's own tables, exactly once
EXPECTED = {
    "registration.enterprises": 1,
    **{f"seal_carving.seals[{kind}]": 1 for kind in SEALS},
    "tax.taxpayers": 1,
    "tax.invoice_grants": 1,
    "bank_account.accounts": 1,
    # an employer registered for social insurance, where that department is installed
    **({"social_insurance.employers": 1} if "social_insurance" in DEPARTMENTS else {}),
}
#: short timers and enough retries to outlast a database restart
FAULT_ENV = {"RETRY_DELAYS_MS": "1000,4000,15000", "AMQP_HEARTBEAT": "5", "OUTBOX_CONFIRM_TIMEOUT": "5",
             "LOG_LEVEL": "WARNING", "MAX_WORKERS": "10", "DB_POOL_SIZE": "4"}
FINAL = ("completed", "partially_completed", "rejected", "withdrawn")


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


# --- the check ----------------------------------------------------------------------------------

@dataclass
class Tally:
    cases: int
    lost: set[str] = field(default_factory=set)  # idempotency keys (or case ids) of what is missing
    doubled: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        return f"faults: {self.cases} cases, {len(self.lost)} lost, {len(self.doubled)} doubled"


def reconcile(keys: list[str], cases: list[tuple[str, str, str]], found: dict[str, Counter],
              expected: dict[str, int] = EXPECTED) -> Tally:
    """`keys`: the Idempotency-Key of every application sent; `cases`: (case_id, key, status)
    of every case the case service holds; `found`: for each of `expected`'s tables, how many rows
    each case has there. A case is lost when its application has no case, its case did not
    complete, or a department lacks its row; doubled when an application has two cases or a
    department holds a row twice, or a row for a case nobody applied for."""
    tally = Tally(len(keys))
    by_key: dict[str, list[tuple[str, str]]] = {}
    for case_id, key, status in cases:
        by_key.setdefault(key, []).append((case_id, status))
    ours: set[str] = set()
    for key in keys:
        held = by_key.get(key, [])
        if not held:
            tally.lost.add(key)
            tally.problems.append(f"application {key}: no case")
            continue
        if len(held) > 1:
            tally.doubled.add(key)
            tally.problems.append(f"application {key}: {len(held)} cases {[c for c, _ in held]}")
        for case_id, status in held:
            ours.add(case_id)
            if status != "completed":
                tally.lost.add(key)
                tally.problems.append(f"{case_id}: {status}, not completed")
            for table, count in expected.items():
                has = found.get(table, Counter()).get(case_id, 0)
                if has < count:
                    tally.lost.add(key)
                    tally.problems.append(f"{case_id}: {table} has {has} rows, not {count}")
                elif has > count:
                    tally.doubled.add(key)
                    tally.problems.append(f"{case_id}: {table} has {has} rows, not {count}")
    strangers = {case_id for counts in found.values() for case_id in counts} - ours
    for case_id in sorted(strangers):
        tally.doubled.add(case_id)
        tally.problems.append(f"{case_id}: department rows for a case no application opened")
    return tally


def read_tables(database_urls: dict[str, str]) -> tuple[list[tuple[str, str, str]], dict[str, Counter]]:
    """(the case service's cases, each department table's rows per case), read straight from
    each service's own database."""
    from sqlalchemy import create_engine, text

    def rows(service: str, sql: str) -> list:
        engine = create_engine(database_urls[service])
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql)).all()
        finally:
            engine.dispose()

    cases = [tuple(r) for r in rows("case", "SELECT case_id, idempotency_key, status FROM cases")]
    found = {
        "registration.enterprises": Counter(r[0] for r in rows("registration", "SELECT case_id FROM enterprises")),
        "tax.taxpayers": Counter(r[0] for r in rows("tax", "SELECT case_id FROM taxpayers")),
        "tax.invoice_grants": Counter(r[0] for r in rows("tax", "SELECT case_id FROM invoice_grants")),
        "bank_account.accounts": Counter(r[0] for r in rows("bank_account", "SELECT case_id FROM accounts")),
    }
    if "social_insurance.employers" in EXPECTED:
        found["social_insurance.employers"] = Counter(
            r[0] for r in rows("social_insurance", "SELECT case_id FROM employers"))
    seals = rows("seal_carving", "SELECT case_id, type FROM seals WHERE status = 'filed'")
    for kind in SEALS:
        found[f"seal_carving.seals[{kind}]"] = Counter(case_id for case_id, t in seals if t == kind)
    return cases, found


def unfinished(database_urls: dict[str, str]) -> int:
    from sqlalchemy import bindparam, create_engine, text

    engine = create_engine(database_urls["case"])
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM cases WHERE status NOT IN :final").bindparams(
                bindparam("final", expanding=True)), {"final": list(FINAL)}).scalar_one()
    finally:
        engine.dispose()


# --- the load -----------------------------------------------------------------------------------

class RetryingLoad(Load):
    """The benchmark's applications, each sent with its own Idempotency-Key until accepted."""

    def __init__(self, base_url: str, name_offset: int, give_up_after: float = 180.0):
        super().__init__(base_url, name_offset)
        self.give_up_after = give_up_after
        self.keys: dict[int, str] = {}
        self.resent = 0
        self.abandoned = False  # the run failed: send nothing more

    def submit(self, index: int, scheduled: float | None = None):
        key = self.keys.setdefault(index, f"faults-{uuid.uuid4()}")
        body = self.body(index)
        headers = {"Authorization": f"Bearer {self.tokens[index % len(self.tokens)]}", "Idempotency-Key": key}
        deadline = time.monotonic() + self.give_up_after
        while not self.abandoned:
            try:
                answer = self.session().post(f"{self.base_url}/v1/cases", json=body, headers=headers, timeout=30)
                if answer.status_code in (200, 201, 202):
                    with self.lock:
                        self.case_ids.add(answer.json()["case_id"])
                    return
                if 400 <= answer.status_code < 500 and answer.status_code != 429:
                    say(f"faults: application {key} refused: {answer.status_code} {answer.text[:200]}")
                    return
            except requests.RequestException:
                self.local.session = None  # a connection the gateway's restart cut
            if time.monotonic() > deadline:
                say(f"faults: application {key} unanswered for {self.give_up_after:.0f}s; left to the check")
                return
            with self.lock:
                self.resent += 1
            time.sleep(0.5)


# --- the faults ---------------------------------------------------------------------------------

def port_named(listed: list[dict], connection_name: str) -> int | None:
    """The broker port of the connection whose client calls it `connection_name`, in the output of
    `rabbitmqctl list_connections name client_properties --formatter json` (a connection's name
    is "client address -> broker address"; its properties are [key, type, value] triples)."""
    for connection in listed:
        properties = connection.get("client_properties") or []
        if ["connection_name", "longstr", connection_name] in properties:
            return int(connection["name"].rsplit(":", 1)[-1])
    return None


def relay_node(cluster: RabbitCluster, service: str):
    """The node the service's outbox relay is connected to, as the broker lists its connections."""
    from yjs_kit.outbox import relay_connection_name

    for node in cluster.nodes:
        try:
            listed = json.loads(cluster.ctl(node, "list_connections", "name", "client_properties",
                                            "--formatter", "json", timeout=60) or "[]")
            break
        except (RuntimeError, subprocess.TimeoutExpired, ValueError):
            continue
    else:
        return None
    port = port_named(listed, relay_connection_name(service))
    return next((n for n in cluster.nodes if n.amqp_port == port), None)


def postgres_restart() -> float:
    """Restarts this machine's PostgreSQL cluster once; returns how long it took."""
    version = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                             check=True).stdout.split()[0]
    started = time.monotonic()
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True,
                   capture_output=True, timeout=120)
    return time.monotonic() - started


class Faults:
    """One thread doing each fault once, in turn, while the load runs."""

    def __init__(self, cluster: RabbitCluster, system: System, load: RetryingLoad, start_after: int):
        self.cluster, self.system, self.load, self.start_after = cluster, system, load, start_after
        self.done: list[str] = []
        self.exited: list[str] = []  # processes that ended without being killed: a defect to report
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="faults", daemon=True)

    def _wait_for_load(self, accepted: int) -> None:
        while len(self.load.case_ids) < accepted and self.load.active:
            time.sleep(0.2)

    def _note(self, what: str) -> None:
        say(f"faults: {what} ({len(self.load.case_ids)} cases accepted)")
        self.done.append(what)

    def _run(self) -> None:
        try:
            self._wait_for_load(self.start_after)
            victim = self.cluster.nodes[1]
            self.cluster.kill(victim)
            self._note(f"broker node {victim.name} SIGKILLed")
            time.sleep(3)
            self.cluster.restart(victim)
            self._note(f"broker node {victim.name} restarted")

            paused = relay_node(self.cluster, "case")
            if paused is None:
                raise RuntimeError("no broker lists the case service's outbox relay connection")
            self.cluster.pause(paused)
            self._note(f"broker node {paused.name}, the case relay's, paused (SIGSTOP)")
            time.sleep(8)
            self.cluster.resume(paused)
            self._note(f"broker node {paused.name} resumed")

            took = postgres_restart()
            self._note(f"PostgreSQL restarted in {took:.1f}s")

            for process in list(self.system.processes):
                service, replica = process.service, process.replica
                if process.popen.poll() is not None:
                    self.exited.append(f"{service}#{replica} (exit status {process.popen.returncode})")
                    self.system.processes.remove(process)
                else:
                    self.system.kill(service, replica)
                self.system.restart(service, replica)
                self._note(f"{service}#{replica} SIGKILLed and started again")
                time.sleep(2)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            self.error = error
            self.load.abandoned = True
            say(f"faults: the fault schedule failed: {error!r}")


# --- the run ------------------------------------------------------------------------------------

def wait_finished(database_urls: dict[str, str], accepted: int, idle_timeout: float) -> int:
    """Until no case is unfinished, or none finished for `idle_timeout` seconds; returns how many are left."""
    last, progress = None, time.monotonic()
    while True:
        try:
            left = unfinished(database_urls)
        except Exception as error:  # noqa: BLE001 - the database may be coming back
            say(f"faults: cannot count unfinished cases yet: {error!r}")
            left = last if last is not None else accepted
        if left == 0:
            return 0
        if left != last:
            last, progress = left, time.monotonic()
            say(f"faults: {left} cases unfinished")
        if time.monotonic() - progress > idle_timeout:
            return left
        time.sleep(1)


def run(cases: int, concurrency: int, keep: bool) -> int:
    from yjs_kit.testing import create_database, drop_database

    started = time.monotonic()
    directory = Path(tempfile.mkdtemp(prefix="yjs-faults-"))
    cluster = RabbitCluster(directory / "broker", say=say)
    databases: dict[str, str] = {}
    system: System | None = None
    tally: Tally | None = None
    exited: list[str] = []  # service processes that ended on their own: a defect, whatever the tally
    try:
        cluster.start()
        databases = {s: create_database(f"yjs_faults_{s}") for s in SERVICES if s != "gateway"}
        replicas = {d: 2 for d in DEPARTMENTS}
        offset = free_port_offset(SERVICES, replicas)
        system = System(SystemConfig(amqp_uri=cluster.uri, gateway_address=f"127.0.0.1:{GATEWAY_PORT + offset}",
                                     database_urls=databases, services=SERVICES, replicas=replicas,
                                     metrics_port_offset=offset, env=dict(FAULT_ENV), log_dir=directory / "logs",
                                     broker_admin=cluster.admin()))
        system.start()
        system.wait_ready(timeout=180)
        say(f"faults: {len(system.processes)} service processes ready after {time.monotonic() - started:.0f}s")
        load = RetryingLoad(system.config.base_url, uuid.uuid4().int % 1_000_000)
        faults = Faults(cluster, system, load, start_after=max(cases // 10, 1))
        load.active = True
        faults.thread.start()
        load.run(0, cases, concurrency, None)
        say(f"faults: {len(load.case_ids)} of {cases} applications accepted, {load.resent} sent again")
        faults.thread.join()
        exited = faults.exited
        if faults.error is not None:
            raise RuntimeError(f"the fault schedule failed: {faults.error!r}")
        left = wait_finished(databases, cases, idle_timeout=90)
        if left:
            say(f"faults: {left} cases still unfinished; checking what is there")
        tally = reconcile(list(load.keys.values()), *read_tables(databases))
        for problem in tally.problems[:40]:
            say(f"faults:   {problem}")
        say(f"faults: {len(faults.done)} faults in {time.monotonic() - started:.0f}s")
        if faults.exited:
            say(f"faults: service processes that ended on their own during the faults: {', '.join(faults.exited)}")
    finally:
        if system is not None:
            system.stop()
        cluster.stop()
        for url in databases.values():
            try:
                drop_database(url)
            except Exception as error:  # noqa: BLE001 - leave it; the run's answer matters more
                say(f"faults: could not drop {url}: {error!r}")
        failed = tally is None or tally.lost or tally.doubled or exited
        if keep or failed:
            say(f"faults: logs kept in {directory / 'logs'}")
            shutil.rmtree(directory / "broker", ignore_errors=True)
        else:
            shutil.rmtree(directory, ignore_errors=True)
    print(tally.line, flush=True)
    return 0 if not (tally.lost or tally.doubled or exited) else 1


def run_faults(cases: int = 300, concurrency: int = 6, keep: bool = False) -> int:
    # SIGTERM (a CI runner giving up) ends the run as Ctrl-C does: through the cleanup
    def interrupt(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        return run(cases, concurrency, keep)
    except KeyboardInterrupt:
        say("faults: interrupted; everything started is stopped")
        return 130
