"""yjs — the command line of yijianshi.

    yjs up                                   run every service and the gateway on 127.0.0.1:8000
    yjs token --role applicant --subject 张伟 --id-number 330402198506150119
                                             mint a bearer token for a local run
    yjs submit FILE.json [--wait]            submit one application
    yjs case CASE_ID [--json]                a case record, readable
    yjs cases [--status S]                   your cases
    yjs dead-letters list [--json]           operators: what failed for good
    yjs dead-letters replay ID... | --all    operators: put them back on their queues
    yjs report [--matter M] [--from D] [--to D] [--json]
                                             operators: 无感监测 of the cases finished in a period
    yjs topology apply [--amqp-uri URI]      declare every exchange, queue and binding (before services start)
        [--users]                            and every service's own broker user (docs/adr/0012)
    yjs topology department --name N         a department system's read-only broker user
    yjs demo                                 submit the examples and print their records
    yjs screenshots                          a PNG of each main page of the portal (docs/screenshots/)
    yjs bench [-n N] [--json F]              measure the whole system (see docs/benchmarks.md)
    yjs faults [-n N]                        the whole system on a broker cluster of its own, under faults:
                                             nothing lost, nothing doubled (make faults)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

import requests

from yjs_contracts.samples import LEGAL_REPRESENTATIVE_ID
from yjs_kit.config import DEFAULT_AMQP_URI, SERVICES

from .client import ApiClient, default_url, token_for
from .view import case_line, case_view, dead_letters_view, log_line, report_view


def _client(args, role: str = "applicant") -> ApiClient:
    token = os.environ.get("YJS_TOKEN") or (token_for(args.subject, role, id_number=args.id_number or None)
                                            if role == "applicant" else token_for("operator", role))
    return ApiClient(args.url, token)


def _fail(answer: requests.Response) -> int:
    try:
        error = answer.json()["error"]
        print(f"{answer.status_code} {error['code']}: {error['message']}", file=sys.stderr)
        for detail in error.get("details", []):
            print(f"  {detail['field']}: {detail['reason']}", file=sys.stderr)
    except (ValueError, KeyError):
        print(f"{answer.status_code}: {answer.text}", file=sys.stderr)
    return 1


def cmd_token(args) -> int:
    print(token_for(args.subject, args.role, args.department, id_number=args.id_number or None))
    return 0


def cmd_submit(args) -> int:
    body = json.loads(Path(args.file).read_text(encoding="utf-8"))
    client = _client(args)
    answer = client.submit(body, args.idempotency_key)
    if answer.status_code != 202:
        return _fail(answer)
    case_id = answer.json()["case_id"]
    if not args.wait:
        print(case_id)
        return 0
    print(case_view(client.wait_until_final(case_id, timeout=args.timeout)))
    return 0


def cmd_case(args) -> int:
    client = _client(args, "operator" if args.any else "applicant")
    answer = client.request("GET", f"/v1/cases/{args.case_id}")
    if answer.status_code != 200:
        return _fail(answer)
    print(json.dumps(answer.json(), ensure_ascii=False, indent=2) if args.json else case_view(answer.json()))
    return 0


def cmd_cases(args) -> int:
    client = _client(args)
    params = {"status": args.status} if args.status else {}
    answer = client.request("GET", "/v1/cases", params=params)
    if answer.status_code != 200:
        return _fail(answer)
    for item in answer.json()["items"]:
        print(case_line(item))
    return 0


def cmd_dead_letters(args) -> int:
    client = _client(args, "operator")
    answer = client.request("GET", "/v1/dead-letters")
    if answer.status_code != 200:
        return _fail(answer)
    items = answer.json()["items"]
    if args.action == "list":
        print(json.dumps(items, ensure_ascii=False, indent=2) if args.json else dead_letters_view(items))
        return 0
    ids = [d["dead_letter_id"] for d in items] if args.all else args.ids
    if not ids:
        print("没有要重放的死信（请给出编号，或用 --all）")
        return 0 if args.all else 2
    failed = 0
    for dead_letter_id in ids:
        replay = client.request("POST", f"/v1/dead-letters/{dead_letter_id}/replay")
        if replay.status_code == 202:
            print(f"已重放 {dead_letter_id}")
        else:
            failed = _fail(replay)
    return failed


def cmd_report(args) -> int:
    client = _client(args, "operator")
    params = {name: value for name, value in (("matter", args.matter), ("from", args.start), ("to", args.end)) if value}
    answer = client.request("GET", "/v1/reports/matters", params=params)
    if answer.status_code != 200:
        return _fail(answer)
    print(json.dumps(answer.json(), ensure_ascii=False, indent=2) if args.json else report_view(answer.json()))
    return 0


def cmd_up(args) -> int:
    from yjs_kit.broker_users import MissingPassword
    from yjs_kit.topology import TopologyConflict

    from .system import System, SystemConfig, local_env

    config = SystemConfig(gateway_address=args.address, env=local_env())
    system = System(config, on_line=lambda service, line: print(log_line(service, line), flush=True))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        system.start()
        system.wait_ready()
        print(f"\nyijianshi is up: {config.base_url}  (services: {', '.join(config.services)}; Ctrl-C stops)\n"
              f"  token:  yjs token --role applicant --subject 张伟 --id-number 330402198506150119\n  submit: yjs submit examples/establishment.json --wait\n",
              flush=True)
        while all(p.popen.poll() is None for p in system.processes):
            time.sleep(0.5)
        dead = [p.service for p in system.processes if p.popen.poll() is not None]
        print(f"stopping: {', '.join(dead)} exited", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except TopologyConflict as conflict:
        print(f"the broker's topology could not be applied: {conflict}", file=sys.stderr)
        return 1
    except (MissingPassword, RuntimeError) as error:  # rabbitmqctl refused, or no password in production
        print(f"the services' broker users could not be applied: {error}", file=sys.stderr)
        return 1
    finally:
        system.stop()


def cmd_topology(args) -> int:
    from amqp.exceptions import AMQPError
    from kombu.exceptions import OperationalError
    from yjs_kit.config import SERVICES, retry_delays_ms
    from yjs_kit.topology import TopologyConflict, apply, installed_topology, unrouted_name

    topology = installed_topology(SERVICES, retry_delays_ms())
    broker = args.amqp_uri.rsplit("@", 1)[-1]
    if args.action == "department":
        return _apply_department(args, broker)
    try:
        depths = apply(args.amqp_uri, topology, wait_seconds=args.wait)
    except TopologyConflict as conflict:
        print(f"topology not applied to {broker}: {conflict}", file=sys.stderr)
        return 1
    except (OSError, OperationalError, AMQPError) as error:
        print(f"cannot reach the broker at {broker}: {error}", file=sys.stderr)
        return 1
    if args.users:
        from yjs_kit.broker_users import MissingPassword, apply_users, broker_for, service_users, vhost_of

        try:
            changed = apply_users(service_users(args.service or SERVICES, topology), vhost_of(args.amqp_uri),
                                  broker_for(args.management_url))
        except (MissingPassword, RuntimeError, OSError, requests.RequestException) as error:
            print(f"broker users not applied to {broker}: {error}", file=sys.stderr)
            return 1
        print(f"broker users on {broker}: {', '.join(changed) if changed else 'as declared already, nothing changed'}")
    print(f"topology applied to {broker}: the exchanges of {', '.join(topology.producers)}; "
          f"the inboxes {', '.join(sorted(topology.inboxes))}, each with retry queues "
          f"{', '.join(f'{d}ms' for d in topology.delays_ms)} and a parked queue")
    if topology.unconsumed():
        print(f"consumed by no service (kept on their producer's unrouted queue until a queue is bound to them): "
              f"{', '.join(topology.unconsumed())}")
    for producer in topology.producers:
        if depths.get(unrouted_name(producer)):
            print(f"{unrouted_name(producer)} holds {depths[unrouted_name(producer)]} events no queue took")
    return 0


def _apply_department(args, broker: str) -> int:
    """A department system's read-only user: it binds and reads queues `<name>.*`, publishes nowhere."""
    from yjs_kit.broker_users import (BrokerUser, MissingPassword, apply_users, broker_for, broker_password,
                                      department_permissions, vhost_of)
    from yjs_kit.topology import producers

    if not args.name:
        print("yjs topology department needs --name", file=sys.stderr)
        return 2
    chosen = args.producer or producers()
    try:
        user = BrokerUser(args.name, broker_password(args.name), department_permissions(args.name, chosen))
        changed = apply_users([user], vhost_of(args.amqp_uri), broker_for(args.management_url))
    except (MissingPassword, RuntimeError, OSError, requests.RequestException) as error:
        print(f"department user not applied to {broker}: {error}", file=sys.stderr)
        return 1
    print(f"department user {args.name} on {broker}: reads its queues {args.name}.* bound to "
          f"{', '.join(f'{p}.events' for p in chosen)}; {', '.join(changed) or 'nothing changed'}")
    return 0


