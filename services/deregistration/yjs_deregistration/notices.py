"""What happens to a notice after it is published, as plain functions over a unit of work: it
ends when its period has run, an objection ends it early, the applicant files the liquidation
report, and the case ending otherwise cancels what can no longer happen. Each later outcome of
a step is concluded by the step tracker (`StepTracker.report`: the case's lock, the fact kept,
what became ready started, nothing on a withdrawn case), in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update
from yjs_contracts.api import LiquidationReport, Objection
from yjs_contracts.envelope import Envelope
from yjs_contracts.events import LiquidationReportAccepted, NoticePeriodEnded, ReductionNoticeEnded, step_report
from yjs_contracts.plans import CHINA
from yjs_contracts.steps import StepStatus
from yjs_kit.steps import CaseClosed, StepTracker
from yjs_kit.timers import not_parked
from yjs_kit.uow import UnitOfWork

from . import rules
from .models import deregistrations, notices, objections

NOTICE, REPORT = "deregistration.notice", "deregistration.liquidation_report"
REDUCTION = "deregistration.reduction_notice"  # 减资公告 of a change


def notice_step(route: str) -> str:
    return REDUCTION if route == "reduction" else NOTICE
NOTICE_TIMER = "end_due_notices"


class NoticeNotFound(LookupError):
    pass


class NoticeClosed(Exception):
    """The notice is no longer running: its period ended, it was objected to or cancelled."""


class ObjectionsNotAccepted(Exception):
    """A creditor notice (一般注销) takes claims filed with the liquidation group, not objections."""


class DeregistrationNotFound(LookupError):
    pass


class LiquidationReportRefused(Exception):
    """The report cannot be filed now; the message says why."""


def due_notices(database, now: datetime, batch: int = 100) -> list[str]:
    """The running notices whose period is over, oldest first, the parked ones left out."""
    query = (select(notices.c.notice_id).where(
        (notices.c.status == "running") & (notices.c.ends_at <= now)
        & not_parked(NOTICE_TIMER, notices.c.notice_id, database.metadata))
        .order_by(notices.c.ends_at).limit(batch))
    with database.engine.connect() as connection:
        return list(connection.execute(query).scalars())


def end_notice(uow: UnitOfWork, steps: StepTracker, notice_id: str, now: datetime) -> str | None:
    """A notice whose period is over ends, once: under its case's lock, only a notice still
    running is ended (another replica may have got there). On a withdrawn case it is taken
    down instead. Returns the notice ended, or None."""
    case_id = uow.session.execute(select(notices.c.case_id).where(notices.c.notice_id == notice_id)).scalar()
    uow.lock(case_id)
    notice = uow.session.execute(select(notices).where(
        (notices.c.notice_id == notice_id) & (notices.c.status == "running"))).mappings().first()
    if notice is None:
        return None
    # ended before the report: the liquidation report step it makes ready may start at once
    uow.session.execute(update(notices).where(notices.c.notice_id == notice_id).values(status="ended", closed_at=now))
    if notice["route"] == "reduction":  # the creditors' objections go on to registration staff
        raised = uow.session.execute(select(objections.c.objection_id, objections.c.name, objections.c.reason).where(
            objections.c.notice_id == notice_id).order_by(objections.c.objection_id)).mappings().all()
        report = step_report(REDUCTION, StepStatus.completed, ReductionNoticeEnded(
            notice_id=notice_id, starts_at=_aware(notice["starts_at"]), ends_at=_aware(notice["ends_at"]), ended_at=now,
            objections=[dict(o) for o in raised]))
    else:
        filed = notice["liquidation_group_filed_at"]
        report = step_report(NOTICE, StepStatus.completed, NoticePeriodEnded(
            notice_id=notice_id, route=notice["route"], starts_at=_aware(notice["starts_at"]),
            ends_at=_aware(notice["ends_at"]), liquidation_group_filed_at=filed and _aware(filed), ended_at=now))
    try:
        steps.report(uow, case_id, report)
    except CaseClosed:  # withdrawn: the notice is taken down, nothing announced
        uow.session.execute(update(notices).where(notices.c.notice_id == notice_id).values(status="cancelled"))
        return None
    return notice_id


def raise_objection(uow: UnitOfWork, steps: StepTracker, notice_id: str, objection: Objection) -> dict[str, Any]:
    """异议: ends a running 简易注销 notice; the notice step is rejected with the objection as
    its reason, so the case is rejected and the registration is never cancelled."""
    now = datetime.now(timezone.utc)
    case_id = uow.session.execute(select(notices.c.case_id).where(notices.c.notice_id == notice_id)).scalar()
    if case_id is None:
        raise NoticeNotFound(f"no such notice {notice_id}")
    uow.lock(case_id)  # the case's lock first, as every handler of the case takes it
    notice = uow.session.execute(select(notices).where(notices.c.notice_id == notice_id)).mappings().one()
    if notice["route"] == "general":
        raise ObjectionsNotAccepted("一般注销的债权人公告期间，债权人应向清算组申报债权，不受理异议")
    if notice["status"] != "running" or _aware(notice["ends_at"]) <= now:
        raise NoticeClosed(f"公告 {notice_id} 已结束，不再受理异议")
    if notice["route"] == "reduction":  # recorded; the notice runs on, and registration staff weigh it at its end
        return _record_objection(uow, notice_id, objection, now)
    report = step_report(NOTICE, StepStatus.rejected, reasons=[rules.objection_reason(objection.name, objection.reason)])
    try:
        steps.report(uow, case_id, report)
    except CaseClosed:
        raise NoticeClosed(f"公告 {notice_id} 已撤回，不再受理异议") from None
    uow.session.execute(update(notices).where(notices.c.notice_id == notice_id).values(
        status="objected", closed_at=now))
    answer = _record_objection(uow, notice_id, objection, now)
    uow.session.execute(update(deregistrations).where(deregistrations.c.case_id == notice["case_id"]).values(
        status="objected", finished_at=now))
    return answer


def _record_objection(uow: UnitOfWork, notice_id: str, objection: Objection, now: datetime) -> dict[str, Any]:
    day = now.astimezone(CHINA).date()
    objection_id = rules.objection_id(day, uow.next_number(f"objection:{day:%Y%m%d}"))
    uow.session.execute(objections.insert().values(
        objection_id=objection_id, notice_id=notice_id, raised_at=now, **objection.model_dump()))
    return {"objection_id": objection_id, "notice_id": notice_id, "status": "accepted"}


def submit_liquidation_report(uow: UnitOfWork, steps: StepTracker, case_id: str,
                              filed: LiquidationReport, applicant: str) -> dict[str, Any]:
    """清算报告 of a 一般注销, filed by the case's own applicant once the creditor notice has
    ended. Its step is completed now if it is waiting for the report, or as soon as it starts."""
    uow.lock(case_id)  # the same lock the step tracker holds while it starts the step
    row = uow.session.execute(select(deregistrations).where(deregistrations.c.case_id == case_id)).mappings().first()
    # someone else's case is answered as no case at all: nothing of it is told
    if row is None or steps.applicant_of(uow, case_id) != applicant:
        raise DeregistrationNotFound(f"no deregistration in case {case_id}")
    notice = uow.session.execute(select(notices.c.status).where(notices.c.case_id == case_id)).first()
    if row["route"] != "general":
        raise LiquidationReportRefused("简易注销无需提交清算报告")
    if row["status"] != "in_progress":
        raise LiquidationReportRefused(f"该注销申请已结束（{row['status']}）")
    if row["report_submitted_at"] is not None:
        raise LiquidationReportRefused("清算报告已提交")
    if notice is None or notice.status != "ended":
        raise LiquidationReportRefused("债权人公告期（债权申报期）届满后方可提交清算报告")
    now = datetime.now(timezone.utc)
    uow.session.execute(update(deregistrations).where(deregistrations.c.case_id == case_id).values(
        liquidation_report=filed.report, report_approved_on=filed.approved_on, report_submitted_at=now))
    kit_steps = uow.tables["kit_steps"]
    waiting = uow.session.execute(select(kit_steps.c.status).where(
        (kit_steps.c.case_id == case_id) & (kit_steps.c.step == REPORT))).scalar()
    if waiting == StepStatus.awaiting_applicant:
        outputs = LiquidationReportAccepted(approved_on=filed.approved_on, submitted_at=now)
        try:
            steps.report(uow, case_id, step_report(REPORT, StepStatus.completed, outputs))
        except CaseClosed:
            raise LiquidationReportRefused("该注销申请已撤回") from None
    return {"case_id": case_id, "status": "accepted"}


#: how a case ends, by the case service's event (a withdrawal is undone by the step tracker)
CASE_ENDS = {"case.completed": "completed", "case.rejected": "rejected"}


def case_finished(uow: UnitOfWork, steps: StepTracker, event: Envelope) -> None:
    """case.completed / case.rejected: the deregistration is over; a notice still running
    (another department refused) is taken down and a report no longer awaited."""
    row = uow.session.execute(select(deregistrations.c.finished_at).where(
        deregistrations.c.case_id == event.case_id)).first()
    route = uow.session.execute(select(notices.c.route).where(notices.c.case_id == event.case_id)).scalar()
    if row is None and route != "reduction":
        return  # not a deregistration we accepted or refused, nor a reduction we announced
    uow.lock(event.case_id)
    if row is not None and row.finished_at is None:
        uow.session.execute(update(deregistrations).where(deregistrations.c.case_id == event.case_id).values(
            # a case.completed may say it was only partly done (partially_completed)
            status=event.data.get("status") or CASE_ENDS[event.event_type], finished_at=event.occurred_at))
    withdrawn = uow.session.execute(update(notices).where(
        (notices.c.case_id == event.case_id) & (notices.c.status == "running")).values(
        status="cancelled", closed_at=event.occurred_at)).rowcount
    ended = [step_report(notice_step(route), StepStatus.cancelled)] if withdrawn else []
    kit_steps = uow.tables["kit_steps"]
    waiting = uow.session.execute(select(kit_steps.c.status).where(
        (kit_steps.c.case_id == event.case_id) & (kit_steps.c.step == REPORT))).scalar()
    if waiting == StepStatus.awaiting_applicant:
        ended.append(step_report(REPORT, StepStatus.cancelled))
    for report in ended:
        try:
            steps.report(uow, event.case_id, report, event)
        except CaseClosed:
            return  # withdrawn: the tracker's withdrawal already cancelled what it held


def open_notices(session, uscc: str | None, limit: int, after: str | None) -> dict[str, Any]:
    """Notices still running, oldest first; `after` is the last notice_id of the previous page."""
    limit = max(1, min(int(limit), 200))
    query = (select(notices.c.notice_id, notices.c.uscc, notices.c.enterprise_name, notices.c.route,
                    notices.c.starts_at, notices.c.ends_at)
             .where((notices.c.status == "running") & (notices.c.ends_at > datetime.now(timezone.utc)))
             .order_by(notices.c.notice_id).limit(limit + 1))
    if uscc:
        query = query.where(notices.c.uscc == uscc)
    if after:
        query = query.where(notices.c.notice_id > after)
    rows = session.execute(query).mappings().all()
    items = [{**row, "starts_at": _aware(row["starts_at"]).isoformat(), "ends_at": _aware(row["ends_at"]).isoformat()}
             for row in rows[:limit]]
    return {"items": items, "next": items[-1]["notice_id"] if len(rows) > limit else None}


def _aware(value: datetime) -> datetime:
    # SQLite drops the zone; everything is stored in UTC
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
