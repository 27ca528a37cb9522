"""告知承诺's post-issuance checks (事后核查): one scheduled with every commitment permit, in the
issuing department's check queue once it falls due, worked by its staff — verified, rectify
(整改 by a deadline, the permit revoked by the timer if it lapses), or false (revoked at once,
and registration puts the enterprise and the signer on its credit record). The credit record
comes back as registration.credit_recorded and bars 告知承诺 here until it runs out."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import and_, func, or_, select, update
from yjs_contracts.api import CheckResult, CommitmentCheck, InvalidApplication
from yjs_contracts.envelope import Envelope, new_event
from yjs_contracts.events import CommitmentChecked, CreditRecorded, IssuedPermit
from yjs_kit.timers import not_parked
from yjs_kit.uow import UnitOfWork

from . import config, rules
from .models import applications, commitment_bars, commitment_checks, permits

DEPARTMENT = "licensing"
RECTIFICATION_TIMER = "commitment_rectification"


class CheckNotFound(LookupError):
    pass


class CheckClosed(Exception):
    """The check took its final result already, or its permit is no longer valid."""


def signer_of(session, case_id: str) -> dict | None:
    return session.execute(select(applications.c.signer).where(applications.c.case_id == case_id)).scalar()


def schedule(uow: UnitOfWork, issued: IssuedPermit, case_id: str, uscc: str, now: datetime) -> None:
    """A commitment permit's check, due on its check date; nothing for any other permit."""
    if issued.check_due is None:
        return
    times = rules.check_times(issued.check_due, now, config.check_period_seconds())
    uow.session.execute(commitment_checks.insert().values(
        check_id=f"HC{uow.next_number('commitment_check'):08d}", department=DEPARTMENT,
        permit_number=issued.permit_number, case_id=case_id, uscc=uscc, signer=signer_of(uow.session, case_id),
        due_at=times.due_at, overdue_at=times.overdue_at, status=rules.OPEN, reasons=[]))


def _valid_permit():
    return commitment_checks.c.permit_number.in_(select(permits.c.permit_number).where(permits.c.status == "valid"))


def _due(row) -> datetime:
    return row["rectify_by"] if row["status"] == rules.RECTIFYING else row["due_at"]


def view(row, permit, now: datetime) -> dict:
    due = _aware(_due(row))
    return CommitmentCheck(
        check_id=row["check_id"], department=row["department"], uscc=row["uscc"], case_id=row["case_id"],
        permit={"permit_number": permit["permit_number"], "name": permit["name"], "items": permit["items"],
                "conditions": [c for part in permit["parts"] for c in (part.get("commitment_notice") or {}).get("conditions", [])]},
        due=due, overdue=rules.check_overdue(row["status"], _aware(row["overdue_at"]), now), status=row["status"],
        result=row["result"], reasons=row["reasons"], rectify_by=row["rectify_by"], checked_by=row["checked_by"],
        checked_at=row["checked_at"]).model_dump(mode="json")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite drops the zone


def queue(session, department: str, status: str, uscc: str | None, limit: int, after: str | None,
          now: datetime) -> dict:
    """The department's open checks of valid permits, oldest due first: `due` those whose date
    has come (a rectification's is its deadline), `all` every open one (双随机 may come early)."""
    due = func.coalesce(commitment_checks.c.rectify_by, commitment_checks.c.due_at)
    query = select(commitment_checks, permits.c.name, permits.c["items"], permits.c.parts).join(
        permits, permits.c.permit_number == commitment_checks.c.permit_number).where(
        (commitment_checks.c.department == department)
        & commitment_checks.c.status.in_([rules.OPEN, rules.RECTIFYING]) & (permits.c.status == "valid"))
    if status == "due":
        query = query.where(due <= now)
    if uscc:
        query = query.where(commitment_checks.c.uscc == uscc)
    if after:
        cursor = session.execute(select(due.label("due"), commitment_checks.c.check_id).where(
            commitment_checks.c.check_id == after)).first()
        if cursor is not None:
            query = query.where(or_(due > cursor.due, and_(due == cursor.due, commitment_checks.c.check_id > after)))
    rows = session.execute(query.order_by(due, commitment_checks.c.check_id).limit(limit + 1)).mappings().all()
    items = [view(row, row, now) for row in rows[:limit]]
    return {"items": items, "next": items[-1]["check_id"] if len(rows) > limit else None}


def _check(uow: UnitOfWork, department: str, check_id: str):
    row = uow.session.execute(select(commitment_checks).where(
        (commitment_checks.c.check_id == check_id) & (commitment_checks.c.department == department))
        .with_for_update()).mappings().first()
    if row is None:
        raise CheckNotFound(f"no check {check_id}")
    permit = uow.session.execute(select(permits).where(permits.c.permit_number == row["permit_number"])
                                 ).mappings().first()
    return row, permit


