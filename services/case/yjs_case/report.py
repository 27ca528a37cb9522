"""无感监测: how long each 一件事 really took, read from the records without asking anyone.

Per matter and per department, over the cases finished in a period: how many, the share within
the promised limit, the median and 90th percentile in working hours (China's calendar, 补正
pauses excluded), the pauses, the steps past their legal limit, the ratings (an appeal upheld
takes its rating out) and the follow-ups still open. `figures` is pure; `matter_report` reads
what it needs."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable

from sqlalchemy import select
from yjs_contracts.api import CaseStatus
from yjs_contracts.calendar import CHINA
from yjs_contracts.plans import MATTERS
from yjs_contracts.steps import StepStatus
from yjs_contracts.words import MATTER_TITLES

from . import follow_ups as follow_up_rules
from .cases import _aware
from .limits import Interval, hours, kept, merged, net_working_time, percentile, total_paused
from .models import case_pauses, case_steps, cases, follow_ups, ratings

#: finished: decided, one way or the other (办结); a withdrawn case is counted apart
FINISHED = (CaseStatus.completed.value, CaseStatus.partially_completed.value, CaseStatus.rejected.value)
DECIDED_STEPS = (StepStatus.completed.value, StepStatus.rejected.value)
MAX_DAYS = 366


class InvalidPeriod(ValueError):
    """"<field>: <reason>" of a period that cannot be reported on."""


@dataclass
class CaseFacts:
    case_id: str
    matter: str
    status: str
    submitted_at: datetime
    finished_at: datetime
    promised_days: float | None
    pauses: list[Interval] = field(default_factory=list)


@dataclass
class StepFacts:
    case_id: str
    step: str
    department: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    deadline: datetime | None
    legal_days: float | None
    pauses: list[Interval] = field(default_factory=list)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _share(flags: Iterable[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return round(sum(known) / len(known), 4) if known else None


def _durations(values: list[float]) -> dict[str, float | None]:
    return {"median_working_hours": _round(percentile(values, 50)), "p90_working_hours": _round(percentile(values, 90))}


def rating_figures(levels: list[int]) -> dict[str, Any]:
    counts = Counter(levels)
    return {"count": len(levels), "average": round(sum(levels) / len(levels), 2) if levels else None,
            "levels": {str(level): counts.get(level, 0) for level in range(1, 6)}}


def case_took(case: CaseFacts) -> timedelta:
    return net_working_time(case.submitted_at, case.finished_at, case.pauses)


def step_took(step: StepFacts) -> timedelta | None:
    if step.started_at is None or step.finished_at is None:
        return None
    return net_working_time(step.started_at, step.finished_at, step.pauses)


def past_legal_limit(step: StepFacts) -> bool:
    return kept(step_took(step), step.legal_days) is False


def headline(case_facts: list[CaseFacts]) -> dict[str, Any]:
    """The case figures of one matter's cases: how many finished, the share within the promised
    limit, the median and p90 in working hours (withdrawn cases left out)."""
    finished = [c for c in case_facts if c.status in FINISHED]
    took = [case_took(c) for c in finished]
    return {"cases_finished": len(finished),
            "within_promised_limit": _share(kept(t, c.promised_days) for c, t in zip(finished, took)),
            **_durations([hours(t) for t in took])}


def figures(case_facts: list[CaseFacts], step_facts: list[StepFacts], rated: list[tuple[str, str, int]],
            upheld: set[tuple[str, str]], open_follow_ups: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """One entry per matter among `case_facts`: its figures, and each department's.
    `rated`: (case_id, "overall" or department, level); `upheld`: (case_id, department) whose
    rating an upheld appeal took out; `open_follow_ups`: (case_id, department) not yet closed."""
    matter_of = {c.case_id: c.matter for c in case_facts}
    rated_in = defaultdict(list)  # (matter, department or "overall") -> levels
    for case_id, department, level in follow_up_rules.counted_ratings(rated, upheld):
        if case_id in matter_of:
            rated_in[matter_of[case_id], department].append(level)
    still_open = Counter((matter_of[c], d) for c, d in open_follow_ups if c in matter_of)
    report = []
    for matter in sorted({c.matter for c in case_facts}):
        mine = [c for c in case_facts if c.matter == matter]
        finished = [c for c in mine if c.status in FINISHED]
        head = headline(finished)
        steps = [s for s in step_facts if matter_of.get(s.case_id) == matter]
        pauses = [p for c in finished for p in c.pauses]
        departments = []
        for department in sorted({s.department for s in steps}):
            theirs = [s for s in steps if s.department == department and s.status in DECIDED_STEPS
                      and s.finished_at is not None]
            step_hours = [hours(t) for t in map(step_took, theirs) if t is not None]
            departments.append({
                "department": department, "steps_decided": len(theirs),
                "within_promised_limit": _share(s.finished_at <= s.deadline if s.deadline else None for s in theirs),
                **_durations(step_hours),
                "pauses": sum(len(s.pauses) for s in steps if s.department == department),
                "paused_working_hours": _round(sum(hours(total_paused(s.pauses))
                                                   for s in steps if s.department == department)),
                "steps_past_legal_limit": sum(past_legal_limit(s) for s in theirs),
                "ratings": rating_figures(rated_in[matter, department]),
                "open_follow_ups": still_open[matter, department],
            })
        report.append({
            "matter": matter, "title": MATTER_TITLES.get(matter, matter),
            "promised_days": MATTERS[matter].working_days if matter in MATTERS else None,
            "cases_finished": head["cases_finished"], "withdrawn": len(mine) - len(finished),
            "outcomes": dict(sorted(Counter(c.status for c in finished).items())),
            "within_promised_limit": head["within_promised_limit"],
            "median_working_hours": head["median_working_hours"], "p90_working_hours": head["p90_working_hours"],
            "pauses": len(pauses),
            "paused_working_hours": _round(sum(hours(total_paused(c.pauses)) for c in finished)),
            "steps_past_legal_limit": sum(past_legal_limit(s) for s in steps if s.status in DECIDED_STEPS),
            "ratings": rating_figures(rated_in[matter, "overall"]),
            "open_follow_ups": sum(n for (m, _), n in still_open.items() if m == matter),
            "departments": departments,
        })
    return report


def period(start: str | date, end: str | date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in China's time; at most MAX_DAYS days."""
    try:
        first = start if isinstance(start, date) else date.fromisoformat(start)
    except (TypeError, ValueError):
        raise InvalidPeriod("from: a date, YYYY-MM-DD") from None
    try:
        last = end if isinstance(end, date) else date.fromisoformat(end)
    except (TypeError, ValueError):
        raise InvalidPeriod("to: a date, YYYY-MM-DD") from None
    if last < first:
        raise InvalidPeriod("to: not before from")
    if (last - first).days >= MAX_DAYS:
        raise InvalidPeriod(f"to: at most {MAX_DAYS} days after from")
    return datetime.combine(first, time(), CHINA), datetime.combine(last + timedelta(days=1), time(), CHINA)


