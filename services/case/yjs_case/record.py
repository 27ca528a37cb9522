"""The rules of a case record, pure: how a department's report changes a step, what the
steps make of the whole case, and how every output is gathered in one place (统一出件)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Iterable

from yjs_contracts.api import CaseStatus
from yjs_contracts.calendar import add_working_time, working_time_between
from yjs_contracts.steps import FINAL_STEP_STATUSES, STEP_KINDS, StepStatus
from yjs_contracts.words import CASE_STATUS_WORDS, DEPARTMENT_TITLES, MATTER_TITLES, OUTPUT_LABELS, STEP_STATUS_WORDS
from yjs_kit.decisions import folds_into  # noqa: F401 - a department keeps facts by the same rule

FINAL_CASE_STATUSES = frozenset({CaseStatus.completed, CaseStatus.partially_completed, CaseStatus.rejected,
                                 CaseStatus.withdrawn})


def waiting_on(steps: Iterable[dict[str, Any]], step: str) -> list[str]:
    """`step` and every step that waits for it, directly or not: their deadlines hang on it."""
    steps = list(steps)
    found = [step]
    for s in steps:  # plans are in dependency order
        if any(a in found for a in s["after"]) and s["step"] not in found:
            found.append(s["step"])
    return found


def resumed_deadline(deadline: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
    """The promised limit does not run while the applicant corrects (补正): the deadline moves
    by the working time the step waited for the applicant."""
    return add_working_time(deadline, working_time_between(paused_at, resumed_at))


def now_in_progress(steps: Iterable[dict[str, Any]], statuses: dict[str, str]) -> list[str]:
    """Pending steps whose every prerequisite has completed: their department is at work."""
    return [s["step"] for s in steps if statuses[s["step"]] == StepStatus.pending
            and all(statuses.get(a) == StepStatus.completed for a in s["after"])]


def blocked(steps: Iterable[dict[str, Any]], statuses: dict[str, str]) -> list[str]:
    """Pending steps that wait, directly or not, for a step refused or cancelled: they can never
    start. Steps that do not wait for it go on (a refused permit does not stop the seals)."""
    ended = {step for step, status in statuses.items() if status in (StepStatus.rejected, StepStatus.cancelled)}
    found = []
    for s in steps:  # plans are in dependency order
        if statuses[s["step"]] == StepStatus.pending and any(a in ended for a in s["after"]):
            ended.add(s["step"])
            found.append(s["step"])
    return found


def in_part(outputs: dict[str, Any] | None) -> bool:
    """A completed step that took effect only in part lists what was refused in its outputs
    (`refused`: 一业一证, a permit's part refused, the others issued)."""
    return bool((outputs or {}).get("refused"))


def case_status(current: str, statuses: dict[str, str], essential: str = "",
                partial: Iterable[str] = ()) -> CaseStatus:
    """What the steps make of the case. Refused (`rejected`) when the matter's `essential` step
    was refused or cannot happen: nothing took effect. Once every step has ended: `completed`
    when all took effect, `partially_completed` when the essential one did and some other was
    refused (证照分离: the company is registered, a permit refused), or took effect in part
    (`partial`). Without an essential step any refusal refuses the case."""
    if CaseStatus(current) in FINAL_CASE_STATUSES:
        return CaseStatus(current)
    values = [StepStatus(s) for s in statuses.values()]
    ended_without_effect = (StepStatus.rejected, StepStatus.cancelled)
    if (statuses.get(essential) in ended_without_effect if essential in statuses
            else StepStatus.rejected in values):
        return CaseStatus.rejected
    if all(s in FINAL_STEP_STATUSES for s in values):
        partial = set(partial)
        if all(s in (StepStatus.completed, StepStatus.not_required) for s in values) and not any(
                statuses.get(step) == StepStatus.completed for step in partial):
            return CaseStatus.completed
        return CaseStatus.partially_completed
    if StepStatus.awaiting_applicant in values:
        return CaseStatus.awaiting_applicant
    if any(s != StepStatus.pending for s in values):
        return CaseStatus.in_progress
    return CaseStatus.submitted


def blocked_reason(step: str, steps: Iterable[dict[str, Any]], statuses: dict[str, str]) -> dict[str, Any]:
    """Why a step that can never start was cancelled: the prerequisites that did not take effect."""
    after = next((s["after"] for s in steps if s["step"] == step), [])
    missing = [a for a in after if statuses.get(a) in (StepStatus.rejected, StepStatus.cancelled)]
    names = "、".join(STEP_KINDS[a].title for a in missing)
    return {"code": "prerequisite_not_done", "message": f"所需前置事项（{names}）未办成，本事项不再办理", "field": None}


def refusals(steps: Iterable[tuple[str, str, list[dict[str, Any]]]],
             partial: Iterable[str] = ()) -> list[dict[str, Any]]:
    """(step, status, reasons) -> the case's reasons: each refused or cancelled step's, and those
    of a step that took effect in part (`partial`), the step's title before each message, so
    the record says what was refused and why."""
    found, partial = [], set(partial)
    for step, status, reasons in steps:
        if status not in (StepStatus.rejected, StepStatus.cancelled) and not (
                status == StepStatus.completed and step in partial):
            continue
        title = STEP_KINDS[step].title
        for reason in reasons or [{"code": f"step_{status}", "message": STEP_STATUS_WORDS[status], "field": None}]:
            found.append({**reason, "message": f"{title}：{reason.get('message', '')}"})
    return found


def _merge(target: dict[str, Any], path: tuple[str, ...], outputs: dict[str, Any]) -> None:
    for key in path:
        target = target.setdefault(key, {})
    for key, value in outputs.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target, (key,), value)
        else:
            target[key] = value


