"""Broker users as code: each service connects with its own RabbitMQ user, whose configure,
write and read permissions (regexes over the vhost's exchange and queue names) are computed
from the topology's own names, so that a service can publish only on its own `<service>.events`
exchange and read only its own queues. Department systems get users that can only bind and
read queues of their own. `yjs topology apply --users` applies them; see docs/adr/0012."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from .brokers import broker_urls
from .topology import Topology, exchange_name, parked_queue_name, retry_queue_name, unrouted_name

# nameko's names (nameko.rpc): its exchange, a service's request queue, a caller's reply queues
RPC_EXCHANGE = "nameko-rpc"
DEFAULT_EXCHANGE = "amq.default"  # the name RabbitMQ checks permissions on for the exchange ""
HASHING_ALGORITHM = "rabbit_password_hashing_sha256"


#: how the services' users are named; tests name theirs after their vhost (users are the broker's)
USER_PREFIX = "yjs-"


def broker_user(service: str, prefix: str = USER_PREFIX) -> str:
    return f"{prefix}{service}"


def broker_user_of(amqp_uri: str) -> str:
    """The user a connection to this URI authenticates as: the only `user_id` the broker lets it set."""
    return unquote(urlsplit(broker_urls(amqp_uri)[0]).username or "guest")  # kombu's default user


def own_user_problem(config: Mapping, service: str) -> str | None:
    """Why this service may not start with these broker settings, or None. Production runs with a
    user per service (consumers then require an event's publisher to be its producer's user); with
    that on, the service must connect as its own user, or every event it publishes is refused."""
    if config.get("YJS_ENV") == "production" and not config.get("BROKER_USERS"):
        return "production runs each service as its own broker user: YJS_BROKER_USERS may not be off"
    if config.get("BROKER_USERS"):
        wanted = broker_user(service, config.get("BROKER_USER_PREFIX", USER_PREFIX))
        if broker_user_of(config["AMQP_URI"]) != wanted:
            return f"YJS_BROKER_USERS is on, so AMQP_URI must name the user {wanted!r}, not " \
                   f"{broker_user_of(config['AMQP_URI'])!r}"
    return None


def password_variable(user: str) -> str:
    return f"AMQP_PASSWORD_{re.sub(r'[^A-Z0-9]', '_', user.upper())}"


def local_password(service: str) -> str:
    """The development default, for local runs only (see `broker_password`)."""
    return f"yjs-local-{service}"


class MissingPassword(Exception):
    """Production without a configured broker password for a service."""


def broker_password(service: str, environ: Mapping[str, str] = os.environ) -> str:
    """`AMQP_PASSWORD_<SERVICE>`, or the file named by `AMQP_PASSWORD_<SERVICE>_FILE` (a mounted
    secret); outside production, the local development default."""
    variable = password_variable(service)
    if environ.get(variable):
        return environ[variable]
    if environ.get(f"{variable}_FILE"):
        with open(environ[f"{variable}_FILE"], encoding="utf-8") as file:
            return file.read().strip()
    if environ.get("YJS_ENV") == "production":
        raise MissingPassword(f"{variable} (or {variable}_FILE) is not set: production has no default broker password")
    return local_password(service)


def uri_with_user(amqp_uri: str, user: str, password: str) -> str:
    """The same brokers (each of a `;`-separated list) and vhost, as another user."""
    def as_user(url: str) -> str:
        parts = urlsplit(url)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"))

    return ";".join(as_user(url) for url in broker_urls(amqp_uri))


def vhost_of(amqp_uri: str) -> str:
    path = urlsplit(broker_urls(amqp_uri)[0]).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _alternatives(names: Iterable[str], patterns: Iterable[str] = ()) -> str:
    """An anchored regex matching exactly these names (and these patterns); `^$` matches nothing
    a service may use (the empty name is the default exchange, checked as `amq.default`)."""
    options = sorted({re.escape(n) for n in names}) + sorted(set(patterns))
    return f"^({'|'.join(options)})$" if options else "^$"


@dataclass(frozen=True)
class Permissions:
    configure: str
    write: str
    read: str


def service_permissions(service: str, topology: Topology, *, serves_rpc: bool = True) -> Permissions:
    """What RabbitMQ checks, and why each name is there:
    - configure (declare): its own exchange (the relay declares it), its own queues (the consumer
      declares them at start), nameko's RPC exchange, its RPC queue and its reply queues;
    - write (publish to an exchange; bind a queue): its own exchange, the exchange's alternate
      (checked when the exchange is declared), the default exchange (retries, parking and replays
      go to its own queues by name, and a retry queue dead-letters through it), the RPC exchange
      (requests and replies), and its own queues, which it binds;
    - read (consume a queue; bind from an exchange): its own queues, the exchanges its inbox is
      bound to, its own exchange (checked with its alternate), the RPC exchange and RPC queues.
    Another service's exchange is never writable nor configurable: its events cannot be forged."""
    produces = service in topology.producers
    inboxes = topology.inboxes_of(service)
    consumed = frozenset().union(*inboxes.values())
    own_queues = [name for inbox in sorted(inboxes) for name in (
        inbox, *(retry_queue_name(inbox, d) for d in topology.delays_ms), parked_queue_name(inbox))]
    rpc_queues = [f"rpc-{service}"] if serves_rpc else []
    reply_queues = [rf"rpc\.reply\-{re.escape(service)}\-[0-9a-f\-]+"]
    own_exchange = [exchange_name(service)] if produces else []
    bound_exchanges = sorted({exchange_name(t.split(".", 1)[0]) for t in consumed})
    return Permissions(
        configure=_alternatives([*own_exchange, *own_queues, RPC_EXCHANGE, *rpc_queues], reply_queues),
        write=_alternatives([*own_exchange, *([unrouted_name(service)] if produces else []),
                             *([DEFAULT_EXCHANGE] if consumed else []), RPC_EXCHANGE, *own_queues, *rpc_queues],
                            reply_queues),
        read=_alternatives([*own_queues, *bound_exchanges, *own_exchange, RPC_EXCHANGE, *rpc_queues], reply_queues),
    )


