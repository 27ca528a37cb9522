"""What an applicant does to a case after submitting it, as plain functions over a unit of work:
hand in corrections or missing materials (补正, 容缺), and withdraw it (撤回). Each is stored and
announced in one transaction; the departments do the rest. A withdrawal of a matter with a point
of no return (`Matter.pivot`) is a request: the pivot's department answers it, and only its
acceptance withdraws the case."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import select, update
from yjs_contracts.api import (APPLICATION_MODELS, CaseStatus, ErrorDetail, InvalidApplication, Reason,
                               SupplementField, SupplementMaterial, Supplements, validation_details)
from yjs_contracts.envelope import Envelope, new_event
from yjs_contracts.events import (WITHDRAWAL_ANSWERS, CaseWithdrawn, SupplementProvided, WithdrawalAnswered,
                                  WithdrawalRequested)
from yjs_contracts.plans import MATTERS
from yjs_contracts.steps import STEP_KINDS, StepStatus, department_of
from yjs_kit.uow import UnitOfWork

from . import record
from .cases import CaseNotFound, _aware, resume_clock
from .models import case_steps, case_timeline, cases

log = structlog.get_logger(__name__)


class CaseEnded(Exception):
    """The case has already ended: there is nothing left to withdraw."""


class WithdrawalRefused(Exception):
    """The record already shows the matter's point of no return passed: the case can no longer
    be withdrawn (the message says why, in words the applicant reads)."""


class NothingToSupplement(Exception):
    """No step of the case waits for the applicant, and no materials are outstanding."""


class FieldNotRequested(InvalidApplication):
    """A supplement changes a field or hands in a material the open notice did not ask for."""


#: per matter, what a withdrawal refused at once says (the pivot is declared in the plans)
REFUSALS = {
    "establishment": "企业已登记成立，不能撤回设立申请；如需关闭企业，请申请注销",
    "licensing": "许可证已核发，不能撤回申请；如需注销许可，请另行申请",
    "deregistration": "企业已注销登记，不能撤回注销申请",
    "change": "变更已登记，不能撤回变更申请；如需改回，请另行申请变更",
}


def _case(uow: UnitOfWork, case_id: str, owner: str):
    uow.lock(case_id)
    case = uow.session.execute(select(cases).where((cases.c.case_id == case_id) & (cases.c.owner == owner))
                               ).mappings().first()
    if case is None:
        raise CaseNotFound(case_id)
    steps = uow.session.execute(select(case_steps).where(case_steps.c.case_id == case_id)
                                .order_by(case_steps.c.position)).mappings().all()
    return case, steps


def supplement(uow: UnitOfWork, case_id: str, owner: str, body: dict[str, Any]) -> dict[str, Any]:
    """补正: the corrections the one notice asked for, and/or materials a 容缺受理 left
    outstanding. The corrected application must still be valid; the waiting steps' clocks run
    again, their deadlines moved by the working time they waited; case.supplement_provided
    carries the application as it now stands to every department."""
    try:
        items = Supplements.model_validate(body).items
    except ValidationError as error:
        raise InvalidApplication(validation_details(error)) from None
    case, steps = _case(uow, case_id, owner)
    if case["status"] == CaseStatus.withdrawn:
        raise NothingToSupplement(f"case {case_id} was withdrawn")
    waiting = [s for s in steps if s["status"] == StepStatus.awaiting_applicant]
    materials_due = [s for s in steps if s["status"] == StepStatus.completed and s["materials_due"] is not None]
    fields = [(i, item) for i, item in enumerate(items) if isinstance(item, SupplementField)]
    if not waiting and not (materials_due and not fields):
        raise NothingToSupplement(f"case {case_id}: no step waits for corrections"
                                  + ("" if not materials_due else " (only materials may be handed in)"))
    # only what the notice named: a 补正 is no second chance to change what the rules decided on
    asked_fields, asked_materials = record.requested(
        [r for s in waiting for r in s["reasons"]] + [r for s in materials_due for r in s["reasons"]])
    refused = record.unrequested(
        [("field", item.field) if isinstance(item, SupplementField) else ("material", item.material) for item in items],
        asked_fields, asked_materials)
    if refused:
        raise FieldNotRequested([ErrorDetail(field=name, reason="the 补正 notice did not ask for this")
                                 for name in refused])
    application, unknown = record.supplemented(case["application"], ((item.field, item.value) for _, item in fields))
    details = [ErrorDetail(field=f"items.{i}.field", reason=f"no such place in the application: {item.field}")
               for i, item in fields if item.field in unknown]
    if details:
        raise InvalidApplication(details)
    try:
        application = APPLICATION_MODELS[case["matter"]].model_validate(application).model_dump(mode="json")
    except ValidationError as error:
        raise InvalidApplication(validation_details(error, "application")) from None
    now = datetime.now(timezone.utc)
    revision = case["revision"] + 1
    uow.session.execute(update(cases).where(cases.c.case_id == case_id).values(
        application=application, revision=revision))
    for step in waiting:
        if step["paused_at"] is not None:
            resume_clock(uow, case_id, steps, step["step"], _aware(step["paused_at"]), now)
            uow.session.execute(update(case_steps).where(
                (case_steps.c.case_id == case_id) & (case_steps.c.step == step["step"])).values(paused_at=None))
    event = new_event("case.supplement_provided", SupplementProvided(
        items=items, application=application, revision=revision, supplied_at=now), case_id=case_id)
    materials = [item.material for item in items if isinstance(item, SupplementMaterial)]
    uow.append(case_timeline,
        case_id=case_id, at=now, event_type=event.event_type, event_id=str(event.event_id),
        summary=record.supplement_summary(len(fields), materials)[:1000])
    uow.announce(event)
    return {"case_id": case_id, "status": case["status"], "revision": revision,
            "resumed": [s["step"] for s in waiting]}


def withdraw(uow: UnitOfWork, case_id: str, owner: str, reason: str) -> dict[str, Any]:
    """撤回 of a case that has not ended. Where the matter has a point of no return in the plan,
    its department decides: refused here only when the record already shows the pivot completed,
    else case.withdrawal_requested is announced and the answer comes on the record. Without one,
    the case ends `withdrawn` at once. A request not yet answered is not asked again."""
    case, steps = _case(uow, case_id, owner)
    if CaseStatus(case["status"]) in record.FINAL_CASE_STATUSES:
        raise CaseEnded(f"case {case_id} has already ended ({case['status']})")
    pivot = MATTERS[case["matter"]].pivot
    pending = (_withdrawal(uow, case_id) or {}).get("status") == "requested"
    route = record.withdrawal_route(pivot, {s["step"]: s["status"] for s in steps}, pending)
    if route == record.REFUSED_NOW:
        raise WithdrawalRefused(REFUSALS.get(case["matter"]) or f"{STEP_KINDS[pivot].title}已办结，申请不能撤回")
    if route == record.AT_ONCE:
        now = _withdraw_now(uow, case, steps, reason)
        return {"case_id": case_id, "status": "withdrawn", "withdrawn_at": now.isoformat(), "matter": case["matter"],
                "withdrawal": _withdrawal(uow, case_id)}
    if route == record.ASK:
        now = datetime.now(timezone.utc)
        event = new_event("case.withdrawal_requested", WithdrawalRequested(
            matter=case["matter"], owner=owner, reason=reason, pivot=pivot, requested_at=now), case_id=case_id)
        uow.append(case_timeline,
            case_id=case_id, at=now, event_type=event.event_type, event_id=str(event.event_id),
            summary=record.withdrawal_request_summary(reason)[:1000])
        uow.announce(event)
    return {"case_id": case_id, "status": case["status"], "withdrawn_at": None, "matter": None,
            "withdrawal": _withdrawal(uow, case_id)}


def answer_withdrawal(uow: UnitOfWork, event: Envelope) -> str | None:
    """The pivot's department answered a withdrawal request: accepted, the case is withdrawn (if
    it has not ended meanwhile) and every department undoes what it started; refused, the record
    says why and the case goes on. Returns the matter of a case withdrawn now; a redelivered
    answer changes nothing."""
    if event.case_id is None or not uow.first_time(event, "withdrawal"):
        return None
    answer = WithdrawalAnswered.model_validate(event.data)
    accepted = event.event_type.endswith("_accepted")
    uow.lock(event.case_id)
    case = uow.session.execute(select(cases).where(cases.c.case_id == event.case_id)).mappings().first()
    if case is None or MATTERS[case["matter"]].pivot != answer.pivot or department_of(answer.pivot) != event.producer:
        log.warning("a withdrawal answer from no pivot of this case: ignored", producer=event.producer)
        return None
    now = datetime.now(timezone.utc)
    summary = ("撤回申请已获同意" if accepted
               else record.withdrawal_refusal_summary([r.message for r in answer.reasons]))
    uow.append(case_timeline,
        case_id=event.case_id, at=now, event_type=event.event_type, event_id=str(event.event_id),
        summary=summary[:1000])
    if not accepted or CaseStatus(case["status"]) in record.FINAL_CASE_STATUSES:
        return None
    steps = uow.session.execute(select(case_steps).where(case_steps.c.case_id == event.case_id)
                                .order_by(case_steps.c.position)).mappings().all()
    _withdraw_now(uow, case, steps, answer.withdrawal_reason, event)
    return case["matter"]


def _withdrawal(uow: UnitOfWork, case_id: str) -> dict[str, Any] | None:
    uow.flush()  # the timeline as this transaction left it, lines appended to it included
    rows = uow.session.execute(select(case_timeline.c.event_type, case_timeline.c.at, case_timeline.c.summary)
                               .where(case_timeline.c.case_id == case_id)
                               .order_by(case_timeline.c.at, case_timeline.c.id)).all()
    return record.withdrawal_state((t, _aware(at).isoformat(), summary) for t, at, summary in rows)


def _withdraw_now(uow: UnitOfWork, case, steps, reason: str, cause: Envelope | None = None) -> datetime:
    """The case ends `withdrawn`; steps not started are cancelled here, and every department
    cancels or undoes the steps it started, each announced."""
    case_id, now = case["case_id"], datetime.now(timezone.utc)
    reasons = [Reason(code="case_withdrawn", message=f"申请人撤回申请：{reason}").model_dump()]
    uow.session.execute(update(cases).where(cases.c.case_id == case_id).values(
        status=CaseStatus.withdrawn.value, finished_at=now, reasons=reasons))
    uow.session.execute(update(case_steps).where(
        (case_steps.c.case_id == case_id) & (case_steps.c.status == StepStatus.pending.value)).values(
        status=StepStatus.cancelled.value, finished_at=now))
    event = new_event("case.withdrawn", CaseWithdrawn(
        matter=case["matter"], owner=case["owner"], reason=reason, steps=[s["step"] for s in steps],
        withdrawn_at=now), case_id=case_id, causation=cause)
    uow.append(case_timeline,
        case_id=case_id, at=now, event_type=event.event_type, event_id=str(event.event_id),
        summary=record.withdrawal_summary(reason)[:1000])
    uow.announce(event)
    return now


#: the answers the case service hears
WITHDRAWAL_ANSWER_EVENTS = frozenset(WITHDRAWAL_ANSWERS)
