"""限时办结: a step its department holds past its promised limit is announced once
(case.step_overdue), shown in the record and counted — whichever replica of the case service
sees it first; the others find it already announced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from yjs_contracts.envelope import new_event
from yjs_contracts.events import StepOverdue
from yjs_contracts.plans import CHINA
from yjs_contracts.steps import StepStatus
from yjs_kit.uow import UnitOfWork

from .cases import _aware
from .models import case_steps, case_timeline, cases

#: the statuses in which a department holds the step; a pending step waits on another's
HELD = (StepStatus.in_progress.value, StepStatus.awaiting_review.value, StepStatus.awaiting_applicant.value)


def announce_overdue(uow: UnitOfWork, now: datetime, batch: int = 200) -> list[str]:
    """Announces every held step past its deadline, not paused for the applicant (补正) and not
    yet announced; returns the departments, one per step announced. The conditional update is
    what makes it once: a second replica's update finds the step already announced."""
    query = (select(case_steps.c.case_id, case_steps.c.step, case_steps.c.department, case_steps.c.status,
                    case_steps.c.deadline)
             .join(cases, cases.c.case_id == case_steps.c.case_id)
             .where((case_steps.c.deadline < now) & case_steps.c.overdue_announced_at.is_(None)
                    & case_steps.c.paused_at.is_(None) & case_steps.c.status.in_(HELD)
                    & cases.c.finished_at.is_(None))
             .order_by(case_steps.c.deadline).limit(batch))
    if uow.postgres:
        query = query.with_for_update(of=case_steps, skip_locked=True)
    announced = []
    for row in uow.session.execute(query).all():
        claimed = uow.session.execute(update(case_steps).where(
            (case_steps.c.case_id == row.case_id) & (case_steps.c.step == row.step)
            & case_steps.c.overdue_announced_at.is_(None)).values(overdue_announced_at=now)).rowcount
        if not claimed:
            continue
        deadline = _aware(row.deadline).astimezone(CHINA)
        event = new_event("case.step_overdue", StepOverdue(
            step=row.step, department=row.department, status=row.status, deadline=deadline, detected_at=now),
            case_id=row.case_id)
        uow.session.execute(case_timeline.insert().values(
            case_id=row.case_id, at=now, event_type=event.event_type, event_id=str(event.event_id),
            summary=f"{row.step} 超过承诺时限 ({deadline:%Y-%m-%d %H:%M}) 未办结"))
        uow.announce(event)
        announced.append(row.department)
    return announced
