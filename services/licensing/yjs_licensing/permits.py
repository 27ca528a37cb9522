"""The permit register: issuing numbered permits, revoking one whose commitment was found
false (撤销), cancelling an enterprise's permits when it closes (注销)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update
from yjs_contracts.api import PermitRevocation
from yjs_contracts.catalogue import PermitMode
from yjs_contracts.envelope import new_event
from yjs_contracts.events import (AmendedPermit, AmendmentRefused, EnterpriseChanged, IssuedPermit, LicencesAmended,
                                  PermitPart, PermitRevoked, RevokedPermit, SignedNotice, Signer)
from yjs_contracts.plans import CHINA
from yjs_kit.uow import UnitOfWork

from . import checks, rules
from .models import applications, permit_amendments, permits


class PermitNotFound(LookupError):
    pass


class PermitNotRevocable(Exception):
    """Not issued on a commitment, or no longer valid."""


def issue(uow: UnitOfWork, case_id: str, uscc: str, division: str, grant: rules.Grant, now: datetime) -> IssuedPermit:
    """A number (stable on a retry: the counter rolls back with the transaction) and the row."""
    number = rules.permit_number(grant.prefix, division, uow.next_number(f"permit:{grant.prefix}:{division}"))
    terms = rules.terms(grant, now)
    issued = IssuedPermit(
        permit_number=number, name=grant.name, mode=grant.mode, items=list(grant.items),
        comprehensive=grant.comprehensive, industry=grant.industry.code if grant.industry else None,
        parts=parts_of(grant), valid_from=terms.valid_from, valid_until=terms.valid_until, check_due=terms.check_due)
    uow.session.execute(permits.insert().values(
        permit_number=number, case_id=case_id, uscc=uscc, name=issued.name, mode=issued.mode.value,
        comprehensive=issued.comprehensive, industry=issued.industry, items=issued.items,
        parts=[p.model_dump(mode="json") for p in issued.parts], valid_from=issued.valid_from,
        valid_until=issued.valid_until, check_due=issued.check_due,
        check_status="scheduled" if issued.check_due else "none", status="valid", issued_at=now))
    checks.schedule(uow, issued, case_id, uscc, now)
    return issued


def of_case(session, case_id: str, valid_only: bool = False) -> list[IssuedPermit]:
    query = select(permits).where(permits.c.case_id == case_id)
    if valid_only:
        query = query.where(permits.c.status == "valid")
    rows = session.execute(query.order_by(permits.c.issued_at, permits.c.permit_number)).mappings().all()
    return [IssuedPermit.model_validate(dict(row)) for row in rows]


def supersede(uow: UnitOfWork, case_id: str, industry: str, now: datetime) -> None:
    """换发: the case's comprehensive permit of an industry, issued before staff approved its other
    parts, gives way to one covering every part."""
    uow.session.execute(update(permits).where(
        (permits.c.case_id == case_id) & (permits.c.industry == industry) & (permits.c.status == "valid")).values(
        status="superseded", revoked_at=now, revocation_reason="换发：综合许可证覆盖经审批的全部事项"))


def parts_of(grant: rules.Grant) -> list[PermitPart]:
    """Each part with, where its permit is offered on commitment, the 告知承诺书 it is signed on."""
    return [PermitPart(code=p.permit.code, name=p.permit.name, department=p.permit.department, mode=p.mode,
                       items=list(p.items), commitment_notice=_signed(p.permit)) for p in grant.parts]


def _signed(permit) -> SignedNotice | None:
    notice = permit.notice()
    return None if notice is None else SignedNotice(conditions=list(notice.conditions), liability=notice.liability,
                                                    check_days=notice.check_days)


def revoke_commitment(uow: UnitOfWork, permit_number: str, finding: str, actor: str) -> dict:
    """撤销 outside the check queue (POST /v1/licences/…/revocation): a promise found false,
    as a false_commitment result in the queue would record it; the permit's check closes."""
    row = revoke(uow, permit_number, finding, actor, "false_commitment", None)
    checks.close_with_permit(uow, permit_number, "false_commitment", actor, row["revoked_at"])
    return PermitRevocation(permit_number=permit_number, case_id=row["case_id"], uscc=row["uscc"], finding=finding,
                            revoked_at=row["revoked_at"]).model_dump(mode="json")


