"""What the case service does, as plain functions over a unit of work: accept a submission,
fold a department's report into the record, read records."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, text, update
from yjs_contracts import catalogue
from yjs_contracts.api import CaseStatus, InvalidApplication, parse_submission
from yjs_contracts.envelope import Envelope, new_event
from yjs_contracts.events import (DEAD_LETTER_EVENTS, NOTICE_EVENTS, CaseFinished, CaseSubmitted, EventDeadLettered,
                                  Signer, StepReport)
from yjs_contracts.plans import CHINA, MATTERS, plan_for, step_limits, with_deadlines
from yjs_contracts.steps import FINAL_STEP_STATUSES, REPORT_EVENTS, StepStatus
from yjs_kit.uow import UnitOfWork

from . import limits, record
from .models import case_pauses, case_steps, case_timeline, cases


# what folding a report reads, in one round trip after the case's lock: each step of the case with
# the case's own columns beside it (not its application, which a fold never needs)
_CASE_COLUMNS = ("owner", "matter", "status", "submitted_at", "finished_at")
CASE_AND_STEPS = text(
    f"SELECT {', '.join(f'cases.{c} AS case_{c}' for c in _CASE_COLUMNS)},"
    f" {', '.join(f'case_steps.{c}' for c in case_steps.c.keys())}"
    " FROM cases JOIN case_steps ON case_steps.case_id = cases.case_id"
    " WHERE cases.case_id = :case_id ORDER BY case_steps.position"
).columns(*(cases.c[c].label(f"case_{c}") for c in _CASE_COLUMNS), *case_steps.c)
# a resubmission with the same Idempotency-Key (unique per owner) finds its case
CASE_BY_KEY = text("SELECT case_id, request_hash FROM cases WHERE owner = :owner AND idempotency_key = :idempotency_key")


class IdempotencyConflict(Exception):
    """The same Idempotency-Key with a different body."""


class CaseNotFound(LookupError):
    pass


class SubmittedBefore(Exception):
    """The applicant's Idempotency-Key already has a case: roll back (the case number taken goes
    back to the counter) and submit again looking for it first."""


def request_hash(matter: str, application: dict[str, Any]) -> str:
    canonical = json.dumps({"matter": matter, "application": application}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def existing_case(uow: UnitOfWork, owner: str, key: str | None, digest: str) -> str | None:
    if key is None:
        return None
    row = uow.fetch(CASE_BY_KEY, {"owner": owner, "idempotency_key": key})
    if not row:
        return None
    if row[0]["request_hash"] != digest:
        raise IdempotencyConflict(f"Idempotency-Key {key!r} was used with a different body")
    return row[0]["case_id"]


def new_case_id(uow: UnitOfWork, now: datetime) -> str:
    """受理编号: YJS, the acceptance date (China time) and a serial of that day."""
    day = now.astimezone(CHINA).strftime("%Y%m%d")
    return f"YJS{day}{uow.next_number(f'case:{day}'):07d}"


def submit(uow: UnitOfWork, owner: str, body: Any, idempotency_key: str | None = None,
           limits: dict[str, float] | None = None, signer: Signer | None = None,
           matter_limits: dict[str, float] | None = None, look_first: bool = True) -> tuple[str, bool]:
    """Accept one application: store the case with its plan, deadlines and limits (`limits`:
    promised working days configured per step; `matter_limits`: per matter, end to end),
    announce case.submitted with who signed its commitments. Returns (case_id, created).

    `look_first=False` skips looking for the Idempotency-Key's case, which is rare, and lets
    the key's unique constraint find it: SubmittedBefore then, for the caller to roll back and
    submit again looking first."""
    matter, application = parse_submission(body)  # raises InvalidApplication
    application_data = application.model_dump(mode="json")
    digest = request_hash(matter, body["application"])
    found = existing_case(uow, owner, idempotency_key, digest) if look_first else None
    if found:
        return found, False
    now = datetime.now(timezone.utc)
    case_id = new_case_id(uow, now)
    plan = with_deadlines(matter, plan_for(matter, application_data), now, limits)
    days = step_limits(matter, limits)
    inserted = uow.upsert(cases, ["owner", "idempotency_key"], update=False,
        case_id=case_id, owner=owner, matter=matter, status=CaseStatus.submitted.value,
        application=application_data, submitted_at=now, outputs={}, reasons=[],
        idempotency_key=idempotency_key, request_hash=digest,
        promised_days=(matter_limits or {}).get(matter, MATTERS[matter].working_days))
    if not inserted:  # only a key can conflict: NULLs never do
        raise SubmittedBefore(idempotency_key)
    uow.insert_many(case_steps, [dict(
        case_id=case_id, step=step.step, position=i, department=step.department,
        status=(StepStatus.pending if step.after else StepStatus.in_progress).value,
        started_at=None if step.after else now,
        after=step.after, deadline=step.deadline.astimezone(timezone.utc), outputs={}, reasons=[],
        promised_days=days[step.step][0], legal_days=days[step.step][1])
        for i, step in enumerate(plan)], later=True)
    event = new_event("case.submitted", CaseSubmitted(matter=matter, owner=owner, application=application_data,
                                                      plan=plan, submitted_at=now, signer=signer,
                                                      catalogue_version=catalogue.VERSION), case_id=case_id)
    uow.append(case_timeline,
        case_id=case_id, at=now, event_type=event.event_type, event_id=str(event.event_id),
        summary=record.submitted_summary(matter, len(plan)))
    uow.announce(event)
    return case_id, True


def case_and_steps(uow: UnitOfWork, case_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The case (its owner, matter, status and times) and its steps in plan order, read with one
    statement; CaseNotFound when there is no such case (every case has steps)."""
    rows = uow.fetch(CASE_AND_STEPS, {"case_id": case_id})
    if not rows:
        raise CaseNotFound(case_id)  # retried, then dead-lettered: an operator must look
    case = {"case_id": case_id, **{c: rows[0][f"case_{c}"] for c in _CASE_COLUMNS}}
    return case, [{c: row[c] for c in case_steps.c.keys()} for row in rows]


