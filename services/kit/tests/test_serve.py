"""`yjs-serve` as a process: a service stops once, however many signals ask it to."""

import os
import signal
import subprocess
import sys
import time

import pytest
from yjs_kit.testing import queue_depths, wait_for


@pytest.mark.timeout(180)
def test_a_second_signal_while_the_service_stops_changes_nothing(broker_uri, tmp_path):
    # the case service: its timers are among the extensions a second stop would stop again
    env = {**os.environ, "AMQP_URI": broker_uri, "DATABASE_URL": f"sqlite:///{tmp_path / 'case.sqlite3'}",
           "METRICS_PORT": "0", "LOG_LEVEL": "INFO", "LOG_FORMAT": "console", "YJS_BROKER_USERS": "off"}
    log = tmp_path / "case.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "yjs_kit.serve", "case"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    def log_tail() -> str:
        return log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def running():  # consuming: its inbox is declared and taken, and its RPC queue too
        assert process.poll() is None, f"the case service ended ({process.returncode}) before it ran:\n{log_tail()}"
        return "rpc-case" in queue_depths(broker_uri) and b"starting" in log.read_bytes()

    try:
        try:
            wait_for(running, timeout=90, what="the case service running")
        except AssertionError as failed:  # what the service said tells why
            raise AssertionError(f"{failed}\n{log_tail()}") from None
        time.sleep(1)
        process.send_signal(signal.SIGINT)  # Ctrl-C on `yjs up`
        time.sleep(0.05)
        process.send_signal(signal.SIGTERM)  # then `yjs up` stopping it
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    said = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in said and "AssertionError" not in said, log_tail()
    assert "already stopping" in said


def test_what_starting_made_is_frozen_out_of_collections_which_then_come_less_often():
    import gc

    from yjs_kit.serve import GC_THRESHOLDS, settle_garbage_collection

    before = gc.get_threshold()
    assert before != GC_THRESHOLDS
    try:
        settle_garbage_collection()
        assert gc.get_threshold() == GC_THRESHOLDS and GC_THRESHOLDS[0] > before[0]
        assert gc.get_freeze_count() > 0  # the objects alive now are no later collection's work
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