#: the window the 无感监测 metrics cover, in days ending today (Beijing)
RECENT_DAYS = 30


def recent(now: datetime, days: int = RECENT_DAYS) -> tuple[date, date]:
    """The last `days` days up to `now`'s day in China's time, as the report's from and to."""
    today = now.astimezone(CHINA).date()
    return today - timedelta(days=days - 1), today


def _chosen(matter: str | None, begin: datetime, until: datetime):
    chosen = select(cases.c.case_id).where((cases.c.finished_at >= begin) & (cases.c.finished_at < until))
    if matter:
        chosen = chosen.where(cases.c.matter == matter)
    return chosen.scalar_subquery()


def _pauses(session, in_period) -> dict[tuple[str, str], list[Interval]]:
    """(case_id, step) -> the step's pauses, in order."""
    pauses: dict[tuple[str, str], list[Interval]] = defaultdict(list)
    for row in session.execute(select(case_pauses).where(case_pauses.c.case_id.in_(in_period))
                               .order_by(case_pauses.c.paused_at)).mappings():
        pauses[row["case_id"], row["step"]].append((_aware(row["paused_at"]), _aware(row["resumed_at"])))
    return pauses


def _case_facts(session, in_period, pauses: dict[tuple[str, str], list[Interval]]) -> list[CaseFacts]:
    case_pauses_of: dict[str, list[Interval]] = defaultdict(list)  # by case: one pass, not one per case
    for (case_id, _), intervals in pauses.items():
        case_pauses_of[case_id].extend(intervals)
    return [CaseFacts(
        case_id=c["case_id"], matter=c["matter"], status=c["status"], submitted_at=_aware(c["submitted_at"]),
        finished_at=_aware(c["finished_at"]), promised_days=c["promised_days"],
        pauses=merged(case_pauses_of[c["case_id"]]))
        for c in session.execute(select(cases.c.case_id, cases.c.matter, cases.c.status, cases.c.submitted_at,
                                        cases.c.finished_at, cases.c.promised_days)
                                 .where(cases.c.case_id.in_(in_period))).mappings()]


def headline_report(session, start: str | date, end: str | date) -> list[dict[str, Any]]:
    """Per matter, only the report's case figures (`headline`): what the metrics show, without
    the steps, ratings and follow-ups the full report also reads."""
    in_period = _chosen(None, *period(start, end))
    facts = _case_facts(session, in_period, _pauses(session, in_period))
    return [{"matter": matter, **headline([c for c in facts if c.matter == matter])}
            for matter in sorted({c.matter for c in facts})]


def matter_report(session, matter: str | None, start: str, end: str) -> dict[str, Any]:
    begin, until = period(start, end)
    in_period = _chosen(matter, begin, until)
    pauses = _pauses(session, in_period)
    step_facts = [StepFacts(
        case_id=s["case_id"], step=s["step"], department=s["department"], status=s["status"],
        started_at=_aware(s["started_at"]) if s["started_at"] else None,
        finished_at=_aware(s["finished_at"]) if s["finished_at"] else None,
        deadline=_aware(s["deadline"]) if s["deadline"] else None, legal_days=s["legal_days"],
        pauses=pauses[s["case_id"], s["step"]])
        for s in session.execute(select(case_steps).where(case_steps.c.case_id.in_(in_period))).mappings()]
    case_facts = _case_facts(session, in_period, pauses)
    rated = []
    for row in session.execute(select(ratings).where(ratings.c.case_id.in_(in_period))).mappings():
        rated.append((row["case_id"], "overall", row["overall"]))
        rated.extend((row["case_id"], department, level) for department, level in sorted(row["departments"].items()))
    upheld, still_open = set(), []
    for row in session.execute(select(follow_ups.c.case_id, follow_ups.c.department, follow_ups.c.status,
                                      follow_ups.c.appeal_status).where(follow_ups.c.case_id.in_(in_period))):
        if row.appeal_status == "upheld":
            upheld.add((row.case_id, row.department))
        if row.status != "closed":
            still_open.append((row.case_id, row.department))
    return {"from": begin.date().isoformat(), "to": (until - timedelta(days=1)).date().isoformat(),
            "matters": figures(case_facts, step_facts, rated, upheld, still_open)}
