"""A department system not written with nameko (examples/department_consumer.py: plain kombu
and the published JSON Schemas) consumes the events of the running system."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from kombu import Connection, Exchange, Producer

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "department_consumer.py"
SCHEMAS = REPO / "contracts" / "yjs_contracts" / "schemas" / "events"


class Example:
    """The example as a subprocess; its stdout read line by line on a thread."""

    def __init__(self, process: subprocess.Popen, stderr_path: Path):
        self.process, self.stderr_path = process, stderr_path
        self.lines: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # end of output

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def next_line(self, timeout: float) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output from the example within {timeout}s; stderr:\n{self.stderr()}") from None
        assert line is not None, f"the example ended (rc={self.process.poll()}); stderr:\n{self.stderr()}"
        return line

    def wait_ready(self, timeout: float = 30.0) -> None:
        assert self.next_line(timeout) == "READY"

    def report(self, timeout: float = 60.0) -> dict:
        return json.loads(self.next_line(timeout))

    def wait_exit(self, timeout: float = 60.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the example still running after {timeout}s; stderr:\n{self.stderr()}") from None

    def remaining_reports(self) -> list[dict]:
        self.thread.join(timeout=10)
        reports = []
        while (line := self.lines.get_nowait()) is not None:
            reports.append(json.loads(line))
        return reports


@contextmanager
def department_consumer(system, tmp_path: Path, *binds: str, count: int | None = None):
    args = [sys.executable, str(EXAMPLE), "--amqp-uri", system.amqp_uri,
            "--queue", f"e2e-department-{uuid.uuid4().hex[:8]}"]
    for bind in binds:
        args += ["--bind", bind]
    if count is not None:
        args += ["--count", str(count)]
    stderr_path = tmp_path / "department_consumer.stderr"
    with open(stderr_path, "w", encoding="utf-8") as stderr:
        process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True, encoding="utf-8")
    example = Example(process, stderr_path)
    try:
        yield example
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()


def submit(system, body) -> str:
    answer = system.client().submit(body)
    assert answer.status_code == 202, answer.text
    return answer.json()["case_id"]


def publish_raw(amqp_uri: str, exchange_name: str, routing_key: str, body: bytes) -> None:
    """Publish bytes as-is, with plain kombu, the way a faulty producer might."""
    exchange = Exchange(exchange_name, type="topic", passive=True)  # the topology's: only checked
    with Connection(amqp_uri) as connection:
        producer = Producer(connection.default_channel)
        producer.publish(body, exchange=exchange, routing_key=routing_key, declare=[exchange],
                         content_type="application/json", content_encoding="utf-8", delivery_mode=2)


def test_the_example_validates_the_events_of_a_case(system, fresh_application, tmp_path):
    with department_consumer(system, tmp_path, "registration.events:enterprise_registered",
                             "case.events:completed", count=2) as example:
        example.wait_ready()
        case_id = submit(system, fresh_application(seals=(), bank_account=False))
        assert example.wait_exit(timeout=60) == 0, example.stderr()
        reports = example.remaining_reports()

    assert len(reports) == 2, reports
    assert all(r["valid"] is True for r in reports), reports
    assert {r["case_id"] for r in reports} == {case_id}
    assert sorted(r["event_type"] for r in reports) == ["case.completed", "registration.enterprise_registered"]
    assert all(uuid.UUID(r["event_id"]) for r in reports)


def test_an_invalid_message_is_reported_and_dropped_and_consuming_goes_on(system, fresh_application, tmp_path):
    # The schema really rejects this status: data.status is a $ref to the StepStatus enum.
    schema = json.loads((SCHEMAS / "registration.enterprise_registered.json").read_text(encoding="utf-8"))
    assert schema["properties"]["data"]["properties"]["status"] == {"$ref": "#/$defs/StepStatus"}
    assert "approved" not in schema["$defs"]["StepStatus"]["enum"]
    malformed = {
        "event_id": str(uuid.uuid4()), "event_type": "registration.enterprise_registered", "schema_version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": "registration",
        "case_id": "not-a-real-case", "correlation_id": str(uuid.uuid4()), "causation_id": None,
        "data": {"step": "registration.establish", "status": "approved", "outputs": {}},
    }

    with department_consumer(system, tmp_path, "registration.events:enterprise_registered", count=1) as example:
        example.wait_ready()
        publish_raw(system.amqp_uri, "registration.events", "enterprise_registered",
                    json.dumps(malformed).encode())
        publish_raw(system.amqp_uri, "registration.events", "enterprise_registered", b"{not json")

        first = example.report(timeout=30)
        assert first["valid"] is False, first
        assert (first["event_type"], first["case_id"], first["event_id"]) == (
            "registration.enterprise_registered", "not-a-real-case", malformed["event_id"])
        assert "status" in first["error"] and "approved" in first["error"], first
        second = example.report(timeout=30)
        assert second["valid"] is False and second["event_type"] is None, second
        assert "not JSON" in second["error"], second
        assert example.process.poll() is None  # still consuming

        case_id = submit(system, fresh_application(seals=(), bank_account=False))
        assert example.wait_exit(timeout=60) == 0, example.stderr()
        reports = example.remaining_reports()

    assert reports == [{"valid": True, "event_type": "registration.enterprise_registered",
                        "case_id": case_id, "event_id": reports[0]["event_id"]}], reports


def test_the_example_stops_cleanly_on_sigterm(system, tmp_path):
    with department_consumer(system, tmp_path, "case.events:#") as example:
        example.wait_ready()
        started = time.monotonic()
        example.process.send_signal(signal.SIGTERM)
        assert example.wait_exit(timeout=10) == 0, example.stderr()
        assert time.monotonic() - started < 5
        assert example.remaining_reports() == []
        assert "Traceback" not in example.stderr()
