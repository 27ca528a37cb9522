"""Registration's steps: what happens when a case reaches them."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, select, text, update
from yjs_contracts.api import ChangeApplication, DeregistrationApplication, EstablishmentApplication
from yjs_contracts.codes import make_uscc
from yjs_contracts.events import (EnterpriseChanged, EnterpriseDeregistered, EnterpriseRegistered, StepReport,
                                  step_report)
from yjs_contracts.plans import CHINA
from yjs_contracts.steps import StepStatus
from yjs_kit.steps import StepWork

from . import changes, rules
from .enterprise import keep_principals, legal_representative_id, move_authority
from .models import enterprises, name_reservations

# a name is taken by an enterprise on the register or by another case's hold (名称预留)
NAME_TAKEN = text("SELECT (EXISTS (SELECT 1 FROM enterprises WHERE name_key = :name_key AND status = 'registered')"
                  " OR EXISTS (SELECT 1 FROM name_reservations WHERE name_key = :name_key)) AS taken")


def establish(work: StepWork) -> StepReport:
    """设立登记: check everything; where a registrar must look (review_reasons), hold the name
    and send the case to staff; otherwise, or once staff approve, issue the 统一社会信用代码 and
    the electronic licence."""
    app = EstablishmentApplication.model_validate(work.application)
    now = datetime.now(timezone.utc)
    today = now.astimezone(CHINA).date()
    name, key = app.enterprise.name, rules.name_key(app.enterprise.name)
    work.uow.lock(f"enterprise-name:{key}")  # two cases after one name: one at a time
    reasons = rules.establishment_reasons(app, today)
    # a corrected application may carry another name: the case's old hold goes first
    work.uow.delete(name_reservations, case_id=work.case_id)
    if work.uow.fetch(NAME_TAKEN, {"name_key": key})[0]["taken"]:
        reasons.append(rules.name_taken_reason())
    if reasons:
        return step_report(work.step, StepStatus.rejected, reasons=reasons)
    review = [] if work.approved else rules.review_reasons(app, rules.review_capital_threshold())
    if review:  # 人工审核: the registrar decides; the name is held meanwhile (名称预留)
        work.uow.insert(name_reservations, name=name, name_key=key, case_id=work.case_id, reserved_at=now)
        return step_report(work.step, StepStatus.awaiting_review, reasons=review)
    division = app.enterprise.domicile.division_code
    serial = work.uow.next_number(f"uscc:{division}")
    uscc = make_uscc(division, serial, org_type=rules.org_type(app.enterprise.type))
    licence = rules.licence_number(division, serial)
    work.uow.insert(enterprises,
        uscc=uscc, name=name, name_key=key, licence_number=licence, case_id=work.case_id,
        type=app.enterprise.type.value, division_code=division,
        registered_capital=app.enterprise.registered_capital, legal_representative=app.signatory.name,
        domicile=app.enterprise.domicile.model_dump(mode="json"), business_scope=list(app.enterprise.business_scope),
        shareholders=_dumped(app.shareholders), officers=_dumped(app.officers), status="registered", established_on=today,
        registered_at=now)
    # from registration on, the legal representative acts for the enterprise, whoever filed it
    keep_principals(work.uow, uscc, work.case_id, app, now)
    return step_report(work.step, StepStatus.completed, EnterpriseRegistered(
        uscc=uscc, licence_number=licence, enterprise_name=name, registered_at=now))


def _dumped(people) -> list[dict] | None:
    return None if people is None else [p.model_dump(mode="json") for p in people]


def undo_establishment(work: StepWork) -> None:
    """The case was withdrawn, the registrar refused, or a 容缺 decision was withdrawn: the name
    the case held is free again, and an enterprise it registered is struck off (撤销登记)."""
    work.session.execute(delete(name_reservations).where(name_reservations.c.case_id == work.case_id))
    work.session.execute(update(enterprises).where(
        (enterprises.c.case_id == work.case_id) & (enterprises.c.status == "registered")).values(
        status="revoked", deregistered_at=datetime.now(timezone.utc)))


def deregister(work: StepWork) -> StepReport:
    """注销登记: once the notice has ended without objection and tax is cleared (the plan waits
    for both), the enterprise is struck off and its name is free for a new establishment."""
    app = DeregistrationApplication.model_validate(work.application)
    enterprise = work.session.execute(select(enterprises).where(enterprises.c.uscc == app.uscc)
                                      .with_for_update()).mappings().first()
    reasons = rules.deregistration_reasons(enterprise["status"] if enterprise else None)
    if reasons:
        return step_report(work.step, StepStatus.rejected, reasons=reasons)
    now = datetime.now(timezone.utc)
    work.session.execute(update(enterprises).where(enterprises.c.uscc == app.uscc).values(
        status="deregistered", deregistered_at=now, deregistration_case_id=work.case_id))
    return step_report(work.step, StepStatus.completed, EnterpriseDeregistered(
        uscc=app.uscc, enterprise_name=enterprise["name"], licence_number=enterprise["licence_number"],
        deregistered_at=now))


def change(work: StepWork) -> StepReport:
    """变更登记: every part checked as in an establishment against the enterprise after the change,
    a new name against every other enterprise; then the register says what it now is, under the
    same code and licence number. A new legal representative holds the enterprise's authority
    from now on, and every authorisation the old one gave ends (电子营业执照)."""
    app = ChangeApplication.model_validate(work.application)
    now = datetime.now(timezone.utc)
    if app.changes.name:  # two cases after one name: one at a time
        work.uow.lock(f"enterprise-name:{rules.name_key(app.changes.name.name)}")
    row = work.session.execute(select(enterprises).where(enterprises.c.uscc == app.uscc)
                               .with_for_update()).mappings().first()
    reasons = changes.enterprise_reasons(row["status"] if row else None)
    if reasons:
        return step_report(work.step, StepStatus.rejected, reasons=reasons)
    current = changes.registered(row, legal_representative_id(work.uow, app.uscc))
    reasons = changes.change_reasons(current, app, now.astimezone(CHINA).date())
    if app.changes.name:
        key = rules.name_key(app.changes.name.name)
        taken = work.session.execute(select(enterprises.c.uscc).where(
            (enterprises.c.name_key == key) & (enterprises.c.status == "registered")
            & (enterprises.c.uscc != app.uscc))).first()
        reserved = work.session.execute(select(name_reservations.c.case_id).where(
            name_reservations.c.name_key == key)).first()
        if taken or reserved:
            reasons.append(rules.name_taken_reason("changes.name.name"))
    if reasons:
        return step_report(work.step, StepStatus.rejected, reasons=reasons)
    review = [] if work.approved else changes.objection_reasons(work.facts.get("deregistration.reduction_notice"))
    if review:
        return step_report(work.step, StepStatus.awaiting_review, reasons=review)
    changed, new = changes.changed_fields(current, app), changes.after(current, app)
    work.session.execute(update(enterprises).where(enterprises.c.uscc == app.uscc).values(
        name=new.name, name_key=rules.name_key(new.name), domicile=new.domicile,
        registered_capital=new.registered_capital, legal_representative=new.legal_representative,
        business_scope=list(new.business_scope), changed_at=now,
        shareholders=None if new.shareholders is None else list(new.shareholders),
        officers=None if new.officers is None else list(new.officers)))
    move_authority(work.uow, app.uscc, app, now)
    return step_report(work.step, StepStatus.completed, EnterpriseChanged(
        uscc=app.uscc, licence_number=row["licence_number"], enterprise_name=new.name, changed_fields=changed,
        legal_representative=new.legal_representative, domicile=new.domicile,
        business_scope=list(new.business_scope), changed_at=now))


PERFORMERS = {"registration.establish": establish, "registration.deregister": deregister,
              "registration.change": change}
COMPENSATORS = {"registration.establish": undo_establishment}
