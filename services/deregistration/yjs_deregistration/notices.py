"""What happens to a notice after it is published, as plain functions over a unit of work: it
ends when its period has run, an objection ends it early, the applicant files the liquidation
report, and the case ending otherwise cancels what can no longer happen. Each later outcome of
a step is announced as that step's event, in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update
from yjs_contracts.api import LiquidationReport, Objection
from yjs_contracts.envelope import Envelope, new_event
from yjs_contracts.events import LiquidationReportAccepted, NoticePeriodEnded, StepReport, event_type_for, step_report
from yjs_contracts.plans import CHINA
from yjs_contracts.steps import FINAL_STEP_STATUSES, StepStatus
from yjs_kit.uow import UnitOfWork

from . import rules
from .models import deregistrations, notices, objections

NOTICE, REPORT = "deregistration.notice", "deregistration.liquidation_report"


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


def _announce(uow: UnitOfWork, case_id: str, report: StepReport, causation: Envelope | None = None) -> None:
    """A later outcome of one of our steps: the kit's record of the step follows it, and the
    event continues the case's correlation (kept with the plan) when nothing else caused it."""
    steps, plans = uow.tables["kit_steps"], uow.tables["kit_plans"]
    final = report.status in FINAL_STEP_STATUSES
    uow.session.execute(update(steps).where((steps.c.case_id == case_id) & (steps.c.step == report.step)).values(
        status=report.status.value, finished_at=datetime.now(timezone.utc) if final else None))
    correlation = None if causation else uow.session.execute(
        select(plans.c.correlation_id).where(plans.c.case_id == case_id)).scalar()
    uow.announce(new_event(event_type_for(report), report, case_id=case_id, causation=causation,
                           correlation_id=correlation))


def end_due_notices(uow: UnitOfWork, now: datetime, batch: int = 100) -> list[str]:
    """Every running notice whose period is over ends, once: replicas skip the rows another has
    locked, and only a notice still running is ended. Returns the notices ended."""
    query = (select(notices).where((notices.c.status == "running") & (notices.c.ends_at <= now))
             .order_by(notices.c.ends_at).limit(batch))
    if uow.postgres:
        query = query.with_for_update(skip_locked=True)
    ended = []
    for notice in uow.session.execute(query).mappings().all():
        changed = uow.session.execute(update(notices).where(
            (notices.c.notice_id == notice["notice_id"]) & (notices.c.status == "running")).values(
            status="ended", closed_at=now)).rowcount
        if not changed:
            continue
        filed = notice["liquidation_group_filed_at"]
        outputs = NoticePeriodEnded(
            notice_id=notice["notice_id"], route=notice["route"], starts_at=_aware(notice["starts_at"]),
            ends_at=_aware(notice["ends_at"]), liquidation_group_filed_at=filed and _aware(filed), ended_at=now)
        _announce(uow, notice["case_id"], step_report(NOTICE, StepStatus.completed, outputs))
        ended.append(notice["notice_id"])
    return ended


def raise_objection(uow: UnitOfWork, notice_id: str, objection: Objection) -> dict[str, Any]:
    """异议: ends a running 简易注销 notice; the notice step is rejected with the objection as
    its reason, so the case is rejected and the registration is never cancelled."""
    now = datetime.now(timezone.utc)
    notice = uow.session.execute(select(notices).where(notices.c.notice_id == notice_id)
                                 .with_for_update()).mappings().first()
    if notice is None:
        raise NoticeNotFound(f"no such notice {notice_id}")
    if notice["route"] != "simple":
        raise ObjectionsNotAccepted("一般注销的债权人公告期间，债权人应向清算组申报债权，不受理异议")
    if notice["status"] != "running" or _aware(notice["ends_at"]) <= now:
        raise NoticeClosed(f"公告 {notice_id} 已结束，不再受理异议")
    uow.session.execute(update(notices).where(notices.c.notice_id == notice_id).values(
        status="objected", closed_at=now))
    day = now.astimezone(CHINA).date()
    objection_id = rules.objection_id(day, uow.next_number(f"objection:{day:%Y%m%d}"))
    uow.session.execute(objections.insert().values(
        objection_id=objection_id, notice_id=notice_id, raised_at=now, **objection.model_dump()))
    uow.session.execute(update(deregistrations).where(deregistrations.c.case_id == notice["case_id"]).values(
        status="objected", finished_at=now))
    report = step_report(NOTICE, StepStatus.rejected, reasons=[rules.objection_reason(objection.name, objection.reason)])
    _announce(uow, notice["case_id"], report)
    return {"objection_id": objection_id, "notice_id": notice_id, "status": "accepted"}


def submit_liquidation_report(uow: UnitOfWork, case_id: str, filed: LiquidationReport) -> dict[str, Any]:
    """清算报告 of a 一般注销, once the creditor notice has ended. Its step is completed now if it
    is waiting for the report, or as soon as it starts."""
    uow.lock(case_id)  # the same lock the step tracker holds while it starts the step
    row = uow.session.execute(select(deregistrations).where(deregistrations.c.case_id == case_id)).mappings().first()
    if row is None:
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
    steps = uow.tables["kit_steps"]
    waiting = uow.session.execute(select(steps.c.status).where(
        (steps.c.case_id == case_id) & (steps.c.step == REPORT))).scalar()
    if waiting == StepStatus.awaiting_applicant:
        outputs = LiquidationReportAccepted(approved_on=filed.approved_on, submitted_at=now)
        _announce(uow, case_id, step_report(REPORT, StepStatus.completed, outputs))
    return {"case_id": case_id, "status": "accepted"}


#: how a case ends, by the case service's event (a withdrawal is undone by the step tracker)
CASE_ENDS = {"case.completed": "completed", "case.rejected": "rejected"}


def case_finished(uow: UnitOfWork, event: Envelope) -> None:
    """case.completed / case.rejected: the deregistration is over; a notice still running
    (another department refused) is taken down and a report no longer awaited."""
    row = uow.session.execute(select(deregistrations.c.finished_at).where(
        deregistrations.c.case_id == event.case_id)).first()
    if row is None:
        return  # not a deregistration we accepted or refused
    uow.lock(event.case_id)
    if row.finished_at is None:
        uow.session.execute(update(deregistrations).where(deregistrations.c.case_id == event.case_id).values(
            # a case.completed may say it was only partly done (partially_completed)
            status=event.data.get("status") or CASE_ENDS[event.event_type], finished_at=event.occurred_at))
    withdrawn = uow.session.execute(update(notices).where(
        (notices.c.case_id == event.case_id) & (notices.c.status == "running")).values(
        status="cancelled", closed_at=event.occurred_at)).rowcount
    if withdrawn:
        _announce(uow, event.case_id, step_report(NOTICE, StepStatus.cancelled), causation=event)
    steps = uow.tables["kit_steps"]
    waiting = uow.session.execute(select(steps.c.status).where(
        (steps.c.case_id == event.case_id) & (steps.c.step == REPORT))).scalar()
    if waiting == StepStatus.awaiting_applicant:
        _announce(uow, event.case_id, step_report(REPORT, StepStatus.cancelled), causation=event)


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
