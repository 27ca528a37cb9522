"""好差评 (国办发〔2019〕51号): the applicant rates an ended case, overall and per department; a
bad rating (不满意 or worse) opens a follow-up that operators close with the response given."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from yjs_contracts.api import CaseStatus, ErrorDetail, InvalidApplication, RatingRequest, validation_details
from yjs_contracts.words import RATING_WORDS
from yjs_kit.uow import UnitOfWork

from . import record
from .cases import CaseNotFound, _aware
from .models import case_steps, case_timeline, cases, follow_ups, ratings

#: 不满意 (2) and 非常不满意 (1) must be followed up
BAD = 2
LEVELS = RATING_WORDS


class CaseNotEnded(Exception):
    """A case is rated once it has ended."""


class AlreadyRated(Exception):
    pass


class FollowUpNotFound(LookupError):
    pass


class FollowUpClosed(Exception):
    """The follow-up was already closed with a response."""


def follow_up_id(number: int) -> str:
    return f"F{number:08d}"


def _number(follow_up: str) -> int:
    if len(follow_up) < 2 or follow_up[0] != "F" or not follow_up[1:].isdigit():
        raise FollowUpNotFound(f"no such follow-up {follow_up}")
    return int(follow_up[1:])


def bad_ratings(overall: int, departments: dict[str, int]) -> dict[str, int]:
    """The ratings that need a follow-up: "overall" and each department rated 不满意 or worse."""
    bad = {"overall": overall} if overall <= BAD else {}
    bad.update({d: level for d, level in sorted(departments.items()) if level <= BAD})
    return bad


def rate(uow: UnitOfWork, case_id: str, owner: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        rating = RatingRequest.model_validate(body)
    except ValidationError as error:
        raise InvalidApplication(validation_details(error)) from None
    uow.lock(case_id)
    case = uow.session.execute(select(cases).where((cases.c.case_id == case_id) & (cases.c.owner == owner))
                               ).mappings().first()
    if case is None:
        raise CaseNotFound(case_id)
    if CaseStatus(case["status"]) not in record.FINAL_CASE_STATUSES:
        raise CaseNotEnded(f"case {case_id} is still {case['status']}: it is rated once it has ended")
    involved = set(uow.session.execute(select(case_steps.c.department).where(case_steps.c.case_id == case_id)).scalars())
    strangers = sorted(set(rating.departments) - involved)
    if strangers:
        raise InvalidApplication([ErrorDetail(field=f"departments.{d}", reason="this department had no part in the case")
                                  for d in strangers])
    if uow.session.execute(select(ratings.c.case_id).where(ratings.c.case_id == case_id)).first():
        raise AlreadyRated(f"case {case_id} has already been rated")
    now = datetime.now(timezone.utc)
    uow.session.execute(ratings.insert().values(case_id=case_id, owner=owner, overall=rating.overall,
                                                departments=rating.departments, comment=rating.comment, rated_at=now))
    bad = bad_ratings(rating.overall, rating.departments)
    opened = None
    if bad:
        opened = follow_up_id(uow.session.execute(follow_ups.insert().values(
            case_id=case_id, owner=owner, ratings=bad, comment=rating.comment, status="open", opened_at=now)
        ).inserted_primary_key[0])
    uow.session.execute(case_timeline.insert().values(
        case_id=case_id, at=now, event_type="case.rated", event_id=f"rating:{case_id}",
        summary=record.rating_summary(LEVELS[rating.overall], opened)))
    return {"case_id": case_id, "overall": rating.overall, "departments": rating.departments, "follow_up_id": opened}


def _view(row) -> dict[str, Any]:
    return {"follow_up_id": follow_up_id(row["id"]), "case_id": row["case_id"], "owner": row["owner"],
            "ratings": row["ratings"], "comment": row["comment"], "status": row["status"],
            "opened_at": _aware(row["opened_at"]).isoformat(), "response": row["response"],
            "responded_by": row["responded_by"],
            "closed_at": _aware(row["closed_at"]).isoformat() if row["closed_at"] else None}


def list_follow_ups(session, status: str | None, limit: int, after: str | None) -> dict[str, Any]:
    """Oldest first; `after` is the last follow_up_id of the previous page."""
    limit = max(1, min(int(limit), 200))
    query = select(follow_ups).order_by(follow_ups.c.id).limit(limit + 1)
    if status:
        query = query.where(follow_ups.c.status == status)
    if after:
        query = query.where(follow_ups.c.id > _number(after))
    rows = session.execute(query).mappings().all()
    items = [_view(row) for row in rows[:limit]]
    return {"items": items, "next": items[-1]["follow_up_id"] if len(rows) > limit else None}


def respond(uow: UnitOfWork, follow_up: str, response: str, actor: str) -> dict[str, Any]:
    """Closes the follow-up with the response given to the applicant (回访整改), once."""
    number = _number(follow_up)
    if not response or len(response.strip()) < 2:
        raise InvalidApplication([ErrorDetail(field="response", reason="a follow-up is closed with a response")])
    row = uow.session.execute(select(follow_ups).where(follow_ups.c.id == number).with_for_update()).mappings().first()
    if row is None:
        raise FollowUpNotFound(f"no such follow-up {follow_up}")
    if row["status"] != "open":
        raise FollowUpClosed(f"follow-up {follow_up} was closed at {_aware(row['closed_at']).isoformat()}")
    now = datetime.now(timezone.utc)
    uow.session.execute(update(follow_ups).where(follow_ups.c.id == number).values(
        status="closed", response=response.strip(), responded_by=actor, closed_at=now))
    uow.session.execute(case_timeline.insert().values(
        case_id=row["case_id"], at=now, event_type="case.follow_up_closed", event_id=f"follow-up:{follow_up}",
        summary=f"差评回访 {follow_up} 已办结"))
    return _view(uow.session.execute(select(follow_ups).where(follow_ups.c.id == number)).mappings().one())
