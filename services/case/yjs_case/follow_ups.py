"""差评督办: a bad rating (不满意 or worse) of a department is followed up by that department.

Each rated department gets a follow-up of its own, due in FOLLOW_UP_WORKING_DAYS working days on
China's calendar; a bad overall rating gets one the operators own ("overall"). The department
answers with what it did; the applicant confirms the answer (closed) or rejects it (escalated),
once; a follow-up still unanswered when due escalates too. Operators close an escalated one with
their own resolution. A department may appeal the rating (申诉); an operator upholds the appeal
(the rating stays in the record and leaves the figures, the follow-up closes) or dismisses it.

The rules first, pure; then what each call stores."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import select, update
from yjs_contracts.api import ErrorDetail, InvalidApplication
from yjs_contracts.calendar import CHINA, add_working_days
from yjs_kit.timers import not_parked
from yjs_kit.uow import UnitOfWork

from . import record
from .cases import _aware
from .models import case_timeline, follow_ups

#: 不满意 (2) and 非常不满意 (1) must be followed up
BAD = 2
#: the follow-up of a bad overall rating: no department owns it, the operators do
OVERALL = "overall"
DEFAULT_WORKING_DAYS = 5.0
STATUSES = ("open", "answered", "escalated", "closed")
VERDICTS = ("confirmed", "rejected")
APPEAL_STATUSES = ("pending", "upheld", "dismissed")
ESCALATION_TIMER = "escalate_follow_ups"


class FollowUpNotFound(LookupError):
    pass


class FollowUpClosed(Exception):
    """The follow-up is closed: nothing more is done with it."""


class FollowUpNotReady(Exception):
    """The follow-up is not at the point this call acts on (answered twice, judged before an answer …)."""


class AppealRefused(Exception):
    """Appealed twice, an overall rating appealed, or an appeal decided twice."""


# -- the rules ----------------------------------------------------------------------------------

def bad_ratings(overall: int, departments: dict[str, int]) -> dict[str, int]:
    """Who follows up which bad rating: each department rated 不满意 or worse, and "overall"
    (the operators) for a bad overall rating."""
    bad = {OVERALL: overall} if overall <= BAD else {}
    bad.update({d: level for d, level in sorted(departments.items()) if level <= BAD})
    return bad


def due_at(opened_at: datetime, working_days: float) -> datetime:
    """When the department's answer is due: `working_days` working days after it was opened, on
    China's calendar (a rating given on a Friday evening is due the Friday after next at 17:00)."""
    return add_working_days(opened_at.astimezone(CHINA), working_days)


def parse_working_days(text: str | None) -> float:
    """FOLLOW_UP_WORKING_DAYS: a positive number of working days, default 5."""
    if text is None or not str(text).strip():
        return DEFAULT_WORKING_DAYS
    days = float(text)
    if not days > 0:
        raise ValueError("FOLLOW_UP_WORKING_DAYS must be a positive number of working days")
    return days


def overdue(status: str, due: datetime | None, now: datetime) -> bool:
    """Unanswered past its due date: escalated. An answered one waits on the applicant, not the department."""
    return status == "open" and due is not None and now >= due


def after_verdict(verdict: str) -> tuple[str, str | None]:
    """(status, escalation) once the applicant has judged the answer: confirmed closes it,
    rejected sends it to the operators."""
    return ("closed", None) if verdict == "confirmed" else ("escalated", "rejected")


def counted_ratings(levels: Iterable[tuple[str, str, int]], upheld: set[tuple[str, str]]
                    ) -> list[tuple[str, str, int]]:
    """The (case_id, department, level) ratings the figures count: all but those an upheld
    appeal took out."""
    return [(case_id, department, level) for case_id, department, level in levels
            if (case_id, department) not in upheld]


# -- what each call stores ------------------------------------------------------------------------

def follow_up_id(number: int) -> str:
    return f"F{number:08d}"


def _number(follow_up: str) -> int:
    if len(follow_up) < 2 or follow_up[0] != "F" or not follow_up[1:].isdigit():
        raise FollowUpNotFound(f"no such follow-up {follow_up}")
    return int(follow_up[1:])


def _iso(at) -> str | None:
    return _aware(at).isoformat() if at else None


