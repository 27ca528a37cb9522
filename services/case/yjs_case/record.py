"""The rules of a case record, pure: how a department's report changes a step, what the
steps make of the whole case, and how every output is gathered in one place (统一出件)."""

from __future__ import annotations

from typing import Any, Iterable

from yjs_contracts.api import CaseStatus
from yjs_contracts.steps import FINAL_STEP_STATUSES, STEP_KINDS, StepStatus

FINAL_CASE_STATUSES = frozenset({CaseStatus.completed, CaseStatus.rejected, CaseStatus.withdrawn})


def folds_into(current: str, reported: str) -> bool:
    """A report changes a step unless the step has already ended: a late or repeated report
    never undoes an outcome, whatever order reports arrive in."""
    return StepStatus(current) not in FINAL_STEP_STATUSES and current != reported


def now_in_progress(steps: Iterable[dict[str, Any]], statuses: dict[str, str]) -> list[str]:
    """Pending steps whose every prerequisite has completed: their department is at work."""
    return [s["step"] for s in steps if statuses[s["step"]] == StepStatus.pending
            and all(statuses.get(a) == StepStatus.completed for a in s["after"])]


def case_status(current: str, step_statuses: Iterable[str]) -> CaseStatus:
    statuses = [StepStatus(s) for s in step_statuses]
    if CaseStatus(current) in FINAL_CASE_STATUSES:
        return CaseStatus(current)
    if StepStatus.rejected in statuses:
        return CaseStatus.rejected
    if all(s in (StepStatus.completed, StepStatus.not_required) for s in statuses):
        return CaseStatus.completed
    if StepStatus.awaiting_applicant in statuses:
        return CaseStatus.awaiting_applicant
    if any(s != StepStatus.pending for s in statuses):
        return CaseStatus.in_progress
    return CaseStatus.submitted


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


def summary(step: str, status: str, outputs: dict[str, Any], reasons: list[dict[str, Any]]) -> str:
    title = STEP_KINDS[step].title
    if status == StepStatus.completed:
        keys = ("uscc", "account_number", "tax_authority")
        shown = ", ".join(f"{k} {outputs[k]}" for k in keys if k in outputs)
        if "seals" in outputs:
            shown = f"{len(outputs['seals'])} seals filed"
        return f"{title} ({step}) completed" + (f": {shown}" if shown else "")
    if reasons:
        return f"{title} ({step}) {status}: " + "; ".join(r.get("message", r.get("code", "")) for r in reasons)
    return f"{title} ({step}) {status}"