def department_permissions(department: str, producers: Iterable[str]) -> Permissions:
    """A department system outside the project: it declares and binds queues named
    `<department>.<anything>` to the given producers' exchanges and reads them; it can publish
    nowhere (no exchange is writable) and touch no other queue."""
    queues = [rf"{re.escape(department)}\..+"]
    exchanges = [exchange_name(p) for p in producers]
    return Permissions(configure=_alternatives([], queues), write=_alternatives([], queues),
                       read=_alternatives(exchanges, queues))


def hash_password(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's salted SHA-256 (rabbit_password_hashing_sha256): base64(salt + sha256(salt + password))."""
    salt = secrets.token_bytes(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode("utf-8")).digest()).decode("ascii")


def password_matches(password_hash: str, password: str) -> bool:
    try:
        raw = base64.b64decode(password_hash)
    except ValueError:
        return False
    return len(raw) == 36 and secrets.compare_digest(hash_password(password, raw[:4]), password_hash)


@dataclass(frozen=True)
class BrokerUser:
    name: str
    password: str
    permissions: Permissions


def service_users(services: Iterable[str], topology: Topology, environ: Mapping[str, str] = os.environ,
                  rpc_servers: Iterable[str] | None = None, name: Callable[[str], str] = broker_user) -> list[BrokerUser]:
    """One user per service; `rpc_servers` (default: every service but the gateway) serve RPC."""
    services = list(services)
    serving = set(rpc_servers) if rpc_servers is not None else {s for s in services if s != "gateway"}
    return [BrokerUser(name(s), broker_password(s, environ),
                       service_permissions(s, topology, serves_rpc=s in serving)) for s in services]


