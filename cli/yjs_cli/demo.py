"""`yjs demo`: submit every application in examples/ and print their records — the
establishments first, then the change (变更登记) of the first enterprise established, then the
deregistration of the enterprise established last. Uses the
running system, or starts one for the demo when none answers.

While a case runs, the demo acts through the API as the people in the loop, printing what it
does: as a department's staff it approves what waits for review — or, when `<example>.demo.json`
lists `corrections`, first asks for them (补正, one notice) — and as the applicant it answers
with that file's `supplements`."""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import requests
from yjs_contracts import samples
from yjs_contracts.steps import STEP_KINDS
from yjs_contracts.words import DEPARTMENT_TITLES

from .client import FINAL, ApiClient, token_for
from .view import case_view


#: a staff decision as the demo tells it
DECISIONS = {"approve": "审核通过", "refuse": "不予通过", "request_corrections": "一次性告知补正"}


def fresh_name(body: dict, n: int) -> dict:
    """A name not yet taken, so the demo can run again on the same register."""
    application = body.get("application", {})
    named = application.get("enterprise") or (application.get("changes") or {}).get("name")
    if named:
        parts = named["name_parts"]
        parts["trade_name"] = samples.unique_trade_name(n)[-2:] + parts["trade_name"][:2]
        named["name"] = parts["region"] + parts["trade_name"] + parts["industry"] + parts["form"]
    return body


#: the order of the demo: what is changed or closed must first be opened
ORDER = {"change": 1, "deregistration": 2}


def about(body: dict, established: list[str]) -> dict:
    """A change is of the enterprise the demo established first (its new legal representative
    then acts for it); a deregistration closes the one established last."""
    if body.get("matter") in ORDER and established:
        body["application"]["uscc"] = established[0 if body["matter"] == "change" else -1]
    return body


def script_for(path: Path) -> dict:
    """What the demo does as staff and applicant for this example: `<example>.demo.json` beside it."""
    script = path.with_name(path.stem + ".demo.json")
    return json.loads(script.read_text(encoding="utf-8")) if script.exists() else {}


def see_through(client: ApiClient, url: str, case_id: str, script: dict, timeout: float = 180) -> dict:
    """Wait for the case to end, deciding its reviews as the department's staff and answering a
    notice of corrections as the applicant; returns the final record."""
    corrections, supplements = script.get("corrections"), script.get("supplements")
    deadline = time.monotonic() + timeout
    while True:
        record = client.case(case_id)
        if record["status"] in FINAL:
            return record
        for step in record["steps"]:
            if step["status"] == "awaiting_review":
                department = step["department"]
                who = DEPARTMENT_TITLES.get(department, department)
                staff = ApiClient(url, token_for(f"{who}演示审核员", "department", department))
                path = f"/v1/departments/{department}/reviews"
                for review in staff.request("GET", path, params={"case_id": case_id}).json().get("items", []):
                    if corrections:
                        decision, corrections = {"decision": "request_corrections", "reasons": corrections}, None
                    else:
                        decision = {"decision": "approve", "comment": "演示：审核通过"}
                    answer = staff.request("POST", f"{path}/{review['review_id']}/decision", json=decision)
                    why = "；".join(r["message"] for r in review["reasons"])
                    said = "；".join(r["message"] for r in decision.get("reasons", []))
                    print(f"  【{who}工作人员】{STEP_KINDS[review['step']].title}待人工审核（{why}）："
                          f"{DECISIONS[decision['decision']]}{'——' + said if said else ''} → {answer.status_code}")
        if record["status"] == "awaiting_applicant" and supplements:
            answer = client.request("POST", f"/v1/cases/{case_id}/supplements", json=supplements)
            given = ", ".join(i.get("field") or i.get("material") for i in supplements["items"])
            print(f"  【申请人】补正，一次答复一次性告知的全部事项：{given} → {answer.status_code}")
            supplements = None
        if time.monotonic() > deadline:
            raise TimeoutError(f"case {case_id} still {record['status']} after {timeout:.0f}s")
        time.sleep(0.3)


def _running(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=3).status_code == 200
    except requests.RequestException:
        return False


def system_for(url: str):
    """None when a system answers at `url`; otherwise one started there (stop it when done)."""
    if _running(url):
        return None
    from .system import System, SystemConfig, local_env

    print(f"{url} 没有系统应答，为演示启动一套（日志在 var/logs/）")
    system = System(SystemConfig(gateway_address=url.split("//", 1)[-1], log_dir=Path("var/logs"),
                                 env=local_env())).start()
    system.wait_ready()
    return system


def run_demo(args) -> int:
    examples = sorted((p for p in Path(args.examples).glob("*.json") if not p.name.endswith(".demo.json")),
                      key=lambda p: (ORDER.get(p.stem.split("-")[0], 0), p.name))
    if not examples:
        print(f"{args.examples} 中没有示例", file=sys.stderr)
        return 1
    system = system_for(args.url)
    try:
        # as the examples' legal representative: the deregistration acts for the enterprise just established
        client = ApiClient(args.url, token_for(args.subject, id_number=args.id_number or None))
        run = random.randrange(len(samples._CHARS) ** 3)
        established: list[str] = []
        for n, path in enumerate(examples):
            body = fresh_name(json.loads(path.read_text(encoding="utf-8")), run * len(examples) + n)
            answer = client.submit(about(body, established))
            print(f"\n=== {path.name}: {answer.status_code}")
            if answer.status_code != 202:
                print(answer.text)
                continue
            if body["matter"] == "deregistration":
                print("（注销公告先走完公告期：本地运行时为 NOTICE_PERIOD_SECONDS 秒）")
            record = see_through(client, args.url, answer.json()["case_id"], script_for(path))
            print(case_view(record))
            if body["matter"] == "establishment" and record["status"] == "completed":
                established.append(record["outputs"]["uscc"])
        return 0
    finally:
        if system is not None:
            system.stop()
