"""The whole system as processes on this machine: every service started with `yjs-serve`, as
`make up`, the end-to-end tests and the benchmark start it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

import requests
from yjs_kit.config import DEFAULT_AMQP_URI, DEV_JWT_SECRET, METRICS_PORTS, SERVICES, retry_delays_ms, var_dir

BACKEND_SERVICES = tuple(s for s in SERVICES if s != "gateway")
#: a local run (`yjs up`, `yjs demo`) runs deregistration notices in seconds rather than 20 or 45
#: days, unless the environment says otherwise
LOCAL_DEFAULTS = {"NOTICE_PERIOD_SECONDS": "15"}


def local_env() -> dict[str, str]:
    return {key: value for key, value in LOCAL_DEFAULTS.items() if key not in os.environ}


def installed_services() -> list[str]:
    import importlib.util

    return [s for s in SERVICES if importlib.util.find_spec(f"yjs_{s}") is not None]


GATEWAY_PORT = 8000


def ephemeral_ports() -> range:
    """The ports this machine gives outgoing connections. A listener must stay out of them: a
    connection to the broker or the database may hold the port by the time the service binds."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 65535
    return range(low, high + 1)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def listening_ports(offset: int, services: list[str], replicas: dict[str, int] | None = None) -> list[int]:
    """The gateway's port and every service's metrics ports at `offset`, with room for three
    replicas of each (tests start more)."""
    replicas = replicas or {}
    return [GATEWAY_PORT + offset] + [METRICS_PORTS[s] + offset + 20 * r
                                      for s in services for r in range(max(replicas.get(s, 1), 3))]


def port_offsets(services: list[str], replicas: dict[str, int] | None = None) -> list[int]:
    """The offsets whose listening ports all lie outside the ephemeral range."""
    ephemeral = ephemeral_ports()
    return [offset for offset in range(1000, 60000, 100)
            if all(port not in ephemeral and port < 65536 for port in listening_ports(offset, services, replicas))]


def free_port_offset(services: list[str], replicas: dict[str, int] | None = None) -> int:
    """An offset at which every port the system listens on is free, so several systems can run
    on one machine at once (test runs, a benchmark beside `make up`)."""
    import random

    candidates = port_offsets(services, replicas)
    for offset in random.sample(candidates, len(candidates)):
        if all(_port_free(p) for p in listening_ports(offset, services, replicas)):
            return offset
    raise RuntimeError("no free block of ports for the gateway and the services' metrics")


@dataclass
class SystemConfig:
    amqp_uri: str = DEFAULT_AMQP_URI
    gateway_address: str = "127.0.0.1:8000"
    database_urls: dict[str, str] = field(default_factory=dict)  # absent: the SQLite file under var/
    replicas: dict[str, int] = field(default_factory=dict)
    services: list[str] = field(default_factory=installed_services)
    jwt_secret: str = DEV_JWT_SECRET
    metrics_port_offset: int = 0  # several systems on one machine (tests) need distinct ports
    # each service connects as its own broker user (docs/adr/0012), created on `amqp_uri`'s vhost
    # by `apply_topology` as the user `amqp_uri` names; False: every service uses `amqp_uri` itself
    broker_users: bool = True
    env: dict[str, str] = field(default_factory=dict)
    # what applies the broker users (a Rabbitmqctl for another node); None: the management API
    # at RABBITMQ_MANAGEMENT_URL, else this machine's rabbitmqctl
    broker_admin: object | None = None
    log_dir: Path | None = None  # None: lines go to `on_line`

    @property
    def base_url(self) -> str:
        return f"http://{self.gateway_address}"


@dataclass
class Process:
    service: str
    replica: int
    popen: subprocess.Popen
    pump: threading.Thread | None = None