REVOCATION_WORDS = {"false_commitment": "告知承诺经核查不实", "not_rectified": "逾期未按要求整改"}


def revoke(uow: UnitOfWork, permit_number: str, finding: str, actor: str, ground: str, check_id: str | None) -> dict:
    """撤销 of a commitment permit: its promise found false (the enterprise and the signer go on
    registration's credit record, from the event), or a rectification not done in time. The
    case that issued it is told, with its outputs restated."""
    row = uow.session.execute(select(permits).where(permits.c.permit_number == permit_number)).mappings().first()
    if row is None:
        raise PermitNotFound(f"no permit {permit_number}")
    if row["mode"] != PermitMode.commitment:
        raise PermitNotRevocable(f"permit {permit_number} was not issued on a commitment (告知承诺)")
    now = datetime.now(timezone.utc)
    changed = uow.session.execute(update(permits).where(
        (permits.c.permit_number == permit_number) & (permits.c.status == "valid")).values(
        status="revoked", check_status="found_false" if ground == "false_commitment" else ground, revoked_at=now,
        revocation_reason=finding, revoked_by=actor)).rowcount
    if changed != 1:  # the update, not the read above, decides between two concurrent revocations
        raise PermitNotRevocable(f"permit {permit_number} is already {row['status']}")
    outputs = _restate(uow, row["case_id"], permit_number, status="revoked", revoked_at=now,
                       revocation_reason=finding)
    signer = checks.signer_of(uow.session, row["case_id"])
    uow.announce(new_event("licensing.permit_revoked", PermitRevoked(
        step="licensing.issue", outputs=outputs, uscc=row["uscc"], permit_number=permit_number, finding=finding,
        actor=actor, revoked_at=now, ground=ground, check_id=check_id, signer=Signer(**signer) if signer else None,
        summary=f"许可撤销 {row['name']} {permit_number}：{REVOCATION_WORDS[ground]}（{finding}）"),
        case_id=row["case_id"]))
    return {**row, "revoked_at": now}


def _restate(uow: UnitOfWork, case_id: str, permit_number: str, **changes) -> dict | None:
    """The issuing case's outputs with this permit's new status, kept for the next restatement."""
    outputs = uow.session.execute(select(applications.c.outputs).where(applications.c.case_id == case_id)).scalar()
    if outputs is None:
        return None
    changes = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in changes.items()}
    outputs = {**outputs, "permits": [{**p, **changes} if p["permit_number"] == permit_number else p
                                      for p in outputs.get("permits", [])]}
    uow.session.execute(update(applications).where(applications.c.case_id == case_id).values(outputs=outputs))
    return outputs


def cancel_all(uow: UnitOfWork, uscc: str, reason: str, now: datetime) -> list[RevokedPermit]:
    """注销: every permit the enterprise still holds ends with it."""
    return _cancel(uow, permits.c.uscc == uscc, reason, now)


def cancel_case(uow: UnitOfWork, case_id: str, reason: str, now: datetime) -> list[RevokedPermit]:
    return _cancel(uow, permits.c.case_id == case_id, reason, now)


def _cancel(uow: UnitOfWork, which, reason: str, now: datetime) -> list[RevokedPermit]:
    valid = which & (permits.c.status == "valid")
    rows = uow.session.execute(select(permits.c.permit_number, permits.c.name, permits.c["items"], permits.c.case_id)
                               .where(valid).order_by(permits.c.issued_at, permits.c.permit_number)).all()
    uow.session.execute(update(permits).where(valid).values(status="cancelled", revoked_at=now,
                                                            revocation_reason=reason))
    for row in rows:
        _restate(uow, row.case_id, row.permit_number, status="cancelled", revoked_at=now, revocation_reason=reason)
    return [RevokedPermit(permit_number=r.permit_number, name=r.name, items=r._mapping["items"]) for r in rows]


