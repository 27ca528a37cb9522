"""`yjs demo`: submit every application in examples/ and print their records. Uses the running
system, or starts one for the demo when none answers."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import requests
from yjs_contracts import samples

from .client import ApiClient, token_for
from .view import case_view


def fresh_name(body: dict, n: int) -> dict:
    """A name not yet taken, so the demo can run again on the same register."""
    enterprise = body.get("application", {}).get("enterprise")
    if enterprise:
        parts = enterprise["name_parts"]
        parts["trade_name"] = samples.unique_trade_name(n)[-2:] + parts["trade_name"][:2]
        enterprise["name"] = parts["region"] + parts["trade_name"] + parts["industry"] + parts["form"]
    return body


def _running(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=3).status_code == 200
    except requests.RequestException:
        return False


def run_demo(args) -> int:
    examples = sorted(p for p in Path(args.examples).glob("*.json"))
    if not examples:
        print(f"no examples in {args.examples}", file=sys.stderr)
        return 1
    system = None
    if not _running(args.url):
        from .system import System, SystemConfig

        print("no system answers at", args.url, "- starting one for the demo (logs in var/logs/)")
        system = System(SystemConfig(gateway_address=args.url.split("//", 1)[-1], log_dir=Path("var/logs"))).start()
        system.wait_ready()
    try:
        client = ApiClient(args.url, token_for(args.subject))
        run = random.randrange(len(samples._CHARS) ** 3)
        for n, path in enumerate(examples):
            body = fresh_name(json.loads(path.read_text(encoding="utf-8")), run * len(examples) + n)
            answer = client.submit(body)
            print(f"\n=== {path.name}: {answer.status_code}")
            if answer.status_code != 202:
                print(answer.text)
                continue
            print(case_view(client.wait_until_final(answer.json()["case_id"])))
        return 0
    finally:
        if system is not None:
            system.stop()