def view(row) -> dict[str, Any]:
    appeal = None
    if row["appeal_status"]:
        appeal = {"status": row["appeal_status"], "reason": row["appeal_reason"], "appealed_by": row["appealed_by"],
                  "appealed_at": _iso(row["appealed_at"]), "decision": row["appeal_decision"],
                  "decided_by": row["appeal_decided_by"], "decided_at": _iso(row["appeal_decided_at"])}
    return {"follow_up_id": follow_up_id(row["id"]), "case_id": row["case_id"], "department": row["department"],
            "owner": row["owner"], "ratings": row["ratings"], "comment": row["comment"], "status": row["status"],
            "opened_at": _iso(row["opened_at"]),
            "due_at": _aware(row["due_at"]).astimezone(CHINA).isoformat() if row["due_at"] else None,
            "response": row["response"], "responded_by": row["responded_by"],
            "responded_at": _iso(row["responded_at"]), "verdict": row["verdict"],
            "verdict_comment": row["verdict_comment"], "verdict_at": _iso(row["verdict_at"]),
            "escalation": row["escalation"], "escalated_at": _iso(row["escalated_at"]),
            "resolution": row["resolution"], "resolved_by": row["resolved_by"],
            "closed_at": _iso(row["closed_at"]), "appeal": appeal}


def open_follow_ups(uow: UnitOfWork, case_id: str, owner: str, bad: dict[str, int], comment: str | None,
                    now: datetime, working_days: float) -> list[str]:
    """One follow-up per bad rating, each owned by whom it rates; their ids."""
    due = due_at(now, working_days)
    return [follow_up_id(uow.session.execute(follow_ups.insert().values(
        case_id=case_id, department=department, owner=owner, ratings={department: level}, comment=comment,
        status="open", opened_at=now, due_at=due)).inserted_primary_key[0]) for department, level in bad.items()]


def list_follow_ups(session, status: str | None, limit: int, after: str | None, department: str | None = None,
                    appeal: str | None = None) -> dict[str, Any]:
    """Oldest first; `after` is the last follow_up_id of the previous page. `department`: only its own."""
    limit = max(1, min(int(limit), 200))
    query = select(follow_ups).order_by(follow_ups.c.id).limit(limit + 1)
    if status:
        query = query.where(follow_ups.c.status == status)
    if department:
        query = query.where(follow_ups.c.department == department)
    if appeal:
        query = query.where(follow_ups.c.appeal_status == appeal)
    if after:
        query = query.where(follow_ups.c.id > _number(after))
    rows = session.execute(query).mappings().all()
    items = [view(row) for row in rows[:limit]]
    return {"items": items, "next": items[-1]["follow_up_id"] if len(rows) > limit else None}


def of_case(session, case_id: str) -> list[dict[str, Any]]:
    return [view(row) for row in session.execute(
        select(follow_ups).where(follow_ups.c.case_id == case_id).order_by(follow_ups.c.id)).mappings()]


def _locked(uow: UnitOfWork, follow_up: str, department: str | None = None, owner: str | None = None):
    """The follow-up, locked; one of another department or another applicant's case is not found."""
    number = _number(follow_up)
    row = uow.session.execute(select(follow_ups).where(follow_ups.c.id == number).with_for_update()).mappings().first()
    if row is None or (department and row["department"] != department) or (owner and row["owner"] != owner):
        raise FollowUpNotFound(f"no such follow-up {follow_up}")
    if row["status"] == "closed":
        raise FollowUpClosed(f"follow-up {follow_up} was closed at {_iso(row['closed_at'])}")
    return row


def _save(uow: UnitOfWork, row, now: datetime, event_type: str, summary: str, **values) -> dict[str, Any]:
    uow.session.execute(update(follow_ups).where(follow_ups.c.id == row["id"]).values(**values))
    uow.append(case_timeline,
        case_id=row["case_id"], at=now, event_type=event_type,
        event_id=f"{event_type.split('.')[-1]}:{follow_up_id(row['id'])}"[:36], summary=summary)
    return view(uow.session.execute(select(follow_ups).where(follow_ups.c.id == row["id"])).mappings().one())


def _text(value: str | None, field: str, reason: str) -> str:
    if not value or len(value.strip()) < 2:
        raise InvalidApplication([ErrorDetail(field=field, reason=reason)])
    return value.strip()


def answer(uow: UnitOfWork, follow_up: str, department: str, response: str, actor: str) -> dict[str, Any]:
    """The department says what it did (整改情况); the applicant is asked to judge it."""
    response = _text(response, "response", "a follow-up is answered with what was done")
    row = _locked(uow, follow_up, department=department)
    if row["status"] != "open":
        raise FollowUpNotReady(f"follow-up {follow_up} is {row['status']}: only an open one is answered")
    now = datetime.now(timezone.utc)
    return _save(uow, row, now, "case.follow_up_answered", record.follow_up_answered_summary(follow_up, department),
                 status="answered", response=response, responded_by=actor, responded_at=now)


