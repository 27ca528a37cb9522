"""Licensing's steps: what happens when a case reaches them."""

from __future__ import annotations

from datetime import datetime, timezone

from yjs_contracts import catalogue
from yjs_contracts.api import EstablishmentApplication, LicensingApplication
from yjs_contracts.events import (EnterpriseRegistered, LicencesIssued, LicencesRevoked, PermitAwaitingReview,
                                  PermitNotRequired, StepReport, step_report)
from yjs_contracts.steps import StepStatus
from yjs_kit.steps import StepWork

from . import permits, register, rules


def issue(work: StepWork) -> StepReport:
    """行业准营: every permit the scope needs, each by its mode, an industry's as one comprehensive
    permit. In 企业开办 the enterprise is the one registration just registered (材料共享); on its
    own the matter is for an enterprise registration has announced and not struck off."""
    version = register.catalogue_version(work.uow, work.case_id, work.matter)
    edition = catalogue.edition(version)
    if work.matter == "establishment":
        app = EstablishmentApplication.model_validate(work.application)
        enterprise = EnterpriseRegistered.model_validate(work.facts["registration.establish"])
        uscc, division = enterprise.uscc, app.enterprise.domicile.division_code
        scope, commitments = app.enterprise.business_scope, app.commitments
        scope_field = "application.enterprise.business_scope"
    else:
        app = LicensingApplication.model_validate(work.application)
        uscc, division = app.uscc, app.uscc[2:8]  # the registering division, inside the code itself
        scope, commitments = app.business_scope, app.commitments
        scope_field = "application.business_scope"
        refused = (rules.enterprise_reasons(uscc, register.enterprise_status(work.session, uscc))
                   + rules.unknown_item_reasons(edition, scope, scope_field))
        if refused:
            return step_report(work.step, StepStatus.rejected, reasons=refused)
    barred = permits.false_commitment_on_record(work.session, uscc)
    decision = rules.decide(edition, scope, commitments, barred, scope_field)
    now = datetime.now(timezone.utc)
    if work.approved:
        # staff approved what waited for them; what was issued at once stays as it was
        issued = permits.of_case(work.session, work.case_id)
        issued += [permits.issue(work.uow, work.case_id, uscc, division, grant, now) for grant in decision.review]
        waiting = []
    else:
        issued = [permits.issue(work.uow, work.case_id, uscc, division, grant, now) for grant in decision.issue]
        waiting = decision.review
    outputs = LicencesIssued(
        uscc=uscc, catalogue_version=version, permits=issued,
        not_required=[PermitNotRequired(code=p.code, name=p.name, items=list(items))
                      for p, items in decision.not_required],
        awaiting_review=[PermitAwaitingReview(name=g.name, items=list(g.items), comprehensive=g.comprehensive,
                                              industry=g.industry.code if g.industry else None,
                                              parts=permits.parts_of(g)) for g in waiting])
    report_outputs = outputs.model_dump(mode="json")
    register.record_outputs(work.uow, work.case_id, uscc, report_outputs)
    # staff decide what waits for them (人工审核), and the step runs again with their approval
    status = StepStatus.awaiting_review if waiting else StepStatus.completed
    return step_report(work.step, status, report_outputs, reasons=[] if work.approved else decision.reasons)


def withdraw(work: StepWork) -> None:
    """The case was withdrawn, or staff refused what waited for them: the case's permits end
    with it — a step that did not complete holds nothing."""
    permits.cancel_case(work.uow, work.case_id, UNDO_REASONS.get(work.undo_reason or "", "申请终止"),
                        datetime.now(timezone.utc))


def revoke(work: StepWork) -> StepReport:
    """许可注销 in 注销一件事: once the registration is cancelled, every permit the enterprise
    still holds ends (possibly none)."""
    uscc = work.application["uscc"]
    now = datetime.now(timezone.utc)
    register.mark_deregistered(work.uow, uscc, "", now)
    cancelled = permits.cancel_all(work.uow, uscc, "企业注销", now)
    return step_report(work.step, StepStatus.completed, LicencesRevoked(uscc=uscc, permits=cancelled, revoked_at=now))


UNDO_REASONS = {"withdrawn": "申请人撤回申请", "refused": "部门审查不予许可", "materials_not_supplied": "容缺材料未按期补齐"}

PERFORMERS = {"licensing.issue": issue, "licensing.revoke": revoke}
COMPENSATORS = {"licensing.issue": withdraw}
