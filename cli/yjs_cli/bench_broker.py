"""The benchmark's own use of the broker: a queue that hears every case finish, and the raw
ceiling of this broker on this machine — plain kombu/py-amqp publishing persistent messages
with publisher confirms and consuming them with acks, nothing else.

The ceiling's publisher and consumer are separate processes (`python -m yjs_cli.bench_broker
publish|consume ...`), as the services are: no shared interpreter lock, no eventlet."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

import amqp
from kombu import Connection, Exchange, Queue, binding
from yjs_kit.topology import event_exchange

CEILING_EXCHANGE = "bench.ceiling"
CEILING_ROUTING_KEY = "ceiling"


class CompletionWatcher:
    """One exclusive queue bound to `case.events` `completed` and `rejected`, declared before the
    first submission; records the local time each case's final event arrives."""

    def __init__(self, amqp_uri: str):
        self.connection = Connection(amqp_uri, heartbeat=0)
        self.connection.connect()
        self.channel = self.connection.channel()
        # declared as the topology declares it, so binding works before the case service's first event
        exchange = event_exchange("case")
        exchange.bind(self.channel).declare()
        self.queue = Queue(f"bench.finished.{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True,
                           bindings=[binding(exchange, routing_key=key) for key in ("completed", "rejected")])
        self.queue.bind(self.channel).declare()
        self.finished: dict[str, tuple[float, str]] = {}  # case_id -> (monotonic time, status)
        self.changed = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._run, name="bench-watcher", daemon=True)

    def start(self) -> "CompletionWatcher":
        self.channel.basic_consume(self.queue.name, callback=self._on_message, no_ack=True)
        self._thread.start()
        return self

    def _on_message(self, message) -> None:
        now = time.monotonic()
        try:
            envelope = json.loads(message.body)
            case_id = envelope["case_id"]
            status = envelope.get("event_type", "case.?").split(".", 1)[1]
        except (ValueError, KeyError, TypeError):
            return
        with self.changed:
            self.finished.setdefault(case_id, (now, status))
            self.changed.notify_all()

    def _run(self) -> None:
        while self._running:
            try:
                self.connection.drain_events(timeout=0.5)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - closed under us at stop
                if self._running:
                    raise
                return

    def wait(self, case_ids: set[str], idle_timeout: float, is_submitting) -> bool:
        """Until every case in `case_ids` (which may still grow while `is_submitting()`) has
        finished; gives up when nothing finished for `idle_timeout` seconds."""
        last_count, last_progress = -1, time.monotonic()
        with self.changed:
            while True:
                done = sum(1 for case_id in case_ids if case_id in self.finished)
                if done == len(case_ids) and not is_submitting():
                    return True
                if len(self.finished) != last_count:
                    last_count, last_progress = len(self.finished), time.monotonic()
                elif time.monotonic() - last_progress > idle_timeout and not is_submitting():
                    return False
                self.changed.wait(0.5)

    def stop(self) -> None:
        self._running = False
        self._thread.join(timeout=5)
        try:
            self.connection.release()
        except Exception:  # noqa: BLE001
            pass


# --- the ceiling ------------------------------------------------------------------------------

@dataclass
class CeilingRun:
    mode: str
    messages: int
    body_bytes: int
    batch: int
    queue_type: str = "classic"
    publish_seconds: float = 0.0
    total_seconds: float = 0.0  # first publish to last ack
    received: int = 0
    publisher_cpu: float = 0.0
    consumer_cpu: float = 0.0
    broker_cpu: float = 0.0
    error: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def publish_rate(self) -> float:
        return self.messages / self.publish_seconds if self.publish_seconds else 0.0

    @property
    def consume_rate(self) -> float:
        return self.received / self.total_seconds if self.total_seconds else 0.0

    @property
    def operations_rate(self) -> float:
        """publishes + deliveries per second, first publish to last ack."""
        return (self.messages + self.received) / self.total_seconds if self.total_seconds else 0.0


def _publish(uri: str, count: int, size: int, batch: int) -> dict:
    body = json.dumps({"pad": "x" * max(size - 11, 0)})  # a JSON body of `size` bytes
    connection = Connection(uri, heartbeat=0)
    connection.connect()
    channel = connection.channel()
    channel.confirm_select()
    unconfirmed: set[int] = set()
    nacked: list[int] = []

    def settle(tag, multiple, refused=False):
        tags = [t for t in unconfirmed if t <= tag] if multiple else [tag]
        for t in tags:
            unconfirmed.discard(t)
            if refused:
                nacked.append(t)

    channel.events["basic_ack"].add(lambda tag, multiple: settle(tag, multiple))
    channel.events["basic_nack"].add(lambda tag, multiple: settle(tag, multiple, True))
    started = time.monotonic()
    cpu_started = time.process_time()
    tag = 0
    for first in range(0, count, batch):
        for _ in range(min(batch, count - first)):
            tag += 1
            unconfirmed.add(tag)
            channel.basic_publish(amqp.Message(body, content_type="application/json", content_encoding="utf-8",
                                               delivery_mode=2, message_id=str(uuid.uuid4())),
                                  exchange=CEILING_EXCHANGE, routing_key=CEILING_ROUTING_KEY)
        while unconfirmed:
            connection.drain_events(timeout=30)
    finished = time.monotonic()
    result = {"started": started, "finished": finished, "cpu": time.process_time() - cpu_started,
              "nacked": len(nacked)}
    connection.release()
    return result