def cmd_screenshots(args) -> int:
    from .screenshots import run_screenshots

    return run_screenshots(args)


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(args)


def cmd_bench(args) -> int:
    from .bench import run_bench

    return run_bench(args)


def cmd_faults(args) -> int:
    from .faults import run_faults

    return run_faults(args.cases, args.concurrency, args.keep)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="yjs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--url", default=default_url(), help="the gateway (env YJS_URL)")
    top.add_argument("--subject", default=os.environ.get("YJS_SUBJECT", "张伟"), help="the applicant you act as")
    # the examples' legal representative (张伟), so a local run may act for the enterprises it establishes
    top.add_argument("--id-number", default=os.environ.get("YJS_ID_NUMBER", LEGAL_REPRESENTATIVE_ID),
                     help="the applicant's verified 居民身份证号码 (env YJS_ID_NUMBER; empty: none)")
    commands = top.add_subparsers(dest="command", required=True)
    acting = argparse.ArgumentParser(add_help=False)  # --subject after the command too
    acting.add_argument("--subject", default=argparse.SUPPRESS, help="the applicant you act as")
    acting.add_argument("--id-number", default=argparse.SUPPRESS, help="the applicant's verified ID number")

    token = commands.add_parser("token", parents=[acting], help="mint a bearer token")
    token.add_argument("--role", choices=["applicant", "department", "operator"], default="applicant")
    token.add_argument("--department")
    token.set_defaults(run=cmd_token)

    submit = commands.add_parser("submit", parents=[acting], help="submit an application")
    submit.add_argument("file")
    submit.add_argument("--idempotency-key")
    submit.add_argument("--wait", action="store_true", help="wait for the outcome and print the record")
    submit.add_argument("--timeout", type=float, default=60)
    submit.set_defaults(run=cmd_submit)

    case = commands.add_parser("case", parents=[acting], help="show a case record")
    case.add_argument("case_id")
    case.add_argument("--json", action="store_true")
    case.add_argument("--any", action="store_true", help="as an operator: any applicant's case")
    case.set_defaults(run=cmd_case)

    cases = commands.add_parser("cases", parents=[acting], help="list your cases")
    cases.add_argument("--status")
    cases.set_defaults(run=cmd_cases)

    dead = commands.add_parser("dead-letters", help="list or replay dead letters (operators)")
    dead.add_argument("action", choices=["list", "replay"])
    dead.add_argument("ids", nargs="*")
    dead.add_argument("--all", action="store_true")
    dead.add_argument("--json", action="store_true")
    dead.set_defaults(run=cmd_dead_letters)

    report = commands.add_parser("report", help="无感监测: how long the cases finished in a period took (operators)")
    report.add_argument("--matter", help="establishment, licensing, deregistration or change; all by default")
    report.add_argument("--from", dest="start", help="the first day, YYYY-MM-DD (Beijing); --to by default")
    report.add_argument("--to", dest="end", help="the last day, YYYY-MM-DD (Beijing); today by default")
    report.add_argument("--json", action="store_true")
    report.set_defaults(run=cmd_report)

    up = commands.add_parser("up", help="run the whole system locally")
    up.add_argument("--address", default="127.0.0.1:8000")
    up.set_defaults(run=cmd_up)

    topology = commands.add_parser("topology", help="the broker's exchanges, queues and bindings, as code")
    topology.add_argument("action", choices=["apply", "department"],
                          help="apply: every exchange and queue (and with --users every service's broker user);"
                               " department: a department system's read-only user")
    topology.add_argument("--users", action="store_true",
                          help="also each service's own broker user and permissions (passwords: env AMQP_PASSWORD_<SERVICE>)")
    topology.add_argument("--management-url", default=os.environ.get("RABBITMQ_MANAGEMENT_URL"),
                          help="users through the management API, http://admin:password@host:15672"
                               " (env RABBITMQ_MANAGEMENT_URL); else through rabbitmqctl on this machine")
    topology.add_argument("--service", action="append", choices=SERVICES,
                          help="--users: only this service's user (repeatable; default every service)")
    topology.add_argument("--name", help="department: its user, and the prefix of its queues")
    topology.add_argument("--producer", action="append",
                          help="department: a producer whose events it may bind to (repeatable; default all)")
    topology.add_argument("--amqp-uri", default=os.environ.get("AMQP_URI", DEFAULT_AMQP_URI),
                          help="the broker (env AMQP_URI)")
    topology.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                          help="wait this long for the broker to be reachable")
    topology.set_defaults(run=cmd_topology)

    demo = commands.add_parser("demo", help="submit the examples and print their records")
    demo.add_argument("--examples", default="examples")
    demo.set_defaults(run=cmd_demo)

    shots = commands.add_parser("screenshots", help="a PNG of each main page of the portal")
    shots.add_argument("--output", default="docs/screenshots")
    shots.add_argument("--example", default="examples/establishment.json")
    shots.set_defaults(run=cmd_screenshots)

    bench = commands.add_parser("bench", help="benchmark the whole system")
    bench.add_argument("-n", "--cases", type=int, default=1000)
    bench.add_argument("--concurrency", type=int, default=50)
    bench.add_argument("--rate", type=float, default=None, help="open loop: cases per second instead of concurrency")
    bench.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    bench.add_argument("--output", help="also write the report (markdown) here")
    bench.add_argument("--json", help="also write the headline numbers (JSON) here")
    bench.set_defaults(run=cmd_bench)

    faults = commands.add_parser("faults", help="the fault suite: brokers, PostgreSQL and services killed under load")
    faults.add_argument("-n", "--cases", type=int, default=300)
    faults.add_argument("--concurrency", type=int, default=6)
    faults.add_argument("--keep", action="store_true", help="keep the services' logs (kept anyway on failure)")
    faults.set_defaults(run=cmd_faults)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except requests.ConnectionError:
        print(f"cannot reach the gateway at {args.url}: is the system up? (make up)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
