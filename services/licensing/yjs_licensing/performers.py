"""Licensing's steps: what happens when a case reaches them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from yjs_contracts import catalogue
from yjs_contracts.api import ChangeApplication, EstablishmentApplication, LicensingApplication
from yjs_contracts.events import (AmendmentRefused, EnterpriseChanged, EnterpriseRegistered, LicencesIssued, LicencesRevoked, PermitAwaitingReview,
                                  PermitNotRequired, PermitRefused, StepReport, step_report)
from yjs_contracts.steps import StepStatus
from yjs_kit.consumer import not_yet
from yjs_kit.steps import StepWork

from . import checks, permits, register, rules


@dataclass(frozen=True)
class Request:
    """What a case asks licensing for, and for which enterprise, whichever matter it came in."""

    version: str
    edition: catalogue.Catalogue
    uscc: str
    division: str
    scope: list[str]
    commitments: list[str]
    scope_field: str


def request_of(work: StepWork) -> Request:
    version = register.catalogue_version(work.uow, work.case_id, work.matter)
    edition = catalogue.edition(version)
    if work.matter == "establishment":
        app = EstablishmentApplication.model_validate(work.application)
        enterprise = EnterpriseRegistered.model_validate(work.facts["registration.establish"])
        return Request(version, edition, enterprise.uscc, app.enterprise.domicile.division_code,
                       app.enterprise.business_scope, app.commitments, "application.enterprise.business_scope")
    app = LicensingApplication.model_validate(work.application)
    # the registering division is inside the code itself
    return Request(version, edition, app.uscc, app.uscc[2:8], app.business_scope, app.commitments,
                   "application.business_scope")


def _decision(work: StepWork, request: Request) -> rules.Decision:
    """By the request's modes; 告知承诺 barred while a credit record names the enterprise or the
    person who signed the case's commitments."""
    signer = checks.signer_of(work.session, work.case_id) or {}
    barred = checks.barred(work.session, request.uscc, signer.get("id_number"), datetime.now(timezone.utc))
    return rules.decide(request.edition, request.scope, request.commitments, barred, request.scope_field)


def _outputs(request: Request, decision: rules.Decision, issued, waiting=(), refused=()) -> LicencesIssued:
    return LicencesIssued(
        uscc=request.uscc, catalogue_version=request.version, permits=issued,
        not_required=[PermitNotRequired(code=p.code, name=p.name, items=list(items))
                      for p, items in decision.not_required],
        awaiting_review=[PermitAwaitingReview(**_described(g)) for g in waiting], refused=list(refused))


def _described(grant: rules.Grant) -> dict:
    return dict(name=grant.name, items=list(grant.items), comprehensive=grant.comprehensive,
                industry=grant.industry.code if grant.industry else None, parts=permits.parts_of(grant))


def issue(work: StepWork) -> StepReport:
    """行业准营: every permit the scope needs, each by its mode, an industry's as one comprehensive
    permit. In 企业开办 the enterprise is the one registration just registered (材料共享); on its
    own the matter is for an enterprise registration has announced and not struck off."""
    request = request_of(work)
    if work.matter != "establishment":
        status = register.enterprise_status(work.session, request.uscc)
        if status is None:  # registration vouched for it at the gateway: its announcement is on its way
            not_yet(f"enterprise {request.uscc} not announced by registration yet")
        refused = (rules.enterprise_reasons(request.uscc, status)
                   + rules.unknown_item_reasons(request.edition, request.scope, request.scope_field))
        if refused:
            return step_report(work.step, StepStatus.rejected, reasons=refused)
    decision = _decision(work, request)
    now = datetime.now(timezone.utc)
    if work.approved:
        # staff approved what waited for them; what was issued at once stays, except that an
        # industry's comprehensive permit is issued again covering the approved parts too (换发)
        for grant in decision.review:
            if grant.whole is not None:
                permits.supersede(work.uow, work.case_id, grant.whole.industry.code, now)
            permits.issue(work.uow, work.case_id, request.uscc, request.division, grant.whole or grant, now)
        issued = permits.of_case(work.session, work.case_id, valid_only=True)
        waiting = []
    else:
        issued = [permits.issue(work.uow, work.case_id, request.uscc, request.division, grant, now)
                  for grant in decision.issue]
        waiting = decision.review
    report_outputs = _outputs(request, decision, issued, waiting).model_dump(mode="json")
    register.record_outputs(work.uow, work.case_id, request.uscc, report_outputs)
    # staff decide what waits for them (人工审核), and the step runs again with their approval
    status = StepStatus.awaiting_review if waiting else StepStatus.completed
    return step_report(work.step, status, report_outputs, reasons=[] if work.approved else decision.reasons)