def record_result(uow: UnitOfWork, department: str, check_id: str, result: CheckResult, actor: str,
                  now: datetime, revoke) -> dict:
    """Staff record a check's outcome. `revoke(uow, permit_number, finding, actor, ground, check_id)`
    revokes the permit and announces it (permits.revoke)."""
    row, permit = _check(uow, department, check_id)
    status = rules.next_check_status(row["status"], result.result)
    if status is None or permit["status"] != "valid":
        raise CheckClosed(f"check {check_id} is {row['status']}, its permit {permit['status']}: "
                          f"no {result.result} can be recorded")
    problems = rules.rectify_problems(result.rectify_by, now, permit["valid_until"])
    if problems:
        raise InvalidApplication(problems)
    reasons = [r.model_dump(mode="json") for r in result.reasons]
    uow.session.execute(update(commitment_checks).where(commitment_checks.c.check_id == check_id).values(
        status=status, result=result.result, reasons=reasons, checked_by=actor, checked_at=now,
        **({"rectify_by": result.rectify_by} if result.rectify_by else {})))
    if status == rules.REVOKED:
        revoke(uow, row["permit_number"], "；".join(r.message for r in result.reasons), actor, "false_commitment",
               check_id)
    else:
        uow.session.execute(update(permits).where(permits.c.permit_number == row["permit_number"]).values(
            check_status="verified" if status == rules.VERIFIED else "rectifying"))
        event_type = "licensing.commitment_verified" if status == rules.VERIFIED else "licensing.rectification_ordered"
        words = "告知承诺核查属实" if status == rules.VERIFIED else \
            f"告知承诺核查：责令整改，期限至 {result.rectify_by.astimezone(rules.CHINA):%Y-%m-%d %H:%M}"
        uow.announce(new_event(event_type, CommitmentChecked(
            step="licensing.issue", summary=f"{permit['name']} {row['permit_number']}：{words}", check_id=check_id,
            uscc=row["uscc"], permit_number=row["permit_number"], result=result.result, reasons=result.reasons,
            rectify_by=result.rectify_by, actor=actor, checked_at=now), case_id=row["case_id"]))
    row, permit = _check(uow, department, check_id)
    return view(row, permit, now)


def lapsed_rectifications(database, now: datetime) -> list[str]:
    with database.unit_of_work() as uow:
        return list(uow.session.execute(select(commitment_checks.c.check_id).where(
            (commitment_checks.c.status == rules.RECTIFYING) & (commitment_checks.c.rectify_by <= now)
            & not_parked(RECTIFICATION_TIMER, commitment_checks.c.check_id, database.metadata))
            .order_by(commitment_checks.c.rectify_by).limit(100)).scalars())


def revoke_unrectified(uow: UnitOfWork, check_id: str, now: datetime, revoke) -> str | None:
    """整改 not done by its deadline: the permit is revoked (not a false promise: no credit record)."""
    row = uow.session.execute(select(commitment_checks).where(commitment_checks.c.check_id == check_id)
                              .with_for_update()).mappings().first()
    if row is None or not rules.rectification_lapsed(row["status"], _aware(row["rectify_by"]), now):
        return None  # verified meanwhile, or another replica was first
    uow.session.execute(update(commitment_checks).where(commitment_checks.c.check_id == check_id).values(
        status=rules.REVOKED, result="not_rectified"))
    valid = uow.session.execute(select(permits.c.status).where(
        permits.c.permit_number == row["permit_number"])).scalar() == "valid"
    if valid:
        revoke(uow, row["permit_number"], "逾期未按要求整改", "system:rectification_deadline", "not_rectified", check_id)
    return check_id


def overdue_counts(connection, now: datetime) -> dict[str, int]:
    """Per department, its open checks of valid permits past the day they were due."""
    rows = connection.execute(select(commitment_checks.c.department, func.count()).where(
        (commitment_checks.c.status == rules.OPEN) & (commitment_checks.c.overdue_at <= now) & _valid_permit())
        .group_by(commitment_checks.c.department)).all()
    return dict(rows)


def close_with_permit(uow: UnitOfWork, permit_number: str, result: str, actor: str, now: datetime) -> str | None:
    """A permit revoked outside the queue (POST /v1/licences/…/revocation) closes its check."""
    row = uow.session.execute(select(commitment_checks.c.check_id).where(
        (commitment_checks.c.permit_number == permit_number)
        & commitment_checks.c.status.in_([rules.OPEN, rules.RECTIFYING]))).first()
    if row is None:
        return None
    uow.session.execute(update(commitment_checks).where(commitment_checks.c.check_id == row.check_id).values(
        status=rules.REVOKED, result=result, checked_by=actor, checked_at=now))
    return row.check_id


def barred(session, uscc: str, signer_id: str | None, now: datetime) -> bool:
    rows = session.execute(select(commitment_bars.c.uscc, commitment_bars.c.id_number, commitment_bars.c.barred_until)
                           .where(or_(commitment_bars.c.uscc == uscc, commitment_bars.c.id_number == signer_id)
                                  if signer_id else commitment_bars.c.uscc == uscc)).all()
    return rules.barred_by_credit_record([(r.uscc, r.id_number, _aware(r.barred_until)) for r in rows],
                                         uscc, signer_id, now)


def learn_bar(uow: UnitOfWork, event: Envelope) -> None:
    """registration.credit_recorded: kept as announced (a redelivery changes nothing)."""
    record = CreditRecorded.model_validate(event.data)
    uow.upsert(commitment_bars, ["record_id"], record_id=record.record_id, uscc=record.uscc,
               id_number=record.signer.id_number if record.signer else None, permit_number=record.permit_number,
               finding=record.finding[:1000], barred_until=record.barred_until)
