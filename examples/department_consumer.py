#!/usr/bin/env python3
"""A department system that is not written with nameko, consuming yijianshi's events.

It needs nothing of this project but the published JSON Schemas (one file per event type,
`<schemas>/events/<event_type>.json`) and the AsyncAPI conventions they describe: every
producer publishes to a durable topic exchange `<producer>.events`, with the routing key the
part of the event type after the dot (`registration.enterprise_registered` is published to
`registration.events` with routing key `enterprise_registered`).

The department declares a durable queue of its own, binds it to the events it wants, and
checks every message against the schema of its event type before acting on it:

    python examples/department_consumer.py --queue tax-bureau-system \\
        --bind registration.events:enterprise_registered --bind case.events:'#'

One JSON line per message goes to stdout:
    {"valid": true, "event_type": "...", "case_id": "...", "event_id": "..."}
    {"valid": false, "event_type": ..., "case_id": ..., "event_id": ..., "error": "..."}
and "READY" once the queue is declared and bound. Needs only kombu and jsonschema.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from amqp.exceptions import NotFound
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from kombu import Connection, Consumer, Exchange, Queue, binding
from kombu.exceptions import OperationalError

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def default_schema_dir() -> Path:
    """The installed yjs_contracts package's schemas, else the ones in this repository.
    The package is only located, never imported: all we read from it are JSON files."""
    try:
        spec = importlib.util.find_spec("yjs_contracts")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "schemas"
            if (candidate / "events").is_dir():
                return candidate
    return Path(__file__).resolve().parent.parent / "contracts" / "yjs_contracts" / "schemas"


class Schemas:
    """A validator per event type, from `<dir>/events/<event_type>.json` (or `<dir>/<event_type>.json`)."""

    def __init__(self, directory: Path):
        events = directory / "events"
        self.directory = events if events.is_dir() else directory
        self.validators: dict[str, Draft202012Validator] = {}
        for path in sorted(self.directory.glob("*.json")):
            schema = json.loads(path.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
            # The schemas are self-contained: their $refs point into their own $defs.
            # The format checker also checks `uuid` (and `date-time` when a checker for it is installed).
            self.validators[path.stem] = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        if not self.validators:
            raise SystemExit(f"no event schemas found in {self.directory}")

    def check(self, document: Any) -> str | None:
        """None when the document is a valid event, else why not."""
        if not isinstance(document, dict):
            return f"not a JSON object: {type(document).__name__}"
        event_type = document.get("event_type")
        validator = self.validators.get(event_type) if isinstance(event_type, str) else None
        if validator is None:
            return f"no published schema for event_type {event_type!r}"
        error = best_match(validator.iter_errors(document))
        if error is None:
            return None
        return f"{error.json_path}: {error.message}"


def parse_binding(text: str) -> tuple[str, str]:
    exchange, sep, routing_key = text.partition(":")
    if not sep or not exchange or not routing_key:
        raise argparse.ArgumentTypeError(f"expected EXCHANGE:ROUTING_KEY, got {text!r}")
    return exchange, routing_key


def report(**fields) -> None:
    print(json.dumps(fields), flush=True)


def log(text: str) -> None:
    print(f"department_consumer: {text}", file=sys.stderr, flush=True)


class DepartmentConsumer:
    def __init__(self, amqp_uri: str, queue_name: str, bindings: list[tuple[str, str]], schemas: Schemas,
                 count: int | None):
        self.amqp_uri, self.schemas, self.count = amqp_uri, schemas, count
        # The exchanges exist before any producer runs (yijianshi applies its topology first)
        # and belong to it: declared passively, only checked, since declaring one with other
        # arguments (each has an alternate exchange) fails with PRECONDITION_FAILED.
        self.queue = Queue(queue_name, durable=True, auto_delete=False, bindings=[
            binding(Exchange(name, type="topic", passive=True), routing_key=key)
            for name, key in bindings])
        self.valid = 0
        self.stopping = False
        self.ready_announced = False

    def stop(self, signum, frame) -> None:
        self.stopping = True

    @property
    def done(self) -> bool:
        return self.stopping or (self.count is not None and self.valid >= self.count)

    def on_message(self, message) -> None:
        # The raw body: we parse it ourselves, so that a message that is not JSON is reported
        # like any other invalid one instead of failing inside kombu's decoder.
        document: Any = None
        try:
            document = json.loads(message.body)
            error = self.schemas.check(document)
        except (ValueError, UnicodeDecodeError) as exc:
            error = f"not JSON: {exc}"
        fields = document if isinstance(document, dict) else {}
        outcome = {"valid": error is None, "event_type": fields.get("event_type"),
                   "case_id": fields.get("case_id"), "event_id": fields.get("event_id")}
        if error is None:
            # A real department would act on the event here (in its own transaction, keyed by
            # event_id so that a redelivery does nothing twice) and only then acknowledge it.
            report(**outcome)
            message.ack()
            self.valid += 1
        else:
            report(**outcome, error=error)
            # Dropped, not requeued: the same bytes would fail the same way forever. A real
            # department system would declare its queue with an `x-dead-letter-exchange`
            # argument so that rejected messages are kept there for someone to look at
            # (declaring it so from the start: a queue's arguments cannot change later).
            message.reject(requeue=False)

    def consume(self, connection: Connection) -> None:
        channel = connection.channel()
        try:
            # One unacknowledged message at a time: handled and acknowledged in order.
            channel.basic_qos(prefetch_size=0, prefetch_count=1, a_global=False)
            consumer = Consumer(channel, queues=[self.queue], on_message=self.on_message)
            consumer.declare()  # the exchanges, the queue and its bindings
            if not self.ready_announced:
                print("READY", flush=True)
                self.ready_announced = True
            with consumer:
                while not self.done:
                    try:
                        connection.drain_events(timeout=1)
                    except socket.timeout:
                        pass  # look at the stop flag at least once a second
                    connection.heartbeat_check()  # sends our heartbeats when they are due
        finally:
            try:
                channel.close()
            except Exception:  # noqa: BLE001 - the connection may be gone already
                pass

    def run(self) -> int:
        delay = 1.0
        while not self.done:
            connection = Connection(self.amqp_uri, heartbeat=30)
            try:
                connection.ensure_connection(max_retries=0)  # fail at once: the loop below backs off
                delay = 1.0
                self.consume(connection)
            except (OperationalError, NotFound, *connection.connection_errors) as exc:
                # The broker went away (or is not up yet), or its exchanges are not declared yet
                # (NotFound: yijianshi applies its topology first): the messages stay in our
                # durable queue; connect again and carry on.
                if self.done:
                    break
                log(f"broker unavailable ({exc!r}); retrying in {delay:.0f}s")
                deadline = time.monotonic() + delay
                while not self.done and time.monotonic() < deadline:
                    time.sleep(0.1)
                delay = min(delay * 2, 30.0)
            finally:
                connection.release()
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--amqp-uri", default=os.environ.get("AMQP_URI", DEFAULT_AMQP_URI))
    parser.add_argument("--queue", required=True, help="this department's own durable queue")
    parser.add_argument("--bind", action="append", type=parse_binding, required=True, metavar="EXCHANGE:ROUTING_KEY",
                        help="e.g. registration.events:enterprise_registered, or case.events:'#' (repeatable)")
    parser.add_argument("--count", type=int, default=None, help="exit after this many valid messages")
    parser.add_argument("--schemas", type=Path, default=None, help="the published schemas directory")
    args = parser.parse_args(argv)
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")

    schemas = Schemas(args.schemas or default_schema_dir())
    consumer = DepartmentConsumer(args.amqp_uri, args.queue, args.bind, schemas, args.count)
    signal.signal(signal.SIGTERM, consumer.stop)
    signal.signal(signal.SIGINT, consumer.stop)
    return consumer.run()


if __name__ == "__main__":
    sys.exit(main())
