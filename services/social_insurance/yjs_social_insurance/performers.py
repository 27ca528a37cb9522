"""Social and medical insurance's steps: what happens when a case reaches them, and what undoing
each does."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update
from yjs_contracts.api import DeregistrationApplication, EstablishmentApplication
from yjs_contracts.events import EmployerInsuranceClosed, EmployerInsured, EnterpriseRegistered, StepReport, step_report
from yjs_contracts.plans import CHINA
from yjs_contracts.steps import StepStatus
from yjs_kit.steps import StepWork

from . import arrears, rules
from .models import closures, employers


def register(work: StepWork) -> StepReport:
    """单位参保登记 and 医保登记 under the 统一社会信用代码 registration issued: one 社保登记编号 for
    both, nothing the applicant already gave asked again."""
    app = EstablishmentApplication.model_validate(work.application)
    enterprise = EnterpriseRegistered.model_validate(work.facts["registration.establish"])
    division = app.enterprise.domicile.division_code
    now = datetime.now(timezone.utc)
    year = now.astimezone(CHINA).year
    number = rules.registration_number(division, year, work.uow.next_number(f"employer:{division}:{year}"))
    social, medical = rules.agencies(division)
    insured = EmployerInsured(
        uscc=enterprise.uscc, registration_number=number, insurance_types=rules.insurance_types(),
        social_insurance_agency=social, medical_insurance_agency=medical,
        employees=app.social_insurance.employees, registered_at=now)
    work.uow.insert(employers,
        uscc=insured.uscc, case_id=work.case_id, registration_number=number,
        enterprise_name=enterprise.enterprise_name, social_insurance_agency=social,
        medical_insurance_agency=medical, insurance_types=insured.insurance_types,
        employees=insured.employees, registered_at=now)
    return step_report(work.step, StepStatus.completed, insured)


def close(work: StepWork) -> StepReport:
    """注销 of the social and medical insurance registration for a deregistration, alongside 清税:
    refused while contributions are owed; an enterprise never registered here is confirmed at
    once."""
    uscc = DeregistrationApplication.model_validate(work.application).uscc
    arrears.LEDGER.lock(work.uow, uscc)  # no arrears recorded between the check and the decision
    owed = arrears.LEDGER.outstanding(work.session, uscc)
    reasons = rules.closing_reasons(owed)
    employer = work.session.execute(select(employers).where(
        (employers.c.uscc == uscc) & (employers.c.status == "registered")).with_for_update()).mappings().first()
    now = datetime.now(timezone.utc)
    outcome = "refused" if reasons else ("not_registered" if employer is None else "closed")
    work.session.execute(closures.insert().values(case_id=work.case_id, uscc=uscc, outcome=outcome,
                                                  outstanding=owed, decided_at=now))
    if reasons:
        return step_report(work.step, StepStatus.rejected, reasons=reasons)
    if employer is not None:
        work.session.execute(update(employers).where(employers.c.uscc == uscc).values(
            status="closed", closed_at=now, closing_case_id=work.case_id))
    return step_report(work.step, StepStatus.completed, EmployerInsuranceClosed(
        uscc=uscc, registration_number=employer["registration_number"] if employer else None, deregistered_at=now))


def reopen(work: StepWork) -> None:
    """A deregistration withdrawn after the registration was closed: the employer is registered
    again, as if the closing had never been asked for."""
    closure = work.session.execute(select(closures).where(closures.c.case_id == work.case_id)
                                   .with_for_update()).mappings().first()
    if closure is None:
        return
    work.session.execute(update(employers).where(
        (employers.c.closing_case_id == work.case_id) & (employers.c.status == "closed")).values(
        status="registered", closed_at=None, closing_case_id=None))
    work.session.execute(update(closures).where(closures.c.case_id == work.case_id).values(outcome="undone"))


def cancel_registration(work: StepWork) -> None:
    """What the employer was registered on is undone (the registration revoked, the case
    withdrawn): its insurance registration is cancelled, kept with when and why."""
    work.session.execute(update(employers).where(
        (employers.c.case_id == work.case_id) & (employers.c.status == "registered")).values(
        status="cancelled", cancelled_at=datetime.now(timezone.utc), undo_reason=work.undo_reason))


PERFORMERS = {"social_insurance.register": register, "social_insurance.close": close}
COMPENSATORS = {"social_insurance.register": cancel_registration, "social_insurance.close": reopen}