def refuse(work: StepWork) -> StepReport | None:
    """Staff refused what waited for them. The permits issued at once stand (一业一证: each part
    is decided on its own): the step took effect in part, the refused permits listed with the
    staff's reasons. Nothing issued: None, an ordinary refusal."""
    issued = permits.of_case(work.session, work.case_id, valid_only=True)
    if not issued:
        return None
    request = request_of(work)
    decision = _decision(work, request)
    reasons = list(work.review.reasons) if work.review else []
    refused = [PermitRefused(**_described(g), reasons=reasons) for g in decision.review]
    report_outputs = _outputs(request, decision, issued, refused=refused).model_dump(mode="json")
    register.record_outputs(work.uow, work.case_id, request.uscc, report_outputs)
    return step_report(work.step, StepStatus.completed, report_outputs, reasons=reasons)


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


def added_scope(work: StepWork, changed: EnterpriseChanged) -> Request:
    """The licensed items a change adds to the scope that no valid permit covers yet: decided by
    their modes as in a licensing matter, with the change's commitments."""
    app = ChangeApplication.model_validate(work.application)
    version = register.catalogue_version(work.uow, work.case_id, work.matter)
    held = {item for permit in permits.held(work.session, changed.uscc) for item in permit}
    added = [item for item in changed.business_scope if item not in held] \
        if any(f.field == "business_scope" for f in changed.changed_fields) else []
    return Request(version, catalogue.edition(version), changed.uscc,
                   changed.domicile.get("division_code") or changed.uscc[2:8], added, app.commitments,
                   "application.changes.business_scope")


def amend(work: StepWork) -> StepReport:
    """许可变更 once the change is registered: every permit the enterprise holds follows it at
    once (a permit that must be asked for anew is listed refused: the step took effect in part),
    and licensed items the change adds to the scope are handled by their modes — at once by
    filing or commitment, by licensing's staff where approval is needed."""
    changed = EnterpriseChanged.model_validate(work.facts["registration.change"])
    now = datetime.now(timezone.utc)
    amended = permits.amend_all(work.uow, work.case_id, changed, now)  # a rerun after review changes nothing
    request = added_scope(work, changed)
    decision = _decision(work, request)
    for grant in decision.review if work.approved else decision.issue:
        if work.approved and grant.whole is not None:  # 换发, as when a licensing case is approved
            permits.supersede(work.uow, work.case_id, grant.whole.industry.code, now)
        permits.issue(work.uow, work.case_id, request.uscc, request.division, grant.whole or grant, now)
    waiting = [] if work.approved else decision.review
    outputs = amended.model_copy(update={
        "issued": permits.of_case(work.session, work.case_id, valid_only=True),
        "awaiting_review": [PermitAwaitingReview(**_described(g)) for g in waiting]})
    reasons = [r for refused in amended.refused for r in refused.reasons]
    if waiting:
        return step_report(work.step, StepStatus.awaiting_review, outputs, reasons=reasons + decision.reasons)
    return step_report(work.step, StepStatus.completed, outputs, reasons=reasons)


def refuse_added(work: StepWork) -> StepReport:
    """Staff refused a permit the change's new scope needs: the amendments stand, the refused
    permits are listed and the step took effect in part."""
    changed = EnterpriseChanged.model_validate(work.facts["registration.change"])
    amended = permits.amend_all(work.uow, work.case_id, changed, datetime.now(timezone.utc))
    decision = _decision(work, added_scope(work, changed))
    reasons = list(work.review.reasons) if work.review else []
    outputs = amended.model_copy(update={
        "issued": permits.of_case(work.session, work.case_id, valid_only=True),
        "refused": [*amended.refused, *(AmendmentRefused(permit_number="", name=g.name, reasons=reasons)
                                        for g in decision.review)]})
    return step_report(work.step, StepStatus.completed, outputs, reasons=reasons)


def unamend(work: StepWork) -> None:
    """The change undone: the permits stand as before it, and those its new scope got end."""
    permits.unamend(work.uow, work.case_id)
    withdraw(work)


UNDO_REASONS = {"withdrawn": "申请人撤回申请", "refused": "部门审查不予许可", "materials_not_supplied": "容缺材料未按期补齐",
                "prerequisite_undone": "所依据的登记已撤销"}

PERFORMERS = {"licensing.issue": issue, "licensing.revoke": revoke, "licensing.amend": amend}
COMPENSATORS = {"licensing.issue": withdraw, "licensing.amend": unamend}
#: what a staff refusal means where a step may take effect in part
REFUSERS = {"licensing.issue": refuse, "licensing.amend": refuse_added}
