"""The step tracker's decisions, pure: functions over what it has stored (the plan, the facts
of the steps waited for, the steps already started, whether the case was withdrawn), so they
are tested without a database or a broker. `steps.py` reads the state, asks these, and acts."""

from __future__ import annotations

from typing import Iterable, Mapping

from yjs_contracts.steps import StepStatus

#: a step whose turn came: run its performer, or (the case withdrawn) announce it cancelled
RUN, CANCEL = "run", "cancel"
#: what a withdrawal does to a step this department holds
SKIP, LEAVE, UNDO = "skip", "leave", "undo"


def turn_came(plan: Iterable[tuple[str, Iterable[str]]], ours: Iterable[str], facts: Mapping[str, str],
              started: Iterable[str]) -> list[str]:
    """Our steps, in plan order, whose every prerequisite has completed and that never started:
    each starts once, whatever order the facts came in and however often."""
    ours, started = set(ours), set(started)
    return [step for step, after in plan if step in ours and step not in started
            and all(facts.get(a) == StepStatus.completed for a in after)]


def on_turn(withdrawn: bool) -> str:
    """A withdrawn case starts nothing: the step whose turn came is announced cancelled."""
    return CANCEL if withdrawn else RUN


def on_withdrawal(status: str, has_compensator: bool) -> str:
    """A step of ours when its case is withdrawn: one that ended without an outcome has nothing
    to undo; a completed one is undone by its compensator, or left as it is without one (and
    logged); one still open is cancelled (its compensator releasing what it holds)."""
    status = StepStatus(status)
    if status in (StepStatus.cancelled, StepStatus.rejected, StepStatus.not_required):
        return SKIP
    if status == StepStatus.completed and not has_compensator:
        return LEAVE
    return UNDO


def depends_on(plan: Iterable[tuple[str, Iterable[str]]], step: str) -> list[str]:
    """The steps that wait, directly or not, for `step` (plans are in dependency order): what
    undoing it would leave without a prerequisite."""
    found, reached = [], {step}
    for other, after in plan:
        if other not in reached and any(a in reached for a in after):
            reached.add(other)
            found.append(other)
    return found
