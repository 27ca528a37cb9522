"""The step tracker's decisions, pure: functions over what it has stored (the plan, the facts
of the steps waited for, the steps already started, whether the case was withdrawn), so they
are tested without a database or a broker. `steps.py` reads the state, asks these, and acts.
The case record folds reports by the same rule (`folds_into`) as a department keeps facts."""

from __future__ import annotations

from typing import Iterable, Mapping

from yjs_contracts.steps import FINAL_STEP_STATUSES, StepStatus

#: a step whose turn came: run its performer, or (the case withdrawn) announce it cancelled
RUN, CANCEL = "run", "cancel"
#: what an undo (a withdrawal, a prerequisite undone) does to a step this department holds
SKIP, LEAVE, UNDO = "skip", "leave", "undo"


def folds_into(current: str, reported: str, undoes: bool = False) -> bool:
    """A report changes a step unless the step has already ended: a late or repeated report
    never undoes an outcome, whatever order reports arrive in. Only a report that says it undoes
    one (a withdrawn case, a withdrawn 容缺 decision, a prerequisite undone) replaces a completed
    step's outcome; and nothing revives an outcome once undone. A report of the status the step
    already has still brings its news (a running notice's number and end)."""
    if undoes and current == StepStatus.completed:
        return reported in (StepStatus.cancelled, StepStatus.rejected)
    return StepStatus(current) not in FINAL_STEP_STATUSES


def concerns(event_type: str, data: Mapping, ours: Iterable[str]) -> bool:
    """Whether an event may concern a department with steps `ours`, from the event alone: a plan
    without a step of ours, a withdrawal of a case we have no step in, or a withdrawal request
    whose point of no return is not ours, needs nothing from us (not even a transaction). Any
    other event may."""
    ours = set(ours)
    if event_type == "case.submitted":
        return any(step["step"] in ours for step in data.get("plan") or ())
    if event_type == "case.withdrawn":
        return any(step in ours for step in data.get("steps") or ())
    if event_type == "case.withdrawal_requested":
        return data.get("pivot") in ours
    return True


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


def on_undo(status: str, has_compensator: bool) -> str:
    """A step of ours when its case is withdrawn or a prerequisite it started on is undone: one
    that ended without an outcome has nothing to undo; a completed one is undone by its
    compensator, or left as it is without one (and logged); one still open is ended (its
    compensator releasing what it holds)."""
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


def cascades(status: str, undoes: bool) -> bool:
    """Whether a step's report reaches what was built on it: an outcome undone and announced
    rejected (a 容缺 decision withdrawn, a prerequisite of its own undone). An undo announced
    cancelled comes of a withdrawn case, which every department hears and undoes itself."""
    return undoes and StepStatus(status) == StepStatus.rejected


def undone_with(plan: Iterable[tuple[str, Iterable[str]]], undone: str, ours: Iterable[str],
                started: Mapping[str, str], compensated: Iterable[str]) -> list[tuple[str, str]]:
    """Our started steps (`started`: step -> status) built, directly or not, on the undone step,
    what depends on another before it, each with what its undo does (`on_undo`). A step not
    started is not here: its prerequisite is no longer completed, so it never starts."""
    ours, compensated = set(ours), set(compensated)
    return [(step, on_undo(started[step], step in compensated))
            for step in reversed(depends_on(plan, undone)) if step in ours and step in started]


#: the pivot's department's answer to a withdrawal request
ACCEPT, REFUSE = "accept", "refuse"


def on_withdrawal_request(pivot_status: str | None, withdrawn: bool) -> str | None:
    """A withdrawal request reaching the department that owns the matter's point of no return:
    refused once the pivot step completed (it took effect and cannot be undone by a withdrawal),
    accepted otherwise — not started (its plan may not even have arrived), open, refused or
    undone — after which it never starts or completes. A case already withdrawn here was answered
    already: no second answer."""
    if withdrawn:
        return None
    return REFUSE if pivot_status == StepStatus.completed else ACCEPT