def combined_outputs(steps: Iterable[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """(step, status, outputs) in plan order -> one dict, each step's outputs at its place."""
    combined: dict[str, Any] = {}
    for step, status, outputs in steps:
        if status == StepStatus.completed and outputs:
            _merge(combined, STEP_KINDS[step].output_path, outputs)
    return combined


#: the outputs a completed step's line in the timeline names
SUMMARY_OUTPUTS = ("uscc", "registration_number", "account_number", "tax_authority")


def summary(step: str, status: str, outputs: dict[str, Any], reasons: list[dict[str, Any]]) -> str:
    """A step's report as the timeline tells it, in Chinese: 设立登记已办结：统一社会信用代码 …"""
    title = STEP_KINDS[step].title
    if status == StepStatus.completed:
        shown = "，".join(f"{OUTPUT_LABELS[k]} {outputs[k]}" for k in SUMMARY_OUTPUTS
                         if outputs.get(k) is not None)  # an account a change found none of
        if "seals" in outputs:
            shown = {"seal_carving.cancel": "缴销", "seal_carving.recarve": "重刻"}.get(step, "备案") \
                + f"印章 {len(outputs['seals'])} 枚"
        return f"{title}已办结" + (f"：{shown}" if shown else "")
    word = STEP_STATUS_WORDS.get(status, status)
    if reasons:
        return f"{title}{word}：" + "；".join(r.get("message") or r.get("code", "") for r in reasons)
    return f"{title}{word}"


def submitted_summary(matter: str, steps: int) -> str:
    return f"受理{MATTER_TITLES.get(matter, matter)}申请，计划办理 {steps} 个事项"


def finished_summary(status: str) -> str:
    return f"案件{CASE_STATUS_WORDS.get(status, status)}"


def overdue_summary(step: str, deadline: datetime) -> str:
    return f"{STEP_KINDS[step].title}超过承诺时限（{deadline:%Y-%m-%d %H:%M}）未办结"


def supplement_summary(corrected: int, materials: list[str]) -> str:
    """补正 in the timeline: how many fields were corrected (the application's revision holds
    which) and the materials handed in, by name."""
    told = [f"更正 {corrected} 项" if corrected else "", f"补交材料 {'、'.join(materials)}" if materials else ""]
    return "补正：" + "，".join(t for t in told if t)


def withdrawal_summary(reason: str) -> str:
    return f"撤回：{reason}"


def withdrawal_request_summary(reason: str) -> str:
    return f"申请撤回：{reason}"


def withdrawal_refusal_summary(messages: list[str]) -> str:
    return "撤回申请未获同意：" + "；".join(messages)


#: how a withdrawal request goes: withdrawn at once (no point of no return in the matter's plan),
#: refused at once (the record already shows the pivot completed), left to the pivot's department
#: (asked, or already asked and not yet answered)
AT_ONCE, REFUSED_NOW, ASK, ASKED = "at_once", "refused_now", "ask", "asked"


def withdrawal_route(pivot: str, step_statuses: dict[str, str], pending: bool) -> str:
    """The case service's part of a withdrawal. Its record lags behind the departments, so it
    refuses only what it knows for sure (the pivot completed and announced); everything else the
    pivot's department decides under its own lock. A request still unanswered is not asked twice."""
    if not pivot or pivot not in step_statuses:
        return AT_ONCE
    if step_statuses[pivot] == StepStatus.completed:
        return REFUSED_NOW
    return ASKED if pending else ASK


def withdrawal_state(timeline: Iterable[tuple[str, Any, str]]) -> dict[str, Any] | None:
    """The withdrawal as the record shows it, from the timeline (`event_type, at, summary`,
    oldest first): the last request and its answer; a case withdrawn at once counts accepted."""
    state = None
    for event_type, at, summary in timeline:
        if event_type == "case.withdrawal_requested":
            state = {"status": "requested", "requested_at": at, "answered_at": None, "reason": None}
        elif event_type.endswith(".withdrawal_accepted") or (event_type == "case.withdrawn" and state is None):
            state = {**(state or {"requested_at": at}), "status": "accepted", "answered_at": at, "reason": None}
        elif event_type.endswith(".withdrawal_refused") and state is not None:
            state = {**state, "status": "refused", "answered_at": at,
                     "reason": {"code": "withdrawal_refused", "message": summary, "field": None}}
    return state


def rating_summary(level: str, follow_ups: list[str]) -> str:
    return f"好差评：{level}" + (f"，差评督办 {'、'.join(follow_ups)}" if follow_ups else "")


def _owner_title(department: str) -> str:
    return DEPARTMENT_TITLES.get(department, "运维人员")


def follow_up_answered_summary(follow_up: str, department: str) -> str:
    return f"{_owner_title(department)}已答复差评督办 {follow_up}，请确认"


def follow_up_verdict_summary(follow_up: str, verdict: str) -> str:
    if verdict == "confirmed":
        return f"申请人认可差评督办 {follow_up} 的答复，督办办结"
    return f"申请人不认可差评督办 {follow_up} 的答复，已提交运维人员督办"


def follow_up_overdue_summary(follow_up: str) -> str:
    return f"差评督办 {follow_up} 逾期未答复，已提交运维人员督办"


def follow_up_closed_summary(follow_up: str) -> str:
    return f"差评督办 {follow_up} 已办结"


def appeal_summary(follow_up: str, department: str) -> str:
    return f"{_owner_title(department)}对差评督办 {follow_up} 所涉评价提出申诉"


def appeal_decided_summary(follow_up: str, upheld: bool) -> str:
    if upheld:
        return f"差评督办 {follow_up} 的申诉成立：该评价保留在案，不计入统计"
    return f"差评督办 {follow_up} 的申诉不成立"


def stalled_summary(department: str, replayed: bool) -> str:
    """A department could not handle a message of the case (a dead letter, for operators to
    replay), or handled it on replay; which message and why is the operators' record."""
    who = DEPARTMENT_TITLES.get(department, department)
    return f"{who}已恢复办理本案" if replayed else f"{who}暂时无法办理本案，已转运维人员处理"


def supplemented(application: dict[str, Any], fields: Iterable[tuple[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """The application with each `(path, value)` put in place (`application.a.0.b`); and the
    paths that name no place in it. Whether the result is a valid application is the model's say."""
    patched = copy.deepcopy(application)
    unknown = []
    for path, value in fields:
        parts = path.split(".")[1:]
        target: Any = patched
        try:
            for part in parts[:-1]:
                target = target[int(part)] if isinstance(target, list) else target[part]
            if isinstance(target, list):
                target[int(parts[-1])] = value
            elif isinstance(target, dict):
                target[parts[-1]] = value
            else:
                raise TypeError(path)
        except (KeyError, IndexError, ValueError, TypeError):
            unknown.append(path)
    return patched, unknown


def requested(notices: Iterable[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """What the open 补正 notices (and a 容缺受理's outstanding materials) asked for: the
    application fields (`application.…`) and the materials (`material:…`) their reasons name."""
    fields, materials = set(), set()
    for reason in notices:
        field = reason.get("field") or ""
        if field.startswith("material:"):
            materials.add(field.removeprefix("material:"))
        elif field.startswith("application"):
            fields.add(field)
    return fields, materials


def unrequested(items: Iterable[tuple[str, str]], fields: set[str], materials: set[str]) -> list[str]:
    """Of `(kind, name)` items (`field` with its path, `material` with its name), those the
    notice did not ask for. A field named by the notice may be corrected anywhere beneath it."""
    refused = []
    for kind, name in items:
        if kind == "material":
            if name not in materials:
                refused.append(f"material:{name}")
        elif not any(name == f or name.startswith(f + ".") for f in fields):
            refused.append(name)
    return refused