def judge(uow: UnitOfWork, follow_up: str, case_id: str, owner: str, verdict: str, comment: str | None
          ) -> dict[str, Any]:
    """The applicant confirms or rejects the department's answer, once."""
    if verdict not in VERDICTS:
        raise InvalidApplication([ErrorDetail(field="verdict", reason="one of " + ", ".join(VERDICTS))])
    row = _locked(uow, follow_up, owner=owner)
    if row["case_id"] != case_id:
        raise FollowUpNotFound(f"no such follow-up {follow_up}")
    if row["verdict"] is not None or row["status"] != "answered":
        raise FollowUpNotReady(f"follow-up {follow_up} is {row['status']}: only an answer not yet judged is judged")
    now = datetime.now(timezone.utc)
    status, escalation = after_verdict(verdict)
    return _save(uow, row, now, f"case.follow_up_{verdict}", record.follow_up_verdict_summary(follow_up, verdict),
                 status=status, verdict=verdict, verdict_comment=comment, verdict_at=now, escalation=escalation,
                 escalated_at=now if escalation else None, closed_at=now if status == "closed" else None)


def resolve(uow: UnitOfWork, follow_up: str, resolution: str, actor: str) -> dict[str, Any]:
    """An operator closes a follow-up: an escalated one, or one still open (an overall rating's,
    or a department's they take over); one answered waits for the applicant."""
    resolution = _text(resolution, "response", "a follow-up is closed with a response")
    row = _locked(uow, follow_up)
    if row["status"] == "answered":
        raise FollowUpNotReady(f"follow-up {follow_up} was answered: the applicant judges the answer first")
    now = datetime.now(timezone.utc)
    if row["status"] == "open" and row["department"] == OVERALL:  # the operators' own: their answer is the response
        values = dict(response=resolution, responded_by=actor, responded_at=now)
    else:
        values = dict(resolution=resolution, resolved_by=actor)
    return _save(uow, row, now, "case.follow_up_closed", record.follow_up_closed_summary(follow_up),
                 status="closed", closed_at=now, **values)


def overdue_follow_ups(database, now: datetime, batch: int = 200) -> list[int]:
    """Open follow-ups past their due date, earliest due first; the parked ones left out."""
    query = (select(follow_ups.c.id).where(
        (follow_ups.c.status == "open") & (follow_ups.c.due_at <= now)
        & not_parked(ESCALATION_TIMER, follow_ups.c.id, database.metadata))
        .order_by(follow_ups.c.due_at).limit(batch))
    with database.engine.connect() as connection:
        return list(connection.execute(query).scalars())


def escalate_overdue(uow: UnitOfWork, number: int, now: datetime) -> str | None:
    """Escalates one follow-up if it is still unanswered past due (another replica, or the
    department's answer, may have come first); returns its department."""
    row = uow.session.execute(select(follow_ups).where(follow_ups.c.id == number).with_for_update()).mappings().first()
    if row is None or not overdue(row["status"], _aware(row["due_at"]) if row["due_at"] else None, now):
        return None
    _save(uow, row, now, "case.follow_up_escalated", record.follow_up_overdue_summary(follow_up_id(number)),
          status="escalated", escalation="overdue", escalated_at=now)
    return row["department"]


def appeal(uow: UnitOfWork, follow_up: str, department: str, reason: str, actor: str) -> dict[str, Any]:
    """申诉: the rated department holds the rating wrong; an operator decides."""
    reason = _text(reason, "reason", "an appeal says why the rating is wrong")
    number = _number(follow_up)
    row = uow.session.execute(select(follow_ups).where(follow_ups.c.id == number).with_for_update()).mappings().first()
    if row is None or row["department"] != department:
        raise FollowUpNotFound(f"no such follow-up {follow_up}")
    if row["appeal_status"]:
        raise AppealRefused(f"the rating of follow-up {follow_up} was already appealed ({row['appeal_status']})")
    now = datetime.now(timezone.utc)
    return _save(uow, row, now, "case.rating_appealed", record.appeal_summary(follow_up, department),
                 appeal_status="pending", appeal_reason=reason, appealed_by=actor, appealed_at=now)


def decide_appeal(uow: UnitOfWork, follow_up: str, upheld: bool, reason: str, actor: str) -> tuple[dict, bool]:
    """Upheld: the rating leaves the figures (kept in the record) and the follow-up closes.
    Dismissed: the follow-up goes on. Returns the follow-up and whether this closed it."""
    reason = _text(reason, "reason", "an appeal is decided with a reason")
    number = _number(follow_up)
    row = uow.session.execute(select(follow_ups).where(follow_ups.c.id == number).with_for_update()).mappings().first()
    if row is None:
        raise FollowUpNotFound(f"no such follow-up {follow_up}")
    if row["appeal_status"] != "pending":
        raise AppealRefused(f"follow-up {follow_up} has no appeal waiting for a decision")
    now = datetime.now(timezone.utc)
    closes = upheld and row["status"] != "closed"
    values = dict(appeal_status="upheld" if upheld else "dismissed", appeal_decision=reason,
                  appeal_decided_by=actor, appeal_decided_at=now)
    if closes:
        values.update(status="closed", closed_at=now)
    return _save(uow, row, now, "case.appeal_decided", record.appeal_decided_summary(follow_up, upheld),
                 **values), closes