def _is_report(event: Envelope) -> bool:
    return event.event_type in REPORT_EVENTS


def fold(uow: UnitOfWork, event: Envelope) -> dict[str, Any] | None:
    """Apply a department's report to its step and the case. Returns what changed, for the
    metrics: {"matter", "step", "department", "status", "case_status", ...} or None."""
    if event.event_type not in REPORT_EVENTS or not uow.first_time(event, "fold", lock=event.case_id, alike=_is_report):
        return None
    case, steps = case_and_steps(uow, event.case_id)
    report = StepReport.model_validate(event.data)
    step = next((s for s in steps if s["step"] == report.step), None)
    uow.append(case_timeline, case_id=event.case_id, at=event.occurred_at, event_type=event.event_type,
               event_id=str(event.event_id), summary=record.summary(
                   report.step, report.status, report.outputs, [r.model_dump() for r in report.reasons])
               + _decision_note(report))
    if step is None or not record.folds_into(step["status"], report.status, report.undoes):
        return None
    final = report.status in (StepStatus.completed, StepStatus.rejected, StepStatus.cancelled)
    values = dict(status=report.status.value, outputs=report.outputs, reasons=[r.model_dump() for r in report.reasons],
                  finished_at=event.occurred_at if final else None)
    if report.materials_due is not None:
        values["materials_due"] = report.materials_due
    if report.undoes:
        values.pop("outputs")  # what the step had produced stays on record, marked undone by its status
    if report.decided_by:
        values["decided_by"] = report.decided_by
    elif report.status == StepStatus.awaiting_review:
        values["decided_by"] = None  # back with staff: nobody has decided it yet
    if report.status == StepStatus.awaiting_applicant:
        values["paused_at"] = step["paused_at"] or event.occurred_at  # 补正: the clock stops
    elif step["paused_at"] is not None:  # resumed without a supplement: the clock runs again
        values["paused_at"] = None
        resume_clock(uow, event.case_id, steps, report.step, _aware(step["paused_at"]), event.occurred_at)
    uow.update_later(case_steps, {"case_id": event.case_id, "step": report.step}, **values)
    statuses = {s["step"]: s["status"] for s in steps}
    statuses[report.step] = report.status.value
    ready = record.now_in_progress(steps, statuses)
    if ready:  # one statement for every step this report made ready
        uow.update_later(case_steps, {"case_id": event.case_id, "step": ready},
                   status=StepStatus.in_progress.value, started_at=event.occurred_at)
        statuses.update((step, StepStatus.in_progress.value) for step in ready)
    blocked_reasons = {}
    for never in record.blocked(steps, statuses):  # waits for what was refused: it will never start
        blocked_reasons[never] = [record.blocked_reason(never, steps, statuses)]
        uow.update_later(case_steps, {"case_id": event.case_id, "step": never},
                   status=StepStatus.cancelled.value, reasons=blocked_reasons[never], finished_at=event.occurred_at)
        statuses[never] = StepStatus.cancelled.value
    partial = {s["step"] for s in steps if record.in_part(report.outputs if s["step"] == report.step else s["outputs"])}
    status = record.case_status(case["status"], statuses, MATTERS[case["matter"]].essential, partial)
    started = step["started_at"] and _aware(step["started_at"])
    change = {"matter": case["matter"], "step": report.step, "department": step["department"],
              "status": report.status.value, "case_status": status.value, "finished": False,
              # a breach counts once: when the overdue check announced it, or else when decided late
              "late": bool(report.status in (StepStatus.completed, StepStatus.rejected) and step["deadline"]
                           and step["overdue_announced_at"] is None and event.occurred_at > _aware(step["deadline"])),
              "step_seconds": (event.occurred_at - started).total_seconds() if started else None,
              "case_seconds": None}
    if report.undoes and case["finished_at"] is not None:
        # 统一出件 went out already: what was undone since no longer stands among the outputs
        uow.update_later(cases, {"case_id": event.case_id},
                   outputs=record.combined_outputs((s["step"], statuses[s["step"]], s["outputs"]) for s in steps))
    if status.value == case["status"]:
        return change
    values: dict[str, Any] = {"status": status.value}
    if status in record.FINAL_CASE_STATUSES:
        values.update(_finish(uow, event, case, steps, report, status, statuses, blocked_reasons, partial))
        change.update(finished=True, case_seconds=(event.occurred_at - _aware(case["submitted_at"])).total_seconds())
    uow.update_later(cases, {"case_id": event.case_id}, **values)
    return change