def held(session, uscc: str) -> list[list[str]]:
    """The items of every valid permit the enterprise holds."""
    return [row.items for row in session.execute(select(permits.c["items"].label("items")).where(
        (permits.c.uscc == uscc) & (permits.c.status == "valid"))).all()]


def amend_all(uow: UnitOfWork, case_id: str, changed: EnterpriseChanged, now: datetime) -> LicencesAmended:
    """许可变更秒办: every valid permit of the enterprise, by rules.amendment — reissued under the
    new name and address with its number kept and today as its issue date, cancelled when its
    items left the scope, or refused where it must be asked for anew. Each kept as it was before."""
    fields = {f.field for f in changed.changed_fields}
    address = changed.domicile.get("address")
    division = changed.domicile.get("division_code") or changed.uscc[2:8]
    rows = uow.session.execute(select(permits).where((permits.c.uscc == changed.uscc) & (permits.c.status == "valid"))
                               .order_by(permits.c.issued_at, permits.c.permit_number).with_for_update()).mappings().all()
    done = set(uow.session.execute(select(permit_amendments.c.permit_number).where(
        permit_amendments.c.case_id == case_id)).scalars())
    amended, cancelled, refused = [], [], []
    for row in rows:
        if row["permit_number"] in done or row["case_id"] == case_id:
            continue  # amended by this case already (a rerun after review), or issued by it
        action, reasons = rules.amendment(row["permit_number"], row["items"], fields, changed.business_scope, division)
        if reasons:
            refused.append(AmendmentRefused(permit_number=row["permit_number"], name=row["name"], reasons=reasons))
            continue
        if action == rules.KEEP:
            continue
        before = {k: row[k] for k in ("valid_from", "enterprise_name", "address", "amended_at", "status")}
        uow.session.execute(permit_amendments.insert().values(
            case_id=case_id, permit_number=row["permit_number"], action=action, amended_at=now,
            before={k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in before.items()}))
        if action == rules.CANCEL:
            uow.session.execute(update(permits).where(permits.c.permit_number == row["permit_number"]).values(
                status="cancelled", revoked_at=now, revocation_reason="经营范围变更，许可事项不再经营"))
            cancelled.append(RevokedPermit(permit_number=row["permit_number"], name=row["name"], items=row["items"]))
            continue
        values = {"valid_from": now.astimezone(CHINA).date(), "enterprise_name": changed.enterprise_name,
                  "address": address, "amended_at": now}
        uow.session.execute(update(permits).where(permits.c.permit_number == row["permit_number"]).values(**values))
        amended.append(AmendedPermit(permit_number=row["permit_number"], name=row["name"], items=row["items"],
                                     enterprise_name=changed.enterprise_name, address=address,
                                     valid_from=values["valid_from"], valid_until=row["valid_until"]))
    return LicencesAmended(uscc=changed.uscc, permits=amended, cancelled=cancelled, refused=refused, amended_at=now)


def unamend(uow: UnitOfWork, case_id: str) -> None:
    """A change undone: each permit it reissued or cancelled stands as it did before."""
    for row in uow.session.execute(select(permit_amendments).where(permit_amendments.c.case_id == case_id)
                                   ).mappings().all():
        before = dict(row["before"])
        before["valid_from"] = datetime.fromisoformat(before["valid_from"]).date()
        before["amended_at"] = datetime.fromisoformat(before["amended_at"]) if before["amended_at"] else None
        uow.session.execute(update(permits).where(permits.c.permit_number == row["permit_number"]).values(
            **before, **({"revoked_at": None, "revocation_reason": None} if row["action"] == rules.CANCEL else {})))
