"""好差评 (国办发〔2019〕51号): the applicant rates an ended case, overall and per department; each
bad rating (不满意 or worse) opens a follow-up (差评督办, follow_ups.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from yjs_contracts.api import CaseStatus, ErrorDetail, InvalidApplication, RatingRequest, validation_details
from yjs_contracts.words import RATING_WORDS
from yjs_kit.uow import UnitOfWork

from . import follow_ups as follow_up_rules, record
from .cases import CaseNotFound
from .models import case_steps, case_timeline, cases, ratings

LEVELS = RATING_WORDS


class CaseNotEnded(Exception):
    """A case is rated once it has ended."""


class AlreadyRated(Exception):
    pass


def rate(uow: UnitOfWork, case_id: str, owner: str, body: dict[str, Any],
         working_days: float = follow_up_rules.DEFAULT_WORKING_DAYS) -> dict[str, Any]:
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
    opened = follow_up_rules.open_follow_ups(
        uow, case_id, owner, follow_up_rules.bad_ratings(rating.overall, rating.departments), rating.comment, now,
        working_days)
    uow.append(case_timeline,
        case_id=case_id, at=now, event_type="case.rated", event_id=f"rating:{case_id}",
        summary=record.rating_summary(LEVELS[rating.overall], opened))
    return {"case_id": case_id, "overall": rating.overall, "departments": rating.departments, "follow_ups": opened}


