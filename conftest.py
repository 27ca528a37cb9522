"""Every test runs under eventlet, as the services do."""

import eventlet

eventlet.monkey_patch()

from yjs_kit.amqp_reads import read_frames_buffered  # noqa: E402

read_frames_buffered()  # AMQP frames read as the services read them (yjs-serve's configure_nameko)

import subprocess  # noqa: E402

import pytest  # noqa: E402

# `--shard K/N`: one share of the test files (`make test` runs two side by side)
pytest_plugins = ["yjs_cli.shards"]


@pytest.fixture(scope="session", autouse=True)
def quorum_queues_counted_promptly():
    """`rabbitmqctl list_queues` (what `queue_depths` reads) reports a quorum queue's messages as of
    the queue's last tick, every 5 s by default: a count read right after a publish or an ack
    would be stale. The test broker ticks every 100 ms for queues declared from now on."""
    subprocess.run(["rabbitmqctl", "eval", "application:set_env(rabbit, quorum_tick_interval, 100)."],
                   capture_output=True, check=True)
    yield
