"""The bank's steps: what happens when a case reaches them."""

from __future__ import annotations

from datetime import datetime, timezone

import structlog
from sqlalchemy import select
from yjs_contracts.api import EstablishmentApplication
from yjs_contracts.events import AccountOpened, EnterpriseRegistered, StepReport, step_report
from yjs_contracts.steps import StepStatus
from yjs_kit.steps import StepWork

from . import rules
from .models import accounts

log = structlog.get_logger(__name__)


def open_account(work: StepWork) -> StepReport:
    """基本存款账户开立: the account is filed (备案制, no 开户许可证 since 2019) with its 预留印鉴,
    and its number goes out in the event, for tax among others."""
    app = EstablishmentApplication.model_validate(work.application)
    request = app.bank_account
    enterprise = EnterpriseRegistered.model_validate(work.facts["registration.establish"])
    if work.session.execute(select(accounts.c.account_number).where(accounts.c.uscc == enterprise.uscc)).first():
        return step_report(work.step, StepStatus.rejected, reasons=[rules.account_exists_reason()])
    review = rules.review_reasons(app, rules.watch_list())
    if review:  # no staff review queue yet: opened at once, the reasons kept in the log
        log.warning("account opened with review reasons", reasons=[r.code for r in review])
    division = app.enterprise.domicile.division_code
    number = rules.account_number(request.bank, division,
                                  work.uow.next_number(rules.counter_name(request.bank, division)))
    seals = rules.specimen_seals(work.facts.get("seal_carving.carve"))
    now = datetime.now(timezone.utc)
    work.session.execute(accounts.insert().values(
        account_number=number, uscc=enterprise.uscc, case_id=work.case_id, bank=request.bank,
        branch=request.branch, account_type=rules.ACCOUNT_TYPE, specimen_seals=seals, status="open", opened_at=now))
    return step_report(work.step, StepStatus.completed, AccountOpened(
        account_number=number, bank=request.bank, branch=request.branch, account_type=rules.ACCOUNT_TYPE,
        specimen_seals=seals))


PERFORMERS = {"bank_account.open": open_account}
