"""A three-node RabbitMQ cluster of its own on this machine, without Docker: each node its own
name, ports, data and logs under one directory, sharing an Erlang cookie of their own. The
machine's own broker (rabbit@localhost on 5672) is not touched: the nodes are started and
reached through RabbitMQ's own scripts as this user, not through the Debian wrappers, which
would run them as the rabbitmq user with the machine's cookie."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from yjs_kit.broker_users import Rabbitmqctl

RABBITMQ_BIN = Path(os.environ.get("RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))
HOST = "localhost"


def free_ports(count: int, low: int = 20000, high: int = 32000) -> list[int]:
    """`count` ports below the ephemeral range that nothing listens on now."""
    import random

    found: list[int] = []
    for port in random.sample(range(low, high), high - low):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError("no free ports for the broker nodes")


@dataclass
class Node:
    name: str  # the Erlang node name, yjsfaults1-<pid>@localhost
    amqp_port: int
    dist_port: int
    base: Path
    process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    def config(self) -> str:
        """rabbitmq.conf: AMQP on loopback only; guest may connect (over loopback anyway)."""
        return "\n".join([
            f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}",
            "loopback_users = none",
            # a node away briefly (paused, killed) is waited for, not split off
            "cluster_partition_handling = ignore",
            "log.file.level = warning",
            "log.console = false",
            "",
        ])

    def environment(self, home: Path) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("RABBITMQ_")}
        env.update({
            "HOME": str(home),  # its .erlang.cookie: the cluster's own
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_BASE": str(self.base),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            # no management or prometheus listener: their ports are the machine broker's
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.base / "pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        })
        return env


class RabbitCluster:
    """`with RabbitCluster(directory) as cluster:` three nodes joined into one cluster;
    `cluster.uri` names all three (`;`-separated, kombu's failover syntax)."""

    def __init__(self, directory: Path, size: int = 3, prefix: str | None = None, say=print):
        self.directory = directory
        self.home = directory / "home"
        self.say = say
        prefix = prefix or f"yjsfaults{os.getpid()}"
        ports = free_ports(2 * size)
        self.nodes = [Node(f"{prefix}n{k + 1}@{HOST}", ports[2 * k], ports[2 * k + 1], directory / f"node{k + 1}")
                      for k in range(size)]

    @property
    def uri(self) -> str:
        return ";".join(node.uri for node in self.nodes)

    def ctl(self, node: Node, *args: str, timeout: float = 120) -> str:
        result = subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "-q", "-n", node.name, *args],
                                env=node.environment(self.home), capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {node.name}: "
                               f"{(result.stderr or result.stdout).strip()[-500:]}")
        return result.stdout

    def admin(self, node: Node | None = None) -> Rabbitmqctl:
        """The CLI the kit applies broker users with, pointed at this cluster."""
        node = node or self.nodes[0]
        return Rabbitmqctl(command=(str(RABBITMQ_BIN / "rabbitmqctl"), "-n", node.name),
                           env=node.environment(self.home))

    def prepare(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20).upper())
        cookie.chmod(0o400)
        for node in self.nodes:
            (node.base / "log").mkdir(parents=True, exist_ok=True)
            (node.base / "rabbitmq.conf").write_text(node.config())
            (node.base / "advanced.config").write_text("[].\n")
            (node.base / "rabbitmq-env.conf").write_text("")
            (node.base / "enabled_plugins").write_text("[].\n")

    def start_node(self, node: Node) -> None:
        log = open(node.base / "log" / "console.log", "a")
        node.process = subprocess.Popen([str(RABBITMQ_BIN / "rabbitmq-server")], env=node.environment(self.home),
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def await_node(self, node: Node, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited with {node.process.returncode}; see {node.base / 'log'}")
            try:
                self.ctl(node, "await_startup", "--timeout", "10", timeout=30)
                return
            except (RuntimeError, subprocess.TimeoutExpired):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def start(self) -> "RabbitCluster":
        self.prepare()
        for node in self.nodes:
            self.start_node(node)
        for node in self.nodes:
            self.await_node(node)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            self.ctl(node, "stop_app")
            self.ctl(node, "join_cluster", first.name)
            self.ctl(node, "start_app")
        running = self.running_nodes()
        if sorted(running) != sorted(n.name for n in self.nodes):
            raise RuntimeError(f"the cluster formed with {running}")
        self.say(f"faults: broker cluster of {len(self.nodes)} nodes up: {self.uri.replace('guest:guest@', '')}")
        return self

    def running_nodes(self, via: Node | None = None) -> list[str]:
        import json

        status = json.loads(self.ctl(via or self.nodes[0], "cluster_status", "--formatter", "json"))
        return status.get("running_nodes", [])

    def kill(self, node: Node) -> None:
        """SIGKILL the node's Erlang VM (the script's child): a crash, no goodbye."""
        if node.process is None:
            return
        try:
            os.killpg(node.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        node.process.wait()
        node.process = None

    def restart(self, node: Node) -> None:
        self.start_node(node)
        self.await_node(node)

    def pause(self, node: Node) -> None:
        os.killpg(node.process.pid, signal.SIGSTOP)

    def resume(self, node: Node) -> None:
        os.killpg(node.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Every node, whatever state it is in: the cluster is thrown away with its directory."""
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                try:
                    os.killpg(node.process.pid, signal.SIGCONT)
                    os.killpg(node.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                node.process.wait()
            node.process = None

    def __enter__(self) -> "RabbitCluster":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
