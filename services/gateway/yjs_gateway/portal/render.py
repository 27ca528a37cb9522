"""Pages from Jinja2 templates, with the words a person reads for every machine word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug import Response
from yjs_contracts.api import CHECK_RESULT_WORDS
from yjs_contracts.calendar import china_time, in_china_time
from yjs_contracts.steps import STEP_KINDS
from yjs_contracts.words import (CASE_STATUS_WORDS, DECISION_WORDS, DEPARTMENT_TITLES, ENTERPRISE_TYPE_TITLES, MATTER_TITLES,
                                 OUTPUT_LABELS, RATING_WORDS, SEAL_TITLES, STEP_STATUS_WORDS, readable,
                                 readable_outputs)

from .forms import application_rows

HERE = Path(__file__).parent
#: no script or style from anywhere but this site, no inline script, no framing
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}
#: the assets the pages use, read once: nothing is fetched from elsewhere
STATIC = {path.name: path.read_bytes() for path in (HERE / "static").iterdir() if path.is_file()}
AGENT_STATUS_WORDS = {"valid": "有效", "expired": "已到期", "withdrawn": "已撤销"}
DEAD_LETTER_KIND_WORDS = {"failed": "处理失败", "unreadable": "无法读取", "provenance": "来源不符", "invalid": "输出不合约定"}
#: what follows a decision: 事后核查 of a 告知承诺 permit, 差评督办 of a bad rating and its 申诉
CHECK_STATUS_WORDS = {"open": "待核查", "rectifying": "整改中", "verified": "核查属实", "revoked": "许可已撤销"}
FOLLOW_UP_STATUS_WORDS = {"open": "待答复", "answered": "已答复，待申请人确认", "escalated": "已转运维督办",
                          "closed": "已关闭"}
ESCALATION_WORDS = {"overdue": "逾期未答复", "rejected": "申请人不认可答复"}
VERDICT_WORDS = {"confirmed": "认可答复", "rejected": "不认可答复"}
APPEAL_STATUS_WORDS = {"pending": "待裁决", "upheld": "申诉成立，该评价不计入考核", "dismissed": "申诉不成立"}
#: what a page says an act did, by the word its address carries back (`?done=answered:F1`)
DONE_WORDS = {"checked": "已记录核查结果", "answered": "已答复差评", "appealed": "已提交申诉", "responded": "已回访并关闭",
              "appeal_decided": "已裁决申诉", "replayed": "已重放死信"}
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def outputs_in_words(outputs: dict[str, Any]):
    return readable_outputs(in_china_time(outputs))


#: the state of what an enterprise holds (its taxpayer record, accounts, permits), as the record reads it
HELD_STATUS_WORDS = {"registered": "已登记", "cleared": "已清税", "open": "正常", "closed": "已销户", "valid": "有效",
                     "revoked": "已撤销", "cancelled": "已注销"}


def holdings(record: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """An enterprise's taxpayer record, bank accounts and permits, in words, each state in
    Chinese: (title, [(label, value), …]) for each, one row a fact, as the records read."""
    def rows(item: dict[str, Any]) -> list[tuple[str, str]]:
        if "status" in item:
            item = {**item, "status": HELD_STATUS_WORDS.get(item["status"], item["status"])}
        return [(OUTPUT_LABELS.get(k, k), readable(v)) for k, v in in_china_time(item).items()]
    held = [(OUTPUT_LABELS["tax"], rows(record["taxpayer"]))] if record.get("taxpayer") else []
    held += [(OUTPUT_LABELS["bank_account"], rows(account)) for account in record.get("bank_accounts", [])]
    held += [(OUTPUT_LABELS["permits"], rows(permit)) for permit in record.get("permits", [])]
    return held


def step_title(step: str) -> str:
    kind = STEP_KINDS.get(step)
    return kind.title if kind and kind.title else step


ENVIRONMENT = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                          trim_blocks=True, lstrip_blocks=True)
ENVIRONMENT.filters.update(china_time=china_time, step_title=step_title)
ENVIRONMENT.globals.update(CASE_STATUS_WORDS=CASE_STATUS_WORDS, STEP_STATUS_WORDS=STEP_STATUS_WORDS,
                           DEPARTMENT_TITLES=DEPARTMENT_TITLES, MATTER_TITLES=MATTER_TITLES,
                           DECISION_WORDS=DECISION_WORDS, readable_outputs=outputs_in_words,
                           application_rows=application_rows, ENTERPRISE_TYPE_WORDS=ENTERPRISE_TYPE_TITLES,
                           SEAL_TITLES=SEAL_TITLES, AGENT_STATUS_WORDS=AGENT_STATUS_WORDS, RATING_WORDS=RATING_WORDS,
                           DEAD_LETTER_KIND_WORDS=DEAD_LETTER_KIND_WORDS, holdings=holdings,
                           CHECK_RESULT_WORDS=CHECK_RESULT_WORDS, CHECK_STATUS_WORDS=CHECK_STATUS_WORDS,
                           FOLLOW_UP_STATUS_WORDS=FOLLOW_UP_STATUS_WORDS, ESCALATION_WORDS=ESCALATION_WORDS,
                           VERDICT_WORDS=VERDICT_WORDS, APPEAL_STATUS_WORDS=APPEAL_STATUS_WORDS, DONE_WORDS=DONE_WORDS)


def html(template: str, http_status: int = 200, **context) -> Response:
    body = ENVIRONMENT.get_template(template).render(**context)
    return Response(body, status=http_status, headers=PAGE_HEADERS, mimetype="text/html")


def asset(name: str) -> Response | None:
    if name not in STATIC:
        return None
    kind = STATIC_TYPES.get(Path(name).suffix, "application/octet-stream")
    # the assets change only with a release; a day in the browser's cache spares each page a request
    return Response(STATIC[name], status=200, headers={"Content-Type": kind, "Cache-Control": "public, max-age=86400"})