def _decision_note(report: StepReport) -> str:
    notes = []
    if report.decided_by:
        notes.append(f"经办人 {report.decided_by}")
    if report.materials_due:
        notes.append(f"容缺受理，材料须于 {report.materials_due.astimezone(CHINA):%Y-%m-%d %H:%M} 前补齐")
    if report.undoes:
        notes.append("原决定撤销")
    return f"（{'；'.join(notes)}）" if notes else ""


def resume_clock(uow, case_id: str, steps, step: str, paused_at: datetime, resumed_at: datetime) -> None:
    """补正 stopped the clock from `paused_at`: the pause is recorded, and the step's deadline, and
    those of the steps that wait for it, move by the working time it waited."""
    uow.session.execute(case_pauses.insert().values(case_id=case_id, step=step, paused_at=paused_at,
                                                    resumed_at=resumed_at))
    for s in steps:
        if s["step"] in record.waiting_on(steps, step) and s["deadline"] is not None:
            uow.session.execute(update(case_steps).where(
                (case_steps.c.case_id == case_id) & (case_steps.c.step == s["step"])).values(
                deadline=record.resumed_deadline(_aware(s["deadline"]), paused_at, resumed_at)))


def _finish(uow, event, case, steps, report, status, statuses, blocked_reasons, partial) -> dict[str, Any]:
    """统一出件: every output in one place, announced once with case.completed (also when only
    partly done: what took effect is issued) or case.rejected; steps that can no longer happen
    are cancelled."""
    reported = {s["step"]: (s["status"], s["outputs"]) for s in steps}
    reported[report.step] = (report.status.value, report.outputs)
    outputs = record.combined_outputs((step, st, out) for step, (st, out) in reported.items())
    if status == CaseStatus.rejected:
        reasons = [r.model_dump() for r in report.reasons]
    elif status == CaseStatus.partially_completed:  # what was refused, step by step, and why
        reasons = record.refusals([
            (s["step"], statuses[s["step"]],
             [r.model_dump() for r in report.reasons] if s["step"] == report.step
             else blocked_reasons.get(s["step"], s["reasons"])) for s in steps], partial)
    else:
        reasons = []
    if status == CaseStatus.rejected:
        uow.session.execute(update(case_steps).where(
            (case_steps.c.case_id == event.case_id) & (case_steps.c.status == StepStatus.pending.value))
            .values(status=StepStatus.cancelled.value))
    # reports arrive in any order: the case finished when its latest step did
    finished_at = max([event.occurred_at] + [_aware(s["finished_at"]) for s in steps if s["finished_at"]])
    finished = CaseFinished(matter=case["matter"], owner=case["owner"], status=status, outputs=outputs,
                            reasons=reasons, finished_at=finished_at)
    announced = new_event("case.rejected" if status == CaseStatus.rejected else "case.completed", finished,
                          case_id=event.case_id, causation=event)
    uow.announce(announced)
    uow.append(case_timeline,
        case_id=event.case_id, at=max(announced.occurred_at, event.occurred_at), event_type=announced.event_type,
        event_id=str(announced.event_id), summary=record.finished_summary(status.value))
    return {"finished_at": finished_at, "outputs": outputs, "reasons": reasons}


