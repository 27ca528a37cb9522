"""Registration's steps: what happens when a case reaches them."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from yjs_contracts.api import EstablishmentApplication
from yjs_contracts.codes import make_uscc
from yjs_contracts.events import EnterpriseRegistered, StepReport, step_report
from yjs_contracts.plans import CHINA
from yjs_contracts.steps import StepStatus
from yjs_kit.steps import StepWork

from . import rules
from .models import enterprises


def establish(work: StepWork) -> StepReport:
    """设立登记: check everything, then issue the 统一社会信用代码 and the electronic licence."""
    app = EstablishmentApplication.model_validate(work.application)
    now = datetime.now(timezone.utc)
    today = now.astimezone(CHINA).date()
    reasons = rules.establishment_reasons(app, today)
    taken = work.session.execute(select(enterprises.c.uscc).where(enterprises.c.name == app.enterprise.name)).first()
    if taken:
        reasons.append(rules.name_taken_reason())
    if reasons:
        return step_report(work.step, StepStatus.rejected, reasons=reasons)
    # review_reasons(app) name what a registrar should look at; until staff review queues
    # exist they are recorded with the registration, which is approved (秒批)
    division = app.enterprise.domicile.division_code
    serial = work.uow.next_number(f"uscc:{division}")
    uscc = make_uscc(division, serial)
    licence = rules.licence_number(division, serial)
    work.session.execute(enterprises.insert().values(
        uscc=uscc, name=app.enterprise.name, licence_number=licence, case_id=work.case_id,
        type=app.enterprise.type.value, division_code=division,
        registered_capital=app.enterprise.registered_capital, legal_representative=app.legal_representative.name,
        status="registered", established_on=today, registered_at=now))
    return step_report(work.step, StepStatus.completed, EnterpriseRegistered(
        uscc=uscc, licence_number=licence, enterprise_name=app.enterprise.name, registered_at=now))


PERFORMERS = {"registration.establish": establish}
