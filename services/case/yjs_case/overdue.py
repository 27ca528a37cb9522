"""限时办结: a step its department holds past its promised limit is announced once
(case.step_overdue), shown in the record and counted — whichever replica of the case service
sees it first; the others find it already announced. One step per transaction: one that keeps
failing is parked, the others are still announced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from yjs_contracts.envelope import new_event
from yjs_contracts.events import StepOverdue
from yjs_contracts.plans import CHINA
from yjs_contracts.steps import StepStatus
from yjs_kit.timers import not_parked
from yjs_kit.uow import UnitOfWork

from . import record
from .cases import _aware
from .models import case_steps, case_timeline, cases

#: the statuses in which a department holds the step; a pending step waits on another's
HELD = (StepStatus.in_progress.value, StepStatus.awaiting_review.value, StepStatus.awaiting_applicant.value)


OVERDUE_TIMER = "announce_overdue"


def overdue_steps(database, now: datetime, batch: int = 200) -> list[tuple[str, str]]:
    """(case_id, step) of every held step past its deadline, not paused for the applicant (补正)
    and not yet announced, earliest deadline first; the parked ones left out."""
    key = case_steps.c.case_id + ":" + case_steps.c.step
    query = (select(case_steps.c.case_id, case_steps.c.step)
             .join(cases, cases.c.case_id == case_steps.c.case_id)
             .where((case_steps.c.deadline < now) & case_steps.c.overdue_announced_at.is_(None)
                    & case_steps.c.paused_at.is_(None) & case_steps.c.status.in_(HELD)
                    & cases.c.finished_at.is_(None) & not_parked(OVERDUE_TIMER, key, database.metadata))
             .order_by(case_steps.c.deadline).limit(batch))
    with database.engine.connect() as connection:
        return [(row.case_id, row.step) for row in connection.execute(query)]


def announce_overdue(uow: UnitOfWork, key: tuple[str, str], now: datetime) -> str | None:
    """Announces one overdue step, under its case's lock; returns its department. The
    conditional update is what makes it once: a second replica's finds it already announced,
    and a step decided meanwhile is no longer held."""
    case_id, step = key
    uow.lock(case_id)
    row = uow.session.execute(select(case_steps).where(
        (case_steps.c.case_id == case_id) & (case_steps.c.step == step))).mappings().one()
    claimed = uow.session.execute(update(case_steps).where(
        (case_steps.c.case_id == case_id) & (case_steps.c.step == step)
        & case_steps.c.overdue_announced_at.is_(None) & case_steps.c.paused_at.is_(None)
        & case_steps.c.status.in_(HELD)).values(overdue_announced_at=now)).rowcount
    if not claimed:
        return None
    deadline = _aware(row["deadline"]).astimezone(CHINA)
    event = new_event("case.step_overdue", StepOverdue(
        step=step, department=row["department"], status=row["status"], deadline=deadline, detected_at=now),
        case_id=case_id)
    uow.append(case_timeline,
        case_id=case_id, at=now, event_type=event.event_type, event_id=str(event.event_id),
        summary=record.overdue_summary(step, deadline))
    uow.announce(event)
    return row["department"]
