"""`yjs-serve SERVICE`: wait for the broker and the database, migrate, run the service.

The same command starts a service in `yjs up`, in the containers and in the end-to-end tests."""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()  # noqa: E402 - before anything opens a socket

import errno  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import structlog  # noqa: E402

from yjs_contracts.calendar import ScheduleError  # noqa: E402

from . import holidays  # noqa: E402
from . import logging as kit_logging  # noqa: E402
from .auth import check_keys  # noqa: E402
from .broker_users import own_user_problem  # noqa: E402
from .brokers import broker_urls, configure_nameko, connect  # noqa: E402
from .config import SERVICES, service_config  # noqa: E402

log = structlog.get_logger("yjs.serve")

#: a collection of the youngest objects after 20,000 new ones, not CPython's 700: most of what a
#: batch makes (rows, models, frames, messages) is freed by its reference count long before, so
#: far less is looked at; the cycles it leaves wait a little longer
GC_THRESHOLDS = (20_000, 20, 20)


def wait_for(what: str, check, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            check()
            return
        except Exception as error:  # noqa: BLE001 - anything unreachable: try again until the deadline
            if time.monotonic() > deadline:
                raise SystemExit(f"{what} unreachable after {seconds:.0f}s: {error}")
            log.info("waiting", what=what, error=str(error))
            time.sleep(1)


def service_class(service: str):
    return importlib.import_module(f"yjs_{service}.service").SERVICE


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1 or args[0] not in SERVICES:
        print(f"usage: yjs-serve {{{','.join(SERVICES)}}}", file=sys.stderr)
        return 2
    service = args[0]
    kit_logging.configure(service, os.environ.get("LOG_LEVEL", "INFO"))
    config = service_config(service)
    check_keys(config)  # before anything else: a production process without a strong key never runs
    problem = own_user_problem(config, service)
    if problem:
        raise SystemExit(f"yjs-serve {service}: {problem}")
    try:
        holidays.configure(service)  # a schedule that cannot be trusted stops the start, naming its line
    except ScheduleError as error:
        raise SystemExit(f"{holidays.HOLIDAYS_FILE}: {error}") from None
    configure_nameko(config["AMQP_URI"])
    wait_for("broker", lambda: connect(config["AMQP_URI"], connect_timeout=3).close())
    package_dir = os.path.dirname(importlib.import_module(f"yjs_{service}").__file__)
    if os.path.isdir(os.path.join(package_dir, "migrations")):
        from .db import make_engine, ping
        from .migrations import upgrade

        def database_ready():
            engine = make_engine(config["DATABASE_URL"])
            try:
                ping(engine)
            finally:
                engine.dispose()

        wait_for("database", database_ready)
        upgrade(service, config["DATABASE_URL"])
    log.info("starting", amqp=[url.rsplit("@", 1)[-1] for url in broker_urls(config["AMQP_URI"])])
    run(service_class(service), config)
    return 0


def settle_garbage_collection() -> None:
    """Once the service has started: what starting made (modules, contract schemas, tables,
    connections) lives as long as the process, so it is frozen out of every later collection;
    then collections come less often (GC_THRESHOLDS). With CPython's defaults the collector took
    6–9% of a service's CPU under load (docs/benchmarks.md, runs AA)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run(service_cls, config: dict) -> None:
    """nameko's `run`, except that the service stops once. Ctrl-C on `yjs up` reaches every
    service, and `yjs up` then sends each a SIGTERM; an orchestrator may repeat its signal. With
    nameko's, a second signal starts a second stop beside the first, which stops every extension
    twice (a timer's then fails on the event it already sent). Here the first SIGINT or SIGTERM
    stops the service, gracefully; a later one is told and changes nothing (SIGKILL is what
    ends a stop that takes too long)."""
    from nameko.runners import ServiceRunner

    runner = ServiceRunner(config)
    runner.add_service(service_cls)
    first: list[int] = []

    def shutdown(signum, frame):
        # run by the main loop between two steps of whatever it was doing: nothing that could
        # wait (a lock, the log) is done here, only handed to a green thread
        name = signal.Signals(signum).name
        if first:
            eventlet.spawn_n(log.info, "already stopping", signal=name)
            return
        first.append(signum)
        eventlet.spawn_n(log.info, "stopping", signal=name)
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    settle_garbage_collection()
    # as nameko's: a signal arriving while the main green thread waits on a socket interrupts
    # the wait (EINTR), so the runner is waited for in a green thread of its own
    waiting = eventlet.spawn(runner.wait)
    while True:
        try:
            waiting.wait()
            return
        except OSError as error:
            if error.errno != errno.EINTR:
                raise


if __name__ == "__main__":
    sys.exit(main())
