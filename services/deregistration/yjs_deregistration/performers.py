"""Deregistration's steps: what happens when a case reaches them, and what a withdrawal undoes.
The notice and the liquidation report end later (the timer, an objection, the applicant): see
notices.py."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update
from yjs_contracts.api import ChangeApplication, DeregistrationApplication
from yjs_contracts.events import (DeregistrationAccepted, LiquidationReportAccepted, NoticePublished, StepReport,
                                  step_report)
from yjs_contracts.plans import CHINA
from yjs_contracts.steps import StepStatus
from yjs_kit.consumer import not_yet
from yjs_kit.steps import StepWork

from . import config, facts, rules
from .models import deregistrations, notices


def accept(work: StepWork) -> StepReport:
    """注销受理: the enterprise is on the register, not closed nor closing, owes no tax (as tax
    announced it), and the route's conditions hold; otherwise every reason at once."""
    app = DeregistrationApplication.model_validate(work.application)
    work.uow.lock(f"deregistration:{app.uscc}")  # two applications for one enterprise: one at a time
    standing, name = facts.standing(work.session, app.uscc)
    if standing.status is None:  # registration vouched for it at the gateway: its announcement is on its way
        not_yet(f"enterprise {app.uscc} not announced by registration yet")
    reasons = rules.eligibility_reasons(app, standing)
    now = datetime.now(timezone.utc)
    work.session.execute(deregistrations.insert().values(
        case_id=work.case_id, uscc=app.uscc, route=app.route, status="refused" if reasons else "in_progress",
        reasons=[r.model_dump() for r in reasons],
        liquidation_group=[m.model_dump() for m in app.liquidation_group], applied_at=now,
        finished_at=now if reasons else None))
    if reasons:
        return step_report(work.step, StepStatus.rejected, reasons=reasons)
    return step_report(work.step, StepStatus.completed, DeregistrationAccepted(
        uscc=app.uscc, enterprise_name=name, route=app.route, accepted_at=now))


def publish_notice(work: StepWork) -> StepReport:
    """简易注销公告 (anyone may object while it runs), or for 一般注销 the 清算组 filed and its
    债权人公告 published. It ends when its period has run (notices.end_due_notices)."""
    accepted = DeregistrationAccepted.model_validate(work.facts["deregistration.accept"])
    now = datetime.now(timezone.utc)
    day = now.astimezone(CHINA).date()
    published = NoticePublished(
        notice_id=rules.notice_id(day, work.uow.next_number(f"notice:{day:%Y%m%d}")), route=accepted.route,
        starts_at=now, ends_at=rules.notice_ends_at(now, accepted.route, config.notice_periods()),
        liquidation_group_filed_at=now if accepted.route == "general" else None)
    work.session.execute(notices.insert().values(
        **published.model_dump(), case_id=work.case_id, uscc=accepted.uscc,
        enterprise_name=accepted.enterprise_name, status="running"))
    return step_report(work.step, StepStatus.in_progress, published)


def publish_reduction_notice(work: StepWork) -> StepReport:
    """减资公告 of a change reducing the capital, on the same public list: creditors may object
    while it runs (45 days); when it ends, registration records the reduction, its staff first
    weighing any objection (notices.end_notice)."""
    app = ChangeApplication.model_validate(work.application)
    _, name = facts.standing(work.session, app.uscc)
    now = datetime.now(timezone.utc)
    day = now.astimezone(CHINA).date()
    published = NoticePublished(
        notice_id=rules.notice_id(day, work.uow.next_number(f"notice:{day:%Y%m%d}"), "reduction"), route="reduction",
        starts_at=now, ends_at=rules.notice_ends_at(now, "reduction", config.notice_periods()))
    work.session.execute(notices.insert().values(
        **published.model_dump(), case_id=work.case_id, uscc=app.uscc, enterprise_name=name or app.uscc,
        status="running"))
    return step_report(work.step, StepStatus.in_progress, published)


def await_liquidation_report(work: StepWork) -> StepReport:
    """一般注销, after the creditors' claim period: the applicant files the liquidation report
    (notices.submit_liquidation_report); already filed, it is accepted at once."""
    filed = work.session.execute(select(deregistrations.c.report_approved_on, deregistrations.c.report_submitted_at)
                                 .where(deregistrations.c.case_id == work.case_id)).first()
    if filed is not None and filed.report_submitted_at is not None:
        return step_report(work.step, StepStatus.completed, LiquidationReportAccepted(
            approved_on=filed.report_approved_on, submitted_at=filed.report_submitted_at))
    return step_report(work.step, StepStatus.awaiting_applicant, reasons=[rules.liquidation_report_required()])


def release(work: StepWork) -> None:
    """The case was withdrawn: the application no longer counts as in progress."""
    work.session.execute(update(deregistrations).where(
        (deregistrations.c.case_id == work.case_id) & deregistrations.c.finished_at.is_(None)).values(
        status="withdrawn", finished_at=datetime.now(timezone.utc)))


def take_down(work: StepWork) -> None:
    """The case was withdrawn: its notice no longer runs nor takes objections."""
    work.session.execute(update(notices).where((notices.c.case_id == work.case_id) & (notices.c.status == "running"))
                         .values(status="cancelled", closed_at=datetime.now(timezone.utc)))


COMPENSATORS = {"deregistration.accept": release, "deregistration.notice": take_down,
                "deregistration.reduction_notice": take_down}

PERFORMERS = {
    "deregistration.accept": accept,
    "deregistration.notice": publish_notice,
    "deregistration.liquidation_report": await_liquidation_report,
    "deregistration.reduction_notice": publish_reduction_notice,
}