class StepNotReported(Exception):
    """A notice about a step whose own report has not been folded yet; retried until it has."""


def note(uow: UnitOfWork, event: Envelope) -> None:
    """A notice about a step that already reported (events.NOTICE_EVENTS): the timeline shows it,
    and outputs it restates replace the step's, and the case's combined outputs once finished."""
    if event.event_type not in NOTICE_EVENTS or not uow.first_time(event, "note", lock=event.case_id):
        return
    case, steps = case_and_steps(uow, event.case_id)
    notice = NOTICE_EVENTS[event.event_type].model_validate(event.data)
    step = next((s for s in steps if s["step"] == notice.step), None)
    if notice.outputs is not None and step is not None:
        if step["status"] in (StepStatus.pending, StepStatus.in_progress):
            raise StepNotReported(f"{event.case_id} {notice.step} is still {step['status']}")
        uow.session.execute(update(case_steps).where(
            (case_steps.c.case_id == event.case_id) & (case_steps.c.step == notice.step)).values(outputs=notice.outputs))
        if case["finished_at"] is not None:
            outputs = record.combined_outputs(
                (s["step"], s["status"], notice.outputs if s["step"] == notice.step else s["outputs"]) for s in steps)
            uow.session.execute(update(cases).where(cases.c.case_id == event.case_id).values(outputs=outputs))
    uow.append(case_timeline,
        case_id=event.case_id, at=event.occurred_at, event_type=event.event_type, event_id=str(event.event_id),
        summary=notice.summary[:1000])


def stall(uow: UnitOfWork, event: Envelope) -> None:
    """A department dead-lettered an event of the case (its steps not yet ended stall, with the
    reason), or a replay of it was handled (they go on)."""
    if event.event_type not in DEAD_LETTER_EVENTS or not uow.first_time(event, "stall", lock=event.case_id):
        return
    if uow.session.execute(select(cases.c.case_id).where(cases.c.case_id == event.case_id)).first() is None:
        raise CaseNotFound(event.case_id)
    department = event.source
    data = DEAD_LETTER_EVENTS[event.event_type].model_validate(event.data)
    ours = (case_steps.c.case_id == event.case_id) & (case_steps.c.department == department)
    if isinstance(data, EventDeadLettered):
        uow.session.execute(update(case_steps).where(
            ours & case_steps.c.status.not_in([s.value for s in FINAL_STEP_STATUSES])).values(
            stalled_by=data.dead_letter_id, stalled_reason=f"{data.kind}: {data.reason}"[:2000]))
        summary = record.stalled_summary(department, replayed=False)
    else:
        uow.session.execute(update(case_steps).where(ours & (case_steps.c.stalled_by == data.dead_letter_id)).values(
            stalled_by=None, stalled_reason=None))
        summary = record.stalled_summary(department, replayed=True)
    uow.append(case_timeline,
        case_id=event.case_id, at=event.occurred_at, event_type=event.event_type, event_id=str(event.event_id),
        summary=summary[:1000])


def case_record(session, case_id: str, owner: str | None = None) -> dict[str, Any]:
    """The record as the API shows it. `owner` set: only that applicant's case."""
    query = select(cases).where(cases.c.case_id == case_id)
    if owner is not None:
        query = query.where(cases.c.owner == owner)
    case = session.execute(query).mappings().first()
    if case is None:
        raise CaseNotFound(case_id)
    steps = session.execute(select(case_steps).where(case_steps.c.case_id == case_id)
                            .order_by(case_steps.c.position)).mappings().all()
    timeline = session.execute(select(case_timeline).where(case_timeline.c.case_id == case_id)
                               .order_by(case_timeline.c.at, case_timeline.c.id)).mappings().all()
    pauses: dict[str, list] = {}
    for p in session.execute(select(case_pauses).where(case_pauses.c.case_id == case_id)
                             .order_by(case_pauses.c.paused_at)).mappings():
        pauses.setdefault(p["step"], []).append((_aware(p["paused_at"]), _aware(p["resumed_at"])))
    outputs = case["outputs"] or record.combined_outputs((s["step"], s["status"], s["outputs"]) for s in steps)
    return {
        "case_id": case["case_id"], "matter": case["matter"],
        # a stalled step is work in progress, whatever the case had reached before
        "status": CaseStatus.in_progress.value if case["status"] == CaseStatus.submitted and any(
            s["stalled_by"] for s in steps) else case["status"],
        "submitted_at": _iso(case["submitted_at"]), "finished_at": _iso(case["finished_at"]),
        "steps": [{"step": s["step"], "department": s["department"], "status": s["status"], "after": s["after"],
                   "deadline": _aware(s["deadline"]).astimezone(CHINA).isoformat() if s["deadline"] else None,
                   "outputs": s["outputs"], "reasons": s["reasons"],
                   "overdue": s["overdue_announced_at"] is not None, "decided_by": s["decided_by"],
                   "paused_at": _iso(s["paused_at"]), "materials_due": _iso(s["materials_due"]),
                   **_stalled(s), **_step_limits(s, pauses.get(s["step"], []))} for s in steps],
        "outputs": outputs, "reasons": case["reasons"],
        "timeline": [{"at": _iso(t["at"]), "event_type": t["event_type"], "summary": t["summary"]} for t in timeline],
        "withdrawal": record.withdrawal_state((t["event_type"], _iso(t["at"]), t["summary"]) for t in timeline),
        **_case_limit(case, [p for ps in pauses.values() for p in ps]),
    }