def _consume(uri: str, queue: str, count: int, prefetch: int) -> dict:
    connection = Connection(uri, heartbeat=0)
    connection.connect()
    channel = connection.channel()
    channel.basic_qos(0, prefetch, False)
    state = {"received": 0, "first": None, "last": None}

    def on_message(message):
        channel.basic_ack(message.delivery_tag)
        now = time.monotonic()
        state["first"] = state["first"] or now
        state["last"] = now
        state["received"] += 1

    channel.basic_consume(queue, callback=on_message, no_ack=False)
    print("ready", flush=True)
    cpu_started = time.process_time()
    idle_since = time.monotonic()
    while state["received"] < count:
        try:
            connection.drain_events(timeout=1)
            idle_since = time.monotonic()
        except TimeoutError:
            if time.monotonic() - idle_since > 60:
                break
    state["cpu"] = time.process_time() - cpu_started
    connection.release()
    return state


def measure_ceiling(uri: str, messages: int, body_bytes: int, batch: int, prefetch: int = 100,
                    broker_pids: list[int] | None = None, queue_type: str = "classic") -> CeilingRun:
    """Publish `messages` persistent, confirmed messages of `body_bytes` through a durable topic
    exchange to a durable queue of `queue_type` (classic, or quorum as every queue of the system)
    while a consumer (prefetch, one ack per message) drains it."""
    from .bench_measure import cpu_seconds

    mode = "confirm each message" if batch == 1 else f"confirms per batch of {batch}"
    run = CeilingRun(mode=mode, messages=messages, body_bytes=body_bytes, batch=batch, queue_type=queue_type)
    queue_name = f"bench.ceiling.{uuid.uuid4().hex[:8]}"
    with Connection(uri) as connection:
        channel = connection.channel()
        exchange = Exchange(CEILING_EXCHANGE, type="topic", durable=True, auto_delete=False)
        queue = Queue(queue_name, exchange=exchange, routing_key=CEILING_ROUTING_KEY, durable=True, auto_delete=False,
                      queue_arguments={"x-queue-type": queue_type})
        queue.bind(channel).declare()
    broker_before = sum(cpu_seconds(pid) or 0.0 for pid in broker_pids or [])
    command = [sys.executable, "-m", "yjs_cli.bench_broker"]
    consumer = subprocess.Popen([*command, "consume", uri, queue_name, str(messages), str(prefetch)],
                                stdout=subprocess.PIPE, text=True)
    try:
        if consumer.stdout.readline().strip() != "ready":
            raise RuntimeError("the ceiling's consumer did not start")
        published = subprocess.run([*command, "publish", uri, str(messages), str(body_bytes), str(batch)],
                                   capture_output=True, text=True, timeout=600)
        if published.returncode != 0:
            raise RuntimeError(f"the ceiling's publisher failed: {published.stderr.strip()[-500:]}")
        out, _ = consumer.communicate(timeout=600)
        pub = json.loads(published.stdout.strip().splitlines()[-1])
        con = json.loads(out.strip().splitlines()[-1])
        run.publish_seconds = pub["finished"] - pub["started"]
        run.received = con["received"]
        run.total_seconds = (con["last"] or pub["finished"]) - pub["started"]
        run.publisher_cpu, run.consumer_cpu = pub["cpu"], con["cpu"]
        if pub["nacked"]:
            run.error = f"{pub['nacked']} messages refused"
        if run.received != messages:
            run.error = f"only {run.received} of {messages} messages came back"
    except Exception as error:  # noqa: BLE001 - the report says what went wrong
        run.error = str(error)
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait()
        run.broker_cpu = sum(cpu_seconds(pid) or 0.0 for pid in broker_pids or []) - broker_before
        try:
            with Connection(uri) as connection:
                Queue(queue_name).bind(connection.channel()).delete()
        except Exception:  # noqa: BLE001 - the vhost is dropped anyway
            pass
    return run


def main(argv: list[str]) -> int:
    if argv[:1] == ["publish"]:
        uri, count, size, batch = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
        print(json.dumps(_publish(uri, count, size, batch)))
        return 0
    if argv[:1] == ["consume"]:
        uri, queue, count, prefetch = argv[1], argv[2], int(argv[3]), int(argv[4])
        print(json.dumps(_consume(uri, queue, count, prefetch)))
        return 0
    print("usage: python -m yjs_cli.bench_broker publish URI COUNT SIZE BATCH | consume URI QUEUE COUNT PREFETCH",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
