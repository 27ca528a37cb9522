"""Readable views: a case record, a dead letter list, the figures of 无感监测, a service's JSON log line."""

from __future__ import annotations

import json
from typing import Any

from yjs_contracts.calendar import china_time, in_china_time
from yjs_contracts.steps import STEP_KINDS
from yjs_contracts.words import (CASE_STATUS_WORDS, DEPARTMENT_TITLES, MATTER_TITLES, STEP_STATUS_WORDS,
                                 readable_outputs)

STATUS_MARKS = {"completed": "✔", "rejected": "✘", "cancelled": "–", "pending": "·", "in_progress": "…",
                "awaiting_review": "?", "awaiting_applicant": "!", "not_required": " "}


def case_view(record: dict[str, Any]) -> str:
    """The record as an applicant or a clerk reads it, in Chinese and China time; the machine words (case ID,
    step, status, reason code and field, event type) as the API gives them, for looking up."""
    status = record["status"]
    lines = [f"案件 {record['case_id']}  {MATTER_TITLES.get(record['matter'], record['matter'])}  "
             f"{CASE_STATUS_WORDS.get(status, status)}（{status}）",
             f"  受理时间 {_when(record['submitted_at'])}" + (f"  办结时间 {_when(record['finished_at'])}" if record["finished_at"] else "")
             + _limit_note("整体承诺时限", record.get("promised_days"), record.get("promised_kept"))
             + (f"  用时 {record['working_hours']:g} 工作小时" if record.get("working_hours") is not None else "")
             + (f"（不含补正 {record['paused_working_hours']:g} 工作小时）" if record.get("paused_working_hours") else ""),
             "", "  办理事项："]
    for step in record["steps"]:
        kind = STEP_KINDS.get(step["step"])
        waits = f"  前置事项 {'、'.join(STEP_KINDS[a].title if a in STEP_KINDS else a for a in step['after'])}" \
            if step["after"] else ""
        notes = "".join([f"  经办人 {step['decided_by']}" if step.get("decided_by") else "",
                         _limit_note("承诺时限", step.get("promised_days"), step.get("promised_kept")),
                         _limit_note("法定时限", step.get("legal_days"), step.get("legal_kept")),
                         "  已超过承诺时限" if step.get("overdue") else "",
                         f"  容缺材料须于 {_when(step['materials_due'])} 前补齐" if step.get("materials_due") else ""])
        lines.append(f"    {STATUS_MARKS.get(step['status'], '?')} {kind.title if kind else step['step']}"
                     f"（{step['step']}）  {STEP_STATUS_WORDS.get(step['status'], step['status'])}"
                     f"  时限 {_when(step['deadline']) if step['deadline'] else '无'}{waits}{notes}")
        for reason in step["reasons"]:
            lines.append(f"        {reason['message']}（{reason['code']}，{reason.get('field') or '无字段'}）")
    outputs = record["outputs"]
    if outputs:
        lines += ["", "  统一出件："]
        for label, value in readable_outputs(in_china_time(outputs)):
            if isinstance(value, list):  # the seals, one a line
                lines.append(f"    {label}：")
                lines += [f"      {title}  {filing_code}  {name}" for title, filing_code, name in value]
            else:
                lines.append(f"    {label}：{value}")
    lines += ["", "  办理记录："]
    lines += [f"    {_when(t['at'])}  {t['summary']}  （{t['event_type']}）" for t in record["timeline"]]
    return "\n".join(lines)


def _when(value: str | None) -> str:
    return china_time(value, seconds=True)


def _limit_note(name: str, days: float | None, kept: bool | None) -> str:
    if days is None:
        return ""
    return f"  {name} {days:g} 个工作日" + ({True: "（已遵守）", False: "（已超出）"}.get(kept, ""))


def case_line(item: dict[str, Any]) -> str:
    """One case of a list: its number, matter and status in Chinese (the API's words beside), when."""
    return (f"{item['case_id']}  {MATTER_TITLES.get(item['matter'], item['matter'])}（{item['matter']}）  "
            f"{CASE_STATUS_WORDS.get(item['status'], item['status'])}（{item['status']}）  受理时间 {_when(item['submitted_at'])}")


def dead_letters_view(items: list[dict[str, Any]]) -> str:
    if not items:
        return "没有死信"
    return "\n".join(f"{d['dead_letter_id']:<18} {d['event_type'] or '-':<40} 案件 {d['case_id'] or '-'}  "
                     f"尝试 {d['attempts']} 次  {_when(d['failed_at'])}\n    {d['reason']}" for d in items)


def _share(value: float | None) -> str:
    return "无" if value is None else f"{value * 100:.1f}%"


def _hours(value: float | None) -> str:
    return "无" if value is None else f"{value:g} 工作小时"


def _figures(figures: dict[str, Any]) -> str:
    ratings = figures["ratings"]
    rated = f"评价 {ratings['count']} 条" + (f"，平均 {ratings['average']:g} 分" if ratings["average"] is not None else "")
    return (f"用时中位数 {_hours(figures['median_working_hours'])}  90% 分位 {_hours(figures['p90_working_hours'])}  "
            f"补正暂停 {figures['pauses']} 次，共 {_hours(figures['paused_working_hours'])}  "
            f"超过法定时限 {figures['steps_past_legal_limit']} 个事项  {rated}  未办结督办 {figures['open_follow_ups']} 件")


def report_view(report: dict[str, Any]) -> str:
    """无感监测 as an operator reads it, per matter and department, in Chinese."""
    lines = [f"无感监测  {report['from']} 至 {report['to']} 办结的案件"]
    if not report["matters"]:
        lines.append("  期间没有办结的案件")
    for matter in report["matters"]:
        limit = f"承诺时限 {matter['promised_days']:g} 个工作日" if matter["promised_days"] is not None else ""
        lines += ["", f"{matter['title']}（{matter['matter']}）  {limit}",
                  f"  办结 {matter['cases_finished']} 件（撤回 {matter['withdrawn']} 件）  "
                  f"承诺时限内办结 {_share(matter['within_promised_limit'])}",
                  f"  {_figures(matter)}", "  各部门："]
        for department in matter["departments"]:
            name = department["department"]
            lines += [f"    {DEPARTMENT_TITLES.get(name, name)}（{name}）  办结事项 {department['steps_decided']} 个  "
                      f"承诺时限内 {_share(department['within_promised_limit'])}",
                      f"      {_figures(department)}"]
    return "\n".join(lines)


def log_line(service: str, line: str) -> str:
    """A service's JSON log line as one readable line; anything else as it came."""
    try:
        entry = json.loads(line)
    except ValueError:
        return f"{service:<14} {line}"
    if not isinstance(entry, dict):
        return f"{service:<14} {line}"
    at = _when(str(entry.pop("timestamp", "")))[11:19]
    level = entry.pop("level", "")
    event = entry.pop("event", "")
    entry.pop("service", None)
    rest = " ".join(f"{k}={v}" for k, v in entry.items() if k not in ("correlation_id", "event_id"))
    return f"{at} {service:<14} {level:<7} {event}  {rest}".rstrip()