def _step_limits(step, pauses: list) -> dict[str, Any]:
    """Both limits of a step and whether each was kept, once it was decided (补正 excluded)."""
    started = _aware(step["started_at"]) if step["started_at"] else None
    decided = step["status"] in (StepStatus.completed.value, StepStatus.rejected.value) and step["finished_at"]
    finished = _aware(step["finished_at"]) if decided else None
    legal_deadline = limits.due(started, step["legal_days"], pauses) if started and step["legal_days"] else None
    return {"promised_days": step["promised_days"], "legal_days": step["legal_days"],
            "legal_deadline": legal_deadline.astimezone(CHINA).isoformat() if legal_deadline else None,
            "promised_kept": finished <= _aware(step["deadline"]) if finished and step["deadline"] else None,
            "legal_kept": limits.kept(limits.net_working_time(started, finished, pauses)
                                      if finished and started else None, step["legal_days"]),
            "paused_working_hours": round(limits.hours(limits.total_paused(pauses)), 3)}


def _case_limit(case, pauses: list) -> dict[str, Any]:
    """The matter's promised limit end to end (企业开办: one working day), where it ends with the
    pauses, how long the case took in working hours and whether it kept the limit."""
    submitted, days = _aware(case["submitted_at"]), case["promised_days"]
    finished = _aware(case["finished_at"]) if case["finished_at"] and case["status"] != CaseStatus.withdrawn else None
    took = limits.net_working_time(submitted, finished, pauses) if finished else None
    deadline = limits.due(submitted, days, pauses) if days else None
    return {"promised_days": days, "promised_deadline": deadline.astimezone(CHINA).isoformat() if deadline else None,
            "working_hours": round(limits.hours(took), 3) if took is not None else None,
            "paused_working_hours": round(limits.hours(limits.total_paused(pauses)), 3),
            "promised_kept": limits.kept(took, days)}


def case_list(session, owner: str, status: str | None, limit: int, after: str | None) -> dict[str, Any]:
    """The owner's cases, newest first; `after` is the last case_id of the previous page."""
    limit = max(1, min(int(limit), 100))
    query = select(cases.c.case_id, cases.c.matter, cases.c.status, cases.c.submitted_at, cases.c.finished_at
                   ).where(cases.c.owner == owner).order_by(cases.c.case_id.desc()).limit(limit + 1)
    if status:
        query = query.where(cases.c.status == status)
    if after:
        query = query.where(cases.c.case_id < after)
    rows = session.execute(query).mappings().all()
    items = [{**row, "submitted_at": _iso(row["submitted_at"]), "finished_at": _iso(row["finished_at"])}
             for row in rows[:limit]]
    return {"items": items, "next": items[-1]["case_id"] if len(rows) > limit else None}


def _stalled(step) -> dict[str, Any]:
    if not step["stalled_by"]:
        return {"stalled": False, "stalled_reason": None}
    status = StepStatus.in_progress.value if step["status"] == StepStatus.pending else step["status"]
    return {"status": status, "stalled": True, "stalled_reason": step["stalled_reason"]}


def _aware(value: datetime) -> datetime:
    # SQLite drops the zone; everything is stored in UTC
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _iso(value: datetime | None) -> str | None:
    return None if value is None else _aware(value).isoformat()


__all__ = ["submit", "fold", "note", "stall", "case_record", "case_list", "IdempotencyConflict", "CaseNotFound", "InvalidApplication"]
