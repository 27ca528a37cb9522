"""The local system's choice of ports and what a failed start says."""

from __future__ import annotations

import socket
import sys

import pytest
from yjs_cli.system import (Process, System, SystemConfig, _port_free, ephemeral_ports, free_port_offset,
                            listening_ports, port_offsets)
from yjs_kit.config import METRICS_PORTS

SERVICES = list(METRICS_PORTS)


def test_ports_a_system_listens_on_stay_out_of_the_range_outgoing_connections_take():
    # a connection to the broker or the database gets a port from this range; a listener that
    # chose one could find it taken when the service binds, and the service would not start
    ephemeral = ephemeral_ports()
    with socket.create_connection(("127.0.0.1", 5672)) as outgoing:
        assert outgoing.getsockname()[1] in ephemeral  # the range is the one this machine uses
    for _ in range(50):
        offset = free_port_offset(SERVICES, {"tax": 2})
        assert not [port for port in listening_ports(offset, SERVICES) if port in ephemeral], offset


def test_a_chosen_offset_skips_ports_another_process_listens_on():
    # every offset but one has its registration metrics port taken: that one must be chosen
    offsets = port_offsets(SERVICES)
    spared = next(o for o in offsets[len(offsets) // 2:] if all(_port_free(p) for p in listening_ports(o, SERVICES)))
    offsets.remove(spared)
    taken = []
    try:
        for offset in offsets:
            listener = socket.socket()
            taken.append(listener)
            try:
                listener.bind(("127.0.0.1", METRICS_PORTS["registration"] + offset))
            except OSError:  # another system on this machine listens there: taken all the same
                continue
            listener.listen()
        assert free_port_offset(SERVICES) == spared
    finally:
        for listener in taken:
            listener.close()


def test_a_service_that_exits_while_starting_is_reported_with_the_end_of_its_log(tmp_path):
    system = System(SystemConfig(services=["registration"], log_dir=tmp_path))
    (tmp_path / "registration-0.log").write_text("starting\nOSError: [Errno 98] Address already in use\n")
    import subprocess

    failed = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    failed.wait()
    system.processes.append(Process("registration", 0, failed))
    with pytest.raises(RuntimeError, match=r"registration exited with 1 while starting; its log ends:\n"
                                           r"starting\nOSError: \[Errno 98\] Address already in use"):
        system.wait_ready(timeout=5)
