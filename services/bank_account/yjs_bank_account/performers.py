"""The bank's steps: what happens when a case reaches them, and what undoing an opening does."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update
from yjs_contracts.api import DeregistrationApplication, EstablishmentApplication
from yjs_contracts.events import (AccountClosed, AccountOpened, AccountUpdated, EnterpriseChanged, EnterpriseRegistered,
                                  StepReport, step_report)
from yjs_contracts.steps import StepStatus
from yjs_kit.steps import StepWork

from . import rules
from .models import account_updates, accounts


def open_account(work: StepWork) -> StepReport:
    """基本存款账户开立: the account is filed (备案制, no 开户许可证 since 2019) with its 预留印鉴,
    and its number goes out in the event, for tax among others."""
    app = EstablishmentApplication.model_validate(work.application)
    request = app.bank_account
    enterprise = EnterpriseRegistered.model_validate(work.facts["registration.establish"])
    if work.uow.row(accounts, uscc=enterprise.uscc):
        return step_report(work.step, StepStatus.rejected, reasons=[rules.account_exists_reason()])
    review = [] if work.approved else rules.review_reasons(app, rules.watch_list())
    if review:  # 人工审核: bank staff decide before the account is opened
        return step_report(work.step, StepStatus.awaiting_review, reasons=review)
    division = app.enterprise.domicile.division_code
    number = rules.account_number(request.bank, division,
                                  work.uow.next_number(rules.counter_name(request.bank, division)))
    seals = rules.specimen_seals(work.facts.get("seal_carving.carve"))
    now = datetime.now(timezone.utc)
    work.uow.insert(accounts,
        account_number=number, uscc=enterprise.uscc, case_id=work.case_id, bank=request.bank,
        branch=request.branch, account_type=rules.ACCOUNT_TYPE, specimen_seals=seals, status="open", opened_at=now)
    return step_report(work.step, StepStatus.completed, AccountOpened(
        account_number=number, bank=request.bank, branch=request.branch, account_type=rules.ACCOUNT_TYPE,
        specimen_seals=seals))


def close_account(work: StepWork) -> StepReport:
    """销户 of the basic deposit account once the registration is cancelled (the bank accepts
    the 注销 notice); an enterprise without an account here has nothing to close."""
    uscc = DeregistrationApplication.model_validate(work.application).uscc
    account = work.session.execute(select(accounts).where(accounts.c.uscc == uscc).with_for_update()).mappings().first()
    now = datetime.now(timezone.utc)
    if account is None:
        return step_report(work.step, StepStatus.completed, AccountClosed(account_number=None, closed_at=now))
    if account["status"] != "closed":
        work.session.execute(update(accounts).where(accounts.c.account_number == account["account_number"]).values(
            status="closed", closed_at=now, closing_case_id=work.case_id))
    return step_report(work.step, StepStatus.completed, AccountClosed(
        account_number=account["account_number"], bank=account["bank"], closed_at=account["closed_at"] or now))


def undo_opening(work: StepWork) -> None:
    """What the account was opened on is undone (the registration revoked, the seals voided, the
    case withdrawn): the account is closed, with why, and kept. None opened, nothing to close."""
    work.session.execute(update(accounts).where((accounts.c.case_id == work.case_id) & (accounts.c.status == "open"))
                         .values(status="closed", closed_at=datetime.now(timezone.utc), closing_case_id=work.case_id,
                                 undo_reason=work.undo_reason))


def update_account(work: StepWork) -> StepReport:
    """账户信息变更 once the change is registered and the seals re-carved: the account stands in
    the new name and legal representative, its 预留印鉴 the re-carved seals. No open account
    here: nothing to update."""
    changed = EnterpriseChanged.model_validate(work.facts["registration.change"])
    account = work.session.execute(select(accounts).where(
        (accounts.c.uscc == changed.uscc) & (accounts.c.status == "open")).with_for_update()).mappings().first()
    now = datetime.now(timezone.utc)
    if account is None:
        return step_report(work.step, StepStatus.completed, AccountUpdated(
            account_number=None, account_name=changed.enterprise_name,
            legal_representative=changed.legal_representative, updated_at=now))
    seals = rules.specimen_seals_after(account["specimen_seals"], work.facts.get("seal_carving.recarve"))
    after = {"account_name": changed.enterprise_name, "legal_representative": changed.legal_representative,
             "specimen_seals": seals}
    work.session.execute(account_updates.insert().values(
        case_id=work.case_id, account_number=account["account_number"], after=after, updated_at=now,
        before={k: account[k] for k in after}))
    work.session.execute(update(accounts).where(accounts.c.account_number == account["account_number"]).values(**after))
    return step_report(work.step, StepStatus.completed, AccountUpdated(
        account_number=account["account_number"], bank=account["bank"], branch=account["branch"], updated_at=now,
        **after))


def undo_update(work: StepWork) -> None:
    """A change undone: the account stands as it did before it."""
    row = work.session.execute(select(account_updates).where(account_updates.c.case_id == work.case_id)
                               ).mappings().first()
    if row is not None:
        work.session.execute(update(accounts).where(accounts.c.account_number == row["account_number"]).values(
            **row["before"]))


PERFORMERS = {"bank_account.open": open_account, "bank_account.close": close_account,
              "bank_account.update": update_account}
COMPENSATORS = {"bank_account.open": undo_opening, "bank_account.update": undo_update}