class System:
    def __init__(self, config: SystemConfig, on_line: Callable[[str, str], None] | None = None):
        self.config = config
        self.on_line = on_line
        self.processes: list[Process] = []

    def env_for(self, service: str, replica: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.config.env)
        env.update({
            "AMQP_URI": self.amqp_uri_for(service),
            # consumers then require each event's publisher to be its producer's own user
            "YJS_BROKER_USERS": "1" if self.config.broker_users else "0",
            "JWT_SECRET": self.config.jwt_secret,
            "YJS_SERVICES": ",".join(s for s in self.config.services if s != "gateway"),
            "YJS_VAR_DIR": str(var_dir()),
            "PYTHONUNBUFFERED": "1",
        })
        port = METRICS_PORTS[service] + self.config.metrics_port_offset + 20 * replica
        env["METRICS_PORT"] = str(port)
        if service in self.config.database_urls:
            env["DATABASE_URL"] = self.config.database_urls[service]
        else:
            env.pop("DATABASE_URL", None)
        if service == "gateway":
            env["WEB_SERVER_ADDRESS"] = self.config.gateway_address
        return env

    def amqp_uri_for(self, service: str) -> str:
        if not self.config.broker_users:
            return self.config.amqp_uri
        from yjs_kit.broker_users import broker_password, broker_user, uri_with_user

        return uri_with_user(self.config.amqp_uri, broker_user(service),
                             broker_password(service, {**os.environ, **self.config.env}))

    def start_process(self, service: str, replica: int = 0) -> Process:
        command = [sys.executable, "-m", "yjs_kit.serve", service]
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            out: int | TextIO = open(self.config.log_dir / f"{service}-{replica}.log", "a")
        else:
            out = subprocess.PIPE
        popen = subprocess.Popen(command, env=self.env_for(service, replica), stdout=out, stderr=subprocess.STDOUT,
                                 text=True, start_new_session=True)
        process = Process(service, replica, popen)
        if out is subprocess.PIPE:
            process.pump = threading.Thread(target=self._pump, args=(process,), daemon=True)
            process.pump.start()
        self.processes.append(process)
        return process

    def _pump(self, process: Process) -> None:
        name = process.service if process.replica == 0 else f"{process.service}#{process.replica}"
        for line in process.popen.stdout:
            if self.on_line is not None:
                self.on_line(name, line.rstrip("\n"))

    def apply_topology(self) -> None:
        """The broker's exchanges and queues for the services this system runs, before any of
        them starts: nothing they publish meets a missing queue; and each service's broker user."""
        from yjs_kit.topology import apply, installed_topology

        environ = {**os.environ, **self.config.env}
        topology = installed_topology(self.config.services, retry_delays_ms(environ))
        apply(self.config.amqp_uri, topology, wait_seconds=30)
        if self.config.broker_users:
            from yjs_kit.broker_users import apply_users, broker_for, service_users, vhost_of

            try:
                apply_users(service_users(self.config.services, topology, environ), vhost_of(self.config.amqp_uri),
                            self.config.broker_admin or broker_for(environ.get("RABBITMQ_MANAGEMENT_URL")))
            except (RuntimeError, OSError) as refused:  # rabbitmqctl needs root or the broker's Erlang cookie
                if environ.get("YJS_ENV") == "production":
                    raise
                # a local run as an ordinary user: every service on the shared account, said loudly
                print(f"yjs: broker users not applied ({refused}); every service uses AMQP_URI's own account. "
                      "Run as root, or set RABBITMQ_MANAGEMENT_URL, for a user per service", file=sys.stderr)
                self.config.broker_users = False

    def start(self) -> "System":
        self.apply_topology()
        # the case service first: it owns case.submitted, which every department binds to
        for service in sorted(self.config.services, key=lambda s: (s == "gateway", s != "case")):
            for replica in range(self.config.replicas.get(service, 1)):
                self.start_process(service, replica)
        return self

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.service} exited with {process.popen.returncode} while starting"
                                       + self.last_lines(process))
            try:
                answer = requests.get(f"{self.config.base_url}/readyz", timeout=5)
                if answer.status_code == 200 and answer.json().get("status") == "ok":  # every service, not only case
                    return
                last = answer.text
            except requests.RequestException as error:
                last = str(error)
            time.sleep(0.3)
        raise TimeoutError(f"the system was not ready after {timeout:.0f}s: {last}")

    def last_lines(self, process: Process, count: int = 40) -> str:
        """The end of a process's log, so a start that failed says why where it is reported (a CI
        run keeps no log directory)."""
        if self.config.log_dir is None:
            return ""
        log = self.config.log_dir / f"{process.service}-{process.replica}.log"
        try:
            lines = log.read_text(errors="replace").splitlines()[-count:]
        except OSError:
            return ""
        return "; its log ends:\n" + "\n".join(lines)

    def find(self, service: str, replica: int = 0) -> Process:
        return next(p for p in self.processes if p.service == service and p.replica == replica
                    and p.popen.poll() is None)

    def kill(self, service: str, replica: int = 0) -> None:
        """SIGKILL: no goodbye, no cleanup — as a crash."""
        process = self.find(service, replica)
        process.popen.send_signal(signal.SIGKILL)
        process.popen.wait()
        self.processes.remove(process)

    def restart(self, service: str, replica: int = 0) -> Process:
        return self.start_process(service, replica)

    def stop(self, timeout: float = 15.0) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes:
            try:
                process.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
        self.processes.clear()

    def __enter__(self) -> "System":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
