"""What licensing learns from events before its steps run: which enterprises exist (from
registration's announcements, never from registration's database) and which catalogue edition
each of its cases was planned with. Every write is idempotent, so a redelivered event changes
nothing."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from yjs_contracts.catalogue import VERSION
from yjs_contracts.envelope import Envelope
from yjs_contracts.events import CaseSubmitted, StepReport
from yjs_contracts.steps import StepStatus
from yjs_kit.uow import UnitOfWork

from .models import applications, enterprises

DEPARTMENT = "licensing"


def _insert(uow: UnitOfWork, table):
    return (postgresql if uow.postgres else sqlite).insert(table)


def learn(uow: UnitOfWork, event: Envelope) -> None:
    if event.event_type == "case.submitted":
        submitted = CaseSubmitted.model_validate(event.data)
        if event.case_id and any(step.department == DEPARTMENT for step in submitted.plan):
            uow.session.execute(_insert(uow, applications).values(
                case_id=event.case_id, matter=submitted.matter, catalogue_version=submitted.catalogue_version,
                signer=submitted.signer.model_dump(mode="json") if submitted.signer else None,
                received_at=datetime.now(timezone.utc)).on_conflict_do_nothing())
    elif event.event_type == "registration.enterprise_registered":
        report = StepReport.model_validate(event.data)
        if report.status == StepStatus.completed:
            outputs = report.outputs
            # do nothing on conflict: a redelivered registration must not revive a closed enterprise
            uow.session.execute(_insert(uow, enterprises).values(
                uscc=outputs["uscc"], name=outputs["enterprise_name"], status="registered", case_id=event.case_id,
                registered_at=event.occurred_at,
            ).on_conflict_do_nothing())
    elif event.event_type == "registration.establishment_refused":
        report = StepReport.model_validate(event.data)
        if report.undoes:  # 撤销登记: the enterprise the case registered is struck off
            uow.session.execute(update(enterprises).where(
                (enterprises.c.case_id == event.case_id) & (enterprises.c.status == "registered")).values(
                status="revoked", deregistered_at=event.occurred_at))
    elif event.event_type == "registration.enterprise_changed":
        report = StepReport.model_validate(event.data)
        if report.status == StepStatus.completed:  # 变更登记: the next licensing uses the new name
            uow.session.execute(update(enterprises).where(enterprises.c.uscc == report.outputs["uscc"]).values(
                name=report.outputs["enterprise_name"]))
    elif event.event_type == "registration.enterprise_deregistered":
        report = StepReport.model_validate(event.data)
        uscc = report.outputs.get("uscc") or _case_uscc(uow, event.case_id)
        if report.status == StepStatus.completed and uscc:
            mark_deregistered(uow, uscc, report.outputs.get("enterprise_name") or "", event.occurred_at)


def mark_deregistered(uow: UnitOfWork, uscc: str, name: str, at: datetime) -> None:
    uow.session.execute(_insert(uow, enterprises).values(
        uscc=uscc, name=name, status="deregistered", deregistered_at=at).on_conflict_do_update(
        index_elements=["uscc"], set_={"status": "deregistered", "deregistered_at": at}))


def _case_uscc(uow: UnitOfWork, case_id: str | None) -> str | None:
    """The 统一社会信用代码 a deregistration case was filed for, from the plan the kit kept."""
    plans = uow.tables["kit_plans"]
    application = uow.session.execute(select(plans.c.application).where(plans.c.case_id == case_id)).scalar()
    return (application or {}).get("uscc")


def enterprise_status(session, uscc: str) -> str | None:
    return session.execute(select(enterprises.c.status).where(enterprises.c.uscc == uscc)).scalar()


def catalogue_version(uow: UnitOfWork, case_id: str, matter: str) -> str:
    """The edition the case was planned with; a case whose submission predates editions is
    decided with the current one (and keeps it from then on)."""
    version = uow.session.execute(
        select(applications.c.catalogue_version).where(applications.c.case_id == case_id)).scalar()
    if version is None:
        version = VERSION
        uow.session.execute(_insert(uow, applications).values(
            case_id=case_id, matter=matter, catalogue_version=version,
            received_at=datetime.now(timezone.utc)).on_conflict_do_nothing())
    return version


def record_outputs(uow: UnitOfWork, case_id: str, uscc: str, outputs: dict) -> None:
    uow.session.execute(update(applications).where(applications.c.case_id == case_id).values(
        uscc=uscc, outputs=outputs, decided_at=datetime.now(timezone.utc)))