def _tags(user: dict) -> list[str]:
    tags = user.get("tags") or []
    return [t for t in (tags.split(",") if isinstance(tags, str) else tags) if t]


def changes(current: dict, users: Iterable[BrokerUser], vhost: str) -> dict:
    """The definitions to import so that the broker holds these users, passwords and permissions
    on `vhost`; empty lists when it already does (applying twice changes nothing)."""
    known = {u["name"]: u for u in current.get("users", [])}
    granted = {p["user"]: p for p in current.get("permissions", []) if p["vhost"] == vhost}
    new_users, new_permissions = [], []
    for user in users:
        existing = known.get(user.name)
        if existing is None or _tags(existing) or existing.get("hashing_algorithm") != HASHING_ALGORITHM \
                or not password_matches(existing.get("password_hash", ""), user.password):
            new_users.append({"name": user.name, "password_hash": hash_password(user.password),
                              "hashing_algorithm": HASHING_ALGORITHM, "tags": []})
        wanted = {"user": user.name, "vhost": vhost, "configure": user.permissions.configure,
                  "write": user.permissions.write, "read": user.permissions.read}
        if granted.get(user.name) != wanted:
            new_permissions.append(wanted)
    return {"users": new_users, "permissions": new_permissions}


class Rabbitmqctl:
    """The broker on this machine, through its CLI (needs the Erlang cookie: root or the rabbitmq user);
    `command` and `env` reach another node (`-n NODE`, a HOME holding its cookie)."""

    def __init__(self, command: Sequence[str] = ("rabbitmqctl",), env: Mapping[str, str] | None = None):
        self.command, self.env = tuple(command), dict(env) if env is not None else None

    def _run(self, *args: str) -> str:
        result = subprocess.run([*self.command, "-q", *args], capture_output=True, text=True, env=self.env)
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {args[0]} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout

    def export(self, attempts: int = 5) -> dict:
        # While other clients create and delete vhosts, the broker's export can fail inside the
        # node and rabbitmqctl print the Erlang error term, exit status 0: ask again, a moment later.
        for attempt in range(1, attempts + 1):
            output = self._run("export_definitions", "-", "--format", "json")
            try:
                return json.loads(output)
            except json.JSONDecodeError:
                time.sleep(0.2 * attempt)
        raise RuntimeError(f"rabbitmqctl export_definitions printed no definitions: {output[:500]}")

    def import_(self, definitions: dict) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
            json.dump(definitions, file)
            file.flush()
            os.chmod(file.name, 0o644)  # the broker's node reads the file, as its own user
            self._run("import_definitions", file.name)


class ManagementApi:
    """The broker's management HTTP API (compose, Kubernetes): `http://user:password@host:15672`."""

    def __init__(self, url: str):
        import requests

        parts = urlsplit(url)
        self.session = requests.Session()
        self.session.auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
        self.base = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1])).rstrip("/")

    def export(self) -> dict:
        answer = self.session.get(f"{self.base}/api/definitions", timeout=30)
        answer.raise_for_status()
        return answer.json()

    def import_(self, definitions: dict) -> None:
        self.session.post(f"{self.base}/api/definitions", json=definitions, timeout=30).raise_for_status()


def broker_for(management_url: str | None) -> Rabbitmqctl | ManagementApi:
    """The management API when its URL is given (a broker in another container), else the CLI."""
    return ManagementApi(management_url) if management_url else Rabbitmqctl()


def apply_users(users: Iterable[BrokerUser], vhost: str, broker: Rabbitmqctl | ManagementApi) -> list[str]:
    """Creates or updates the users and their permissions on `vhost`; returns what changed."""
    needed = changes(broker.export(), list(users), vhost)
    if needed["users"] or needed["permissions"]:
        broker.import_(needed)
    return [f"user {u['name']}" for u in needed["users"]] + [f"permissions of {p['user']}" for p in needed["permissions"]]
