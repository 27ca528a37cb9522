"""Step tracking, once for every department: keep the plans that concern it, record the
outcomes of the steps they wait for, and start each of its steps exactly once when all its
prerequisites have completed — whatever order their events arrive in.

A department supplies performers: `step -> function(StepWork) -> StepReport`. The tracker runs
a performer inside the unit of work, records that the step started (a primary key makes it
once), and announces the report as the step's event.

People in the loop live here too, so every department has them without code of its own:
- a performer that returns `awaiting_review` (its rules say a human must look) puts the step in
  its department's review queue (`kit_reviews`); staff approve — the performer runs again with
  `work.approved`, so the department's own issuing logic decides — refuse, or ask for
  corrections (补正, every reason in one notice, 一次性告知);
- `case.supplement_provided` brings the corrected application: every department keeps it, and
  a step staff sent back for corrections returns to their review queue with what changed (old
  and new values): it completes only on a new decision;
- an approval may leave materials missing (容缺受理): if they are not handed in by their due
  date the decision is withdrawn — the department undoes it (its compensator) and says so;
- `case.withdrawal_requested`: the department owning the matter's point of no return (its
  `pivot` step) accepts — the pivot then never starts or completes — unless the pivot completed,
  and announces its answer; only an accepted request brings `case.withdrawn`;
- `case.withdrawn`: the case's steps that started are cancelled, and those that finished are
  undone by the department's compensator; nothing of the case starts any more;
- undo cascades: when a prerequisite is undone (announced rejected, `undoes`), every step of
  ours that started on it, directly or not, is undone by its compensator and announced undone
  (`prerequisite_undone`); one not yet started never starts. Our own undone step reaches ours
  that waited for it the same way, and our announcements reach the departments after us."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable

import structlog
from nameko.extensions import DependencyProvider
from sqlalchemy import JSON, DateTime, Integer, String, Table, TextClause, bindparam, select, text, update
from yjs_contracts.api import Reason, ReviewDecision, SupplementMaterial
from yjs_contracts.calendar import add_working_days
from yjs_contracts.envelope import Envelope, new_event
from yjs_contracts.events import (CaseWithdrawn, StepReport, SupplementProvided, WithdrawalAnswered,
                                  WithdrawalRequested, event_type_for, withdrawal_answer_event)
from yjs_contracts.plans import CHINA, MATTERS, PlanStep, parse_step_limits
from yjs_contracts.steps import FINAL_STEP_STATUSES, REPORT_EVENTS, STEP_KINDS, StepStatus

from . import decisions
from .consumer import find_database
from .metrics import REVIEW_DECISIONS
from .timers import each_due_row, not_parked
from .uow import UnitOfWork, insert_statement, upsert_statement

log = structlog.get_logger(__name__)

#: what every department hears about a case besides its plan and the completions it waits for
CASE_ACTIONS = frozenset({"case.withdrawn", "case.supplement_provided"})
WITHDRAWN = Reason(code="case_withdrawn", message="申请人撤回申请")
PREREQUISITE_UNDONE = "prerequisite_undone"
LAPSED_TIMER = "withdraw_lapsed_acceptances"
# what the tracker knows of a case, in one round trip: its plan row, the facts of the steps
# (ours and those we wait for) and our steps started, with their status
_PLAN_COLUMNS = ("matter", "owner", "application", "plan", "correlation_id", "revision", "withdrawn_at")
_PROGRESS_TYPES = dict(kind=String, step=String, status=String, outputs=JSON, matter=String, owner=String,
                       application=JSON, plan=JSON, correlation_id=String, revision=Integer,
                       withdrawn_at=DateTime(timezone=True))


def _progress_sql(plan_source: str) -> str:
    return (f"SELECT 'plan' AS kind, NULL AS step, NULL AS status, NULL AS outputs, {', '.join(_PLAN_COLUMNS)}"
            f" FROM {plan_source}"
            f" UNION ALL SELECT 'fact', step, status, outputs, {', '.join(['NULL'] * len(_PLAN_COLUMNS))}"
            " FROM kit_step_facts WHERE case_id = :case_id"
            f" UNION ALL SELECT 'step', step, status, NULL, {', '.join(['NULL'] * len(_PLAN_COLUMNS))}"
            " FROM kit_steps WHERE case_id = :case_id")


PROGRESS = text(_progress_sql("kit_plans WHERE case_id = :case_id")).columns(**_PROGRESS_TYPES)


@lru_cache(maxsize=None)
def plan_kept_with_progress(plans: Table, columns: tuple[str, ...]) -> TextClause:
    """PostgreSQL: the plan kept (inserted, or updated when the case's withdrawal came first)
    and the case's progress read back, in one statement. The plan row is RETURNING's, as it now
    stands; facts and steps are read as PROGRESS reads them (the insert changes neither)."""
    upsert = upsert_statement(plans, ("case_id",), columns, True)
    return text(f"WITH kept AS ({upsert.text} RETURNING {', '.join(_PLAN_COLUMNS)}) {_progress_sql('kept')}"
                ).bindparams(*(bindparam(c, type_=plans.c[c].type) for c in columns)).columns(**_PROGRESS_TYPES)


@lru_cache(maxsize=None)
def step_with_fact(steps: Table, facts: Table, started: bool) -> TextClause:
    """PostgreSQL: one of our steps' row written (inserted when it has just `started`, else its
    status updated) and its fact kept, in one statement; the row's primary key still refuses a
    second start, failing the whole statement."""
    fact = upsert_statement(facts, ("case_id", "step"), ("case_id", "step", "status", "outputs"), True)
    if started:
        row = insert_statement(steps, ("case_id", "step", "status", "started_at", "finished_at")).text
    else:
        row = ("UPDATE kit_steps SET status = :status, finished_at = :finished_at"
               " WHERE case_id = :case_id AND step = :step")
    types = {**{c.name: c.type for c in steps.c}, **{c.name: c.type for c in facts.c}}
    names = ("case_id", "step", "status", "outputs", "finished_at") + (("started_at",) if started else ())
    return text(f"WITH step AS ({row}) {fact.text}").bindparams(*(bindparam(n, type_=types[n]) for n in names))


@dataclass(frozen=True)
class StaffDecision:
    """The staff decision a performer runs again with (人工审核)."""

    review_id: str
    decision: str  # approve, refuse
    decided_by: str
    comment: str | None = None
    reasons: tuple[Reason, ...] = ()  # a refusal's


@dataclass
class StepWork:
    """What a performer gets: the case's application, the outputs of the steps it waited for
    (材料共享: nothing is asked twice), and the unit of work for the department's own records.
    `review` is set when staff decided the step; `undo_reason` when a compensator undoes it
    (`withdrawn`, `refused`, `materials_not_supplied`, `prerequisite_undone`). `cause` is None
    when staff decided."""

    case_id: str
    step: str
    matter: str
    application: dict[str, Any]
    facts: dict[str, dict[str, Any]]
    uow: UnitOfWork
    cause: Envelope | None
    review: StaffDecision | None = None
    undo_reason: str | None = None

    @property
    def session(self):
        return self.uow.session

    @property
    def approved(self) -> bool:
        """Staff approved what the rules sent them: issue, do not send to review again."""
        return self.review is not None and self.review.decision == "approve"


Performer = Callable[[StepWork], StepReport]
#: undoes what a step holds in the department's records (a name reserved, a clearance given);
#: the tracker announces the step cancelled (or, for a withdrawn decision or a prerequisite
#: undone, rejected) itself
Compensator = Callable[[StepWork], None]
#: what a staff refusal means for a step that may take effect in part (some permits issued at
#: once, others refused): the report to announce, or None for an ordinary refusal
Refuser = Callable[[StepWork], "StepReport | None"]


class ReviewNotFound(LookupError):
    pass


class ReviewClosed(Exception):
    """The review is no longer waiting for a decision (decided, or its case withdrawn)."""


class InvalidDecision(ValueError):
    pass


class CaseClosed(Exception):
    """The case was withdrawn: nothing of it is concluded or started any more."""


@dataclass(frozen=True)
class Fact:
    status: str
    outputs: dict[str, Any]


def department_event_types(department: str) -> set[str]:
    """What a department listens to: submissions, withdrawals and supplements, and the
    completions of every step that one of its steps waits for, in any matter — and their
    refusals, which is how an undone one is announced (undo cascades); and withdrawal requests,
    when it owns some matter's point of no return (its pivot)."""
    types = {"case.submitted", *CASE_ACTIONS}
    if any(matter.pivot and STEP_KINDS[matter.pivot].department == department for matter in MATTERS.values()):
        types.add("case.withdrawal_requested")
    for matter in MATTERS.values():
        for rule in matter.steps:
            if STEP_KINDS[rule.step].department == department:
                # its own steps' outcomes it records as it performs them
                types.update(event for a in rule.after if STEP_KINDS[a.step].department != department
                             for event in (STEP_KINDS[a.step].completed_event, STEP_KINDS[a.step].rejected_event))
    return types


def own_report_events(department: str) -> frozenset[str]:
    """The events a department announces its own steps' outcomes with."""
    return frozenset(event for kind in STEP_KINDS.values() if kind.department == department for event in kind.events)


def value_at(application: Any, path: str) -> Any:
    """The value at `application.a.0.b`, or None where there is none."""
    target = application
    for part in path.split(".")[1:]:
        try:
            target = target[int(part)] if isinstance(target, list) else target[part]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return target


def corrections_made(before: dict[str, Any], supplied: SupplementProvided) -> list[dict[str, Any]]:
    """What a supplement changed, for the staff who decide again: each field with its old and
    new value, and each material handed in."""
    changes = []
    for item in supplied.items:
        if isinstance(item, SupplementMaterial):
            changes.append({"material": item.material, "document_id": item.document_id})
        else:
            changes.append({"field": item.field, "old": value_at(before, item.field),
                            "new": value_at(supplied.application, item.field)})
    return changes


def review_id(number: int) -> str:
    return f"R{number:08d}"


def _review_number(review: str) -> int:
    if len(review) < 2 or review[0] != "R" or not review[1:].isdigit():
        raise ReviewNotFound(f"no such review {review}")
    return int(review[1:])


def _aware(value: datetime | None) -> datetime | None:
    # SQLite drops the zone; everything is stored in UTC
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


class StepTracker(DependencyProvider):
    """`self.steps.handle(event)` from the department's event entrypoint; `compensators`
    (step -> function) undo what a finished step did when its case is withdrawn, its decision
    withdrawn, or a prerequisite it started on undone."""

    def __init__(self, performers: dict[str, Performer], compensators: dict[str, Compensator] | None = None,
                 refusers: dict[str, Refuser] | None = None,
                 keep_own: Callable[[UnitOfWork, Envelope], None] | None = None):
        self.performers = performers
        self.compensators = compensators or {}
        self.refusers = refusers or {}
        # a department keeping every department's reports (registration's enterprise record)
        # keeps its own as it announces them, in the same transaction, rather than hearing them
        # back from the broker: one delivery fewer for each (own_report_events)
        self.keep_own = keep_own
        self.department = STEP_KINDS[next(iter(performers))].department if performers else None
        self.event_types = frozenset(department_event_types(self.department)) if self.department else frozenset()

    def get_dependency(self, worker_ctx):
        return self

    def takes(self, event: Envelope) -> bool:
        """Whether `handle` marks this event applied (in a batch, marked ahead with the others)."""
        return event.event_type in self.event_types and decisions.concerns(event.event_type, event.data, self.performers)

    def handle(self, event: Envelope) -> list[StepReport]:
        if not decisions.concerns(event.event_type, event.data, self.performers):
            return []  # a plan, withdrawal or request with no step of ours: no transaction at all
        database = find_database(self.container)
        with database.unit_of_work() as uow:
            if event.case_id is None or not uow.first_time(event, "steps", lock=event.case_id, alike=self.takes):
                return []
            if event.event_type == "case.submitted":
                plan = [PlanStep.model_validate(step).model_dump(mode="json") for step in event.data["plan"]]
                if not any(step["step"] in self.performers for step in plan):
                    return []  # not ours: keep nothing
                stored, *progress = self._keep_plan(uow, dict(
                    case_id=event.case_id, matter=event.data["matter"], owner=event.data.get("owner"),
                    application=event.data["application"], plan=plan, received_at=datetime.now(timezone.utc),
                    correlation_id=event.correlation_id))
                return self._start_ready(uow, event.case_id, event, tuple(progress), stored)
            elif event.event_type == "case.withdrawn":
                return self._withdraw(uow, event)
            elif event.event_type == "case.withdrawal_requested":
                self._answer_withdrawal(uow, event)
                return []
            elif event.event_type == "case.supplement_provided":
                reports = self._supplement(uow, event)
                return reports + self._start_ready(uow, event.case_id, event)
            elif event.event_type in REPORT_EVENTS:
                report = StepReport.model_validate(event.data)
                stored, *progress = self._progress(uow, event.case_id)
                if self._keep_fact(uow, event.case_id, report, progress[0]) and decisions.cascades(
                        report.status, report.undoes):  # what it undoes changes the steps: read again
                    return self._undo_built_on(uow, stored, report, event) + self._start_ready(
                        uow, event.case_id, event)
                return self._start_ready(uow, event.case_id, event, tuple(progress), stored)
            return self._start_ready(uow, event.case_id, event)

    def _keep_fact(self, uow: UnitOfWork, case_id: str, report: StepReport, facts: dict[str, Fact]) -> bool:
        """Keep another department's report of a step we wait for, unless the step had already
        ended (a late or repeated report, a completion arriving after its undo). An undo keeps
        what the step had produced, for the compensators of what was built on it. `facts` (the
        case's, as read under its lock) is kept up to date."""
        kept = facts.get(report.step)
        if kept is not None and not decisions.folds_into(kept.status, report.status, report.undoes):
            return False
        outputs = kept.outputs if kept is not None and report.undoes else report.outputs
        uow.upsert_later(uow.tables["kit_step_facts"], ["case_id", "step"], case_id=case_id, step=report.step,
                         status=report.status.value, outputs=outputs)
        facts[report.step] = Fact(report.status.value, outputs)
        return True

    # -- the one way a later outcome of a step is concluded ---------------------------------

    def report(self, uow: UnitOfWork, case_id: str, report: StepReport,
               cause: Envelope | None = None) -> list[StepReport]:
        """A later outcome of one of our steps (a notice's period over, an objection, a report
        handed in, a timer's decision): under the case's lock, its status and fact are recorded,
        it is announced, and what it made ready starts. Refused (CaseClosed) on a withdrawn case,
        and LookupError when the case's plan never reached this department."""
        uow.lock(case_id)
        stored = self._plan_row(uow, case_id)
        if stored is None:
            raise LookupError(f"no plan of case {case_id} here")
        if stored["withdrawn_at"] is not None:
            raise CaseClosed(f"case {case_id} was withdrawn")
        self._conclude(uow, stored, report, cause)
        undone = self._undo_built_on(uow, stored, report, cause) if decisions.cascades(
            report.status, report.undoes) else []
        return [report, *undone] + self._start_ready(uow, case_id, cause)

    # -- starting steps ---------------------------------------------------------------------

    def applicant_of(self, uow: UnitOfWork, case_id: str) -> str | None:
        """The subject of the case's applicant, as the case service announced it with the plan;
        None when no plan of the case reached this department."""
        stored = self._plan_row(uow, case_id)
        return stored["owner"] if stored is not None else None

    def _plan_row(self, uow: UnitOfWork, case_id: str):
        return uow.row(uow.tables["kit_plans"], case_id=case_id)

    def _facts(self, uow: UnitOfWork, case_id: str) -> dict[str, Fact]:
        facts_table = uow.tables["kit_step_facts"]
        return {row.step: Fact(row.status, row.outputs) for row in uow.session.execute(
            select(facts_table).where(facts_table.c.case_id == case_id)).all()}

    def _progress(self, uow: UnitOfWork, case_id: str) -> tuple[dict | None, dict[str, Fact], dict[str, str]]:
        """The case's plan row (None before its plan arrived), its facts (step -> Fact) and our
        steps started (step -> status)."""
        return self._progress_of(uow.fetch(PROGRESS, {"case_id": case_id}), case_id)

    def _keep_plan(self, uow: UnitOfWork, values: dict) -> tuple[dict, dict[str, Fact], dict[str, str]]:
        """The plan kept, and the case's progress with it (as `_progress`)."""
        if uow.postgres:
            return self._progress_of(uow.fetch(plan_kept_with_progress(uow.tables["kit_plans"], tuple(values)), values),
                                     values["case_id"])
        stored = uow.upserted(uow.tables["kit_plans"], ["case_id"], **values)
        _, *progress = self._progress(uow, values["case_id"])
        return (stored, *progress)

    @staticmethod
    def _progress_of(rows: list[dict], case_id: str) -> tuple[dict | None, dict[str, Fact], dict[str, str]]:
        stored, facts, started = None, {}, {}
        for row in rows:
            if row["kind"] == "plan":
                stored = {"case_id": case_id, **{column: row[column] for column in _PLAN_COLUMNS}}
            elif row["kind"] == "fact":
                facts[row["step"]] = Fact(row["status"], row["outputs"])
            else:
                started[row["step"]] = row["status"]
        return stored, facts, started

    def _start_ready(self, uow: UnitOfWork, case_id: str, cause: Envelope | None,
                     progress: tuple[dict[str, Fact], dict[str, str]] | None = None, stored=None) -> list[StepReport]:
        """`progress`, `stored`: the case's facts and steps started, and its plan row, as already
        read or written in this unit of work."""
        if progress is None:
            read, *progress = self._progress(uow, case_id)
            stored = stored if stored is not None else read
        if stored is None:
            return []  # the plan has not arrived yet; its arrival will start what is ready
        withdrawn = stored["withdrawn_at"] is not None
        # the plan as validated when it was kept: only its graph is needed here
        graph = [(step["step"], step["after"]) for step in stored["plan"]]
        after = dict(graph)
        facts, started = progress
        started = set(started)
        reports = []
        while True:  # a step of ours may be what another step of ours waits for
            ready = decisions.turn_came(graph, self.performers, {k: f.status for k, f in facts.items()}, started)
            if not ready:
                return reports
            step, now = ready[0], datetime.now(timezone.utc)
            # the step's row is written once, with its outcome (the lock and the read of what
            # started keep it to once; its primary key would refuse a second)
            if decisions.on_turn(withdrawn) == decisions.CANCEL:  # it never starts, and says so
                report = StepReport(step=step, status=StepStatus.cancelled, reasons=[WITHDRAWN])
                self._conclude(uow, stored, report, cause, started_at=now)
            else:
                report = self._run(uow, stored, step, {a: facts[a].outputs for a in after[step]}, cause,
                                   started_at=now)
            started.add(step)
            reports.append(report)
            facts[step] = Fact(report.status.value, report.outputs)

    def _work(self, uow, stored, step: str, facts: dict[str, dict[str, Any]], cause, **extra) -> StepWork:
        return StepWork(case_id=stored["case_id"], step=step, matter=stored["matter"],
                        application=stored["application"], facts=facts, uow=uow, cause=cause, **extra)

    def _run(self, uow, stored, step: str, facts, cause, review: StaffDecision | None = None,
             amend: Callable[[StepReport], StepReport] | None = None, started_at: datetime | None = None) -> StepReport:
        report = self.performers[step](self._work(uow, stored, step, facts, cause, review=review))
        if review is not None and report.status == StepStatus.awaiting_review:
            raise RuntimeError(f"{step}: the performer sent an approved step to review again")
        if review is not None:
            report = report.model_copy(update={"decided_by": review.decided_by})
        if amend is not None:
            report = amend(report)
        self._conclude(uow, stored, report, cause, facts, started_at=started_at)
        log.info("step performed", step=step, status=report.status.value)
        return report

    def _conclude(self, uow, stored, report: StepReport, cause: Envelope | None,
                  facts: dict[str, dict[str, Any]] | None = None, review: dict[str, Any] | None = None,
                  started_at: datetime | None = None) -> None:
        """Record the step's new status (and its review, when it goes to staff, with `review`'s
        extra data), keep it as a fact for the steps that wait for it, and announce it.
        `started_at`: the step has just started here, and has no row yet."""
        tables, case_id, now = uow.tables, stored["case_id"], datetime.now(timezone.utc)
        if report.status == StepStatus.awaiting_review:
            uow.session.execute(tables["kit_reviews"].insert().values(
                case_id=case_id, step=report.step, status="waiting",
                reasons=[r.model_dump() for r in report.reasons],
                # the revision of the application staff see, and decide on
                data={"matter": stored["matter"], "application": stored["application"], "facts": facts or {},
                      "outputs": report.outputs, "revision": stored["revision"], **(review or {})},
                created_at=now))
        finished_at = now if report.status in FINAL_STEP_STATUSES else None
        if uow.postgres:
            params = dict(case_id=case_id, step=report.step, status=report.status.value, outputs=report.outputs,
                          finished_at=finished_at, **({"started_at": started_at} if started_at is not None else {}))
            uow.write(step_with_fact(tables["kit_steps"], tables["kit_step_facts"], started_at is not None), params)
        else:
            if started_at is not None:
                uow.insert(tables["kit_steps"], case_id=case_id, step=report.step, status=report.status.value,
                           started_at=started_at, finished_at=finished_at)
            else:
                uow.update(tables["kit_steps"], {"case_id": case_id, "step": report.step},
                           status=report.status.value, finished_at=finished_at)
            uow.upsert(tables["kit_step_facts"], ["case_id", "step"], case_id=case_id, step=report.step,
                       status=report.status.value, outputs=report.outputs)
        announced = new_event(event_type_for(report), report, case_id=case_id, causation=cause,
                              correlation_id=None if cause else stored["correlation_id"])
        uow.announce(announced)
        if self.keep_own is not None:
            self.keep_own(uow, announced)

    def _rerun(self, uow, stored, step: str, cause, review: StaffDecision | None = None,
               amend: Callable[[StepReport], StepReport] | None = None) -> StepReport:
        plan = {p["step"]: p for p in stored["plan"]}
        facts = self._facts(uow, stored["case_id"])
        prerequisites = {a: facts[a].outputs for a in plan[step]["after"] if a in facts}
        return self._run(uow, stored, step, prerequisites, cause, review, amend)

    def _refuse_in_part(self, uow, stored, step: str, staff: StaffDecision) -> StepReport | None:
        plan = {p["step"]: p for p in stored["plan"]}
        facts = self._facts(uow, stored["case_id"])
        prerequisites = {a: facts[a].outputs for a in plan[step]["after"] if a in facts}
        return self.refusers[step](self._work(uow, stored, step, prerequisites, None, review=staff))

    def _undo_built_on(self, uow, stored, undone: StepReport, cause: Envelope | None) -> list[StepReport]:
        """Undo cascades: each of our steps that started on the undone step, directly or not, is
        undone by its compensator and announced — rejected and `undoes` if it had completed
        (which reaches the departments after us), cancelled if it was still open. Under the case
        lock the caller holds; a step already ended is left, so a redelivery changes nothing."""
        if stored is None or stored["withdrawn_at"] is not None:
            return []  # no plan here yet (it will find the prerequisite undone), or withdrawn: undone already
        steps = uow.tables["kit_steps"]
        started = {row.step: row.status for row in uow.session.execute(
            select(steps.c.step, steps.c.status).where(steps.c.case_id == stored["case_id"])).all()}
        graph = [(p["step"], p["after"]) for p in stored["plan"]]
        kind = STEP_KINDS[undone.step]
        why = "；".join(r.message for r in undone.reasons) or "原决定撤销"
        reason = Reason(code=PREREQUISITE_UNDONE, field=f"step:{undone.step}",
                        message=f"所依据的{kind.title}已撤销：{why}")
        reports = []
        for step, action in decisions.undone_with(graph, undone.step, self.performers, started, self.compensators):
            if action == decisions.SKIP:
                continue
            if action == decisions.LEAVE:
                log.warning("a finished step has no compensator: left as it is", step=step, undone=undone.step)
                continue
            completed = started[step] == StepStatus.completed
            self._undo(uow, stored, step, PREREQUISITE_UNDONE, cause)
            self._close_reviews(uow, stored["case_id"], step)
            report = StepReport(step=step, status=StepStatus.rejected if completed else StepStatus.cancelled,
                                reasons=[reason], undoes=completed)
            self._conclude(uow, stored, report, cause)
            started[step] = report.status.value
            reports.append(report)
            log.warning("step undone: a prerequisite was undone", step=step, undone=undone.step)
        return reports

    @staticmethod
    def _close_reviews(uow: UnitOfWork, case_id: str, step: str | None = None) -> None:
        """Nothing of the case (or of `step`) waits for staff or for missing materials any more."""
        reviews = uow.tables["kit_reviews"]
        ours = reviews.c.case_id == case_id
        if step is not None:
            ours = ours & (reviews.c.step == step)
        uow.session.execute(update(reviews).where(ours & reviews.c.status.in_(("waiting", "corrections"))).values(
            status="closed"))
        uow.session.execute(update(reviews).where(ours & (reviews.c.materials_status == "pending")).values(
            materials_status="closed"))

    def _undo(self, uow, stored, step: str, reason: str, cause) -> None:
        compensator = self.compensators.get(step)
        if compensator is not None:
            plan = {p["step"]: p for p in stored["plan"]}
            facts = self._facts(uow, stored["case_id"])
            prerequisites = {a: facts[a].outputs for a in plan.get(step, {}).get("after", []) if a in facts}
            compensator(self._work(uow, stored, step, prerequisites, cause, undo_reason=reason))

    # -- staff review (人工审核) ---------------------------------------------------------------

    def reviews(self, status: str = "waiting", case_id: str | None = None, limit: int = 50,
                after: str | None = None) -> dict[str, Any]:
        """The department's reviews, oldest first; `after` is the last review_id of the previous page."""
        database = find_database(self.container)
        table = database.metadata.tables["kit_reviews"]
        limit = max(1, min(int(limit), 200))
        # a step sent back for corrections is decided, as far as staff are concerned
        statuses = ("decided", "corrections") if status == "decided" else (status,)
        query = select(table).where(table.c.status.in_(statuses)).order_by(table.c.id).limit(limit + 1)
        if case_id:
            query = query.where(table.c.case_id == case_id)
        if after:
            query = query.where(table.c.id > _review_number(after))
        with database.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        items = [self._review_view(row) for row in rows[:limit]]
        return {"items": items, "next": items[-1]["review_id"] if len(rows) > limit else None}

    def _review_view(self, row) -> dict[str, Any]:
        return {
            "review_id": review_id(row["id"]), "case_id": row["case_id"], "step": row["step"],
            "department": self.department, "status": "decided" if row["status"] == "corrections" else row["status"],
            "reasons": row["reasons"], "data": row["data"], "created_at": _aware(row["created_at"]).isoformat(),
            "decision": row["decision"], "decision_reasons": row["decision_reasons"] or [],
            "comment": row["comment"], "decided_by": row["decided_by"],
            "decided_at": _aware(row["decided_at"]).isoformat() if row["decided_at"] else None,
            "revision": row["data"].get("decided_on_revision", row["data"].get("revision")),
            "corrections": row["data"].get("corrections", []),
        }

    def decide(self, review: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
        """A staff decision, announced as the step's event like any automatic one, with who
        made it. approve: the performer runs again with the approval (possibly 容缺受理);
        refuse: the step is rejected (and what it holds released); request_corrections: the
        step waits for the applicant with every reason in one notice."""
        decision = ReviewDecision.model_validate(body)
        number = _review_number(review)
        database = find_database(self.container)
        with database.unit_of_work() as uow:
            table = uow.tables["kit_reviews"]
            found = uow.session.execute(select(table.c.case_id).where(table.c.id == number)).first()
            if found is None:
                raise ReviewNotFound(f"no such review {review}")
            uow.lock(found.case_id)  # the tracker's own lock: no event of the case runs meanwhile
            row = uow.session.execute(select(table).where(table.c.id == number)).mappings().one()
            if row["status"] != "waiting":
                raise ReviewClosed(f"review {review} is no longer waiting ({row['status']})")
            stored = self._plan_row(uow, row["case_id"])
            if stored is None or stored["withdrawn_at"] is not None:
                raise ReviewClosed(f"review {review}: the case was withdrawn")
            now = datetime.now(timezone.utc)
            step = row["step"]
            materials_due = None
            missing = []
            if decision.decision == "approve":
                if decision.missing_materials:  # 容缺受理
                    materials_due = self._materials_due(step, decision.materials_due, now)
                    missing = [{**m.model_dump(), "document_id": None} for m in decision.missing_materials]

                def lacking(report: StepReport) -> StepReport:
                    # the record says what is still to come, and by when (一次性告知)
                    if not missing or report.status != StepStatus.completed:
                        return report
                    return report.model_copy(update={"materials_due": materials_due, "reasons": [
                        *report.reasons, *(Reason(code="materials_missing", message=m.message,
                                                  field=f"material:{m.material}") for m in decision.missing_materials)]})

                staff = StaffDecision(review, "approve", actor, decision.comment)
                report = self._rerun(uow, stored, step, None, staff, lacking)
                if report.status != StepStatus.completed:
                    missing, materials_due = [], None
                self._start_ready(uow, stored["case_id"], None)
            else:
                status = StepStatus.rejected if decision.decision == "refuse" else StepStatus.awaiting_applicant
                report = StepReport(step=step, status=status, reasons=decision.reasons, decided_by=actor)
                in_part = None
                if decision.decision == "refuse" and step in self.refusers:
                    staff = StaffDecision(review, "refuse", actor, decision.comment, tuple(decision.reasons))
                    in_part = self._refuse_in_part(uow, stored, step, staff)
                if in_part is not None:  # what was issued stands: the step took effect in part
                    report = in_part.model_copy(update={"decided_by": actor})
                    self.report(uow, stored["case_id"], report)
                else:
                    if decision.decision == "refuse":
                        self._undo(uow, stored, step, "refused", None)
                    self.report(uow, stored["case_id"], report)
            revision = stored["revision"]
            uow.session.execute(update(table).where(table.c.id == number).values(
                data={**row["data"], "decided_on_revision": revision},
                status="corrections" if decision.decision == "request_corrections" else "decided",
                decision=decision.decision, decision_reasons=[r.model_dump() for r in decision.reasons],
                comment=decision.comment, decided_by=actor, decided_at=now,
                missing_materials=missing or None, materials_due=materials_due,
                materials_status="pending" if missing else None))
        log.info("review decided", review_id=review, step=step, decision=decision.decision, decided_by=actor)
        REVIEW_DECISIONS.labels(self.container.service_name, decision.decision).inc()  # after the commit
        return {"review_id": review, "case_id": row["case_id"], "step": step, "decision": decision.decision,
                "step_status": report.status.value, "decided_by": actor, "decided_at": now.isoformat(),
                "revision": revision,
                "materials_due": materials_due.isoformat() if materials_due else None}

    @staticmethod
    def _materials_due(step: str, asked: datetime | None, now: datetime) -> datetime:
        """容缺: never later than the step's promised limit from now (STEP_LIMITS or the plan's)."""
        days = parse_step_limits(os.environ.get("STEP_LIMITS")).get(step) or next(
            rule.working_days for matter in MATTERS.values() for rule in matter.steps if rule.step == step)
        latest = add_working_days(now.astimezone(CHINA), days)
        if asked is None:
            return latest
        if asked <= now:
            raise InvalidDecision("materials_due must be in the future")
        if asked > latest:
            raise InvalidDecision(f"materials_due may be at most the step's promised limit from now ({latest.isoformat()})")
        return asked

    def withdraw_lapsed_acceptances(self, now: datetime | None = None, batch: int = 50) -> list[str]:
        """容缺受理 whose materials did not come by their due date: the decision is withdrawn
        (终止) — the department undoes it and the step is announced rejected, undone. Once per
        review, whichever replica gets there; each in a transaction of its own, so one that
        keeps failing is parked rather than holding back the rest."""
        now = now or datetime.now(timezone.utc)
        database = find_database(self.container)
        table = database.metadata.tables["kit_reviews"]
        with database.engine.connect() as connection:
            due = connection.execute(select(table.c.id).where(
                (table.c.materials_status == "pending") & (table.c.materials_due <= now)
                & not_parked(LAPSED_TIMER, table.c.id, database.metadata)
            ).order_by(table.c.materials_due).limit(batch)).scalars().all()
        withdrawn = each_due_row(database, self.container.service_name, LAPSED_TIMER, list(due),
                                 lambda uow, number: self._withdraw_lapsed(uow, number, now))
        if withdrawn:
            log.warning("容缺 decisions withdrawn: materials not supplied", reviews=withdrawn)
        return withdrawn

    def _withdraw_lapsed(self, uow: UnitOfWork, number: int, now: datetime) -> str | None:
        table = uow.tables["kit_reviews"]
        case_id = uow.session.execute(select(table.c.case_id).where(table.c.id == number)).scalar()
        uow.lock(case_id)  # the case's lock first, as every handler takes it
        if not uow.session.execute(update(table).where(
                (table.c.id == number) & (table.c.materials_status == "pending")).values(
                materials_status="expired")).rowcount:
            return None  # supplied meanwhile, or another replica withdrew it
        row = uow.session.execute(select(table).where(table.c.id == number)).mappings().one()
        stored = self._plan_row(uow, case_id)
        if stored is None or stored["withdrawn_at"] is not None:
            return None  # the withdrawal undid the step already
        missing = [m for m in row["missing_materials"] or [] if not m.get("document_id")]
        self._undo(uow, stored, row["step"], "materials_not_supplied", None)
        self.report(uow, case_id, StepReport(step=row["step"], status=StepStatus.rejected, undoes=True, reasons=[
            Reason(code="materials_not_supplied",
                   message=f"容缺材料“{m['material']}”未在 {_aware(row['materials_due']).astimezone(CHINA):%Y-%m-%d %H:%M} "
                           "前补齐，受理决定撤回", field=f"material:{m['material']}") for m in missing]))
        return review_id(row["id"])

    # -- the applicant's supplements (补正) and withdrawal ------------------------------------

    def _supplement(self, uow: UnitOfWork, event: Envelope) -> list[StepReport]:
        supplied = SupplementProvided.model_validate(event.data)
        stored = self._plan_row(uow, event.case_id)
        if stored is None or stored["withdrawn_at"] is not None:
            return []
        plans, table = uow.tables["kit_plans"], uow.tables["kit_reviews"]
        before = stored["application"]
        if supplied.revision > stored["revision"]:  # supplements may arrive in any order: keep the latest
            uow.session.execute(update(plans).where(plans.c.case_id == event.case_id).values(
                application=supplied.application, revision=supplied.revision))
        handed_in = {item.material: item.document_id for item in supplied.items if isinstance(item, SupplementMaterial)}
        for row in uow.session.execute(select(table).where(
                (table.c.case_id == event.case_id) & (table.c.materials_status == "pending"))).mappings().all():
            materials = [{**m, "document_id": m.get("document_id") or handed_in.get(m["material"])}
                         for m in row["missing_materials"]]
            complete = all(m["document_id"] for m in materials)
            uow.session.execute(update(table).where(table.c.id == row["id"]).values(
                missing_materials=materials, materials_status="received" if complete else "pending"))
        waiting = uow.session.execute(select(table).where(
            (table.c.case_id == event.case_id) & (table.c.status == "corrections"))).mappings().all()
        reports = []
        stored = self._plan_row(uow, event.case_id)
        corrections = corrections_made(before, supplied)
        for row in waiting:
            # staff asked for the corrections, so staff decide again on what came back: the step
            # returns to their queue with what changed, and never completes without a new decision
            uow.session.execute(update(table).where(table.c.id == row["id"]).values(status="decided"))
            report = StepReport(step=row["step"], status=StepStatus.awaiting_review,
                                reasons=[Reason.model_validate(r) for r in row["decision_reasons"] or []])
            plan = {p["step"]: p for p in stored["plan"]}
            facts = self._facts(uow, stored["case_id"])
            prerequisites = {a: facts[a].outputs for a in plan[row["step"]]["after"] if a in facts}
            self._conclude(uow, stored, report, event, prerequisites, review={
                "corrections": corrections, "corrections_requested_in": review_id(row["id"])})
            reports.append(report)
        return reports

    def _answer_withdrawal(self, uow: UnitOfWork, event: Envelope) -> None:
        """Ours to answer when the matter's pivot step is ours: under the case lock the caller
        holds, so the pivot's own turn (its plan arriving, a staff decision, a timer) comes either
        before — it completed, refused — or after — the case is withdrawn here and it never starts
        or completes. Accepting marks the case withdrawn here (its plan may not have come yet);
        what started is undone when case.withdrawn follows."""
        request = WithdrawalRequested.model_validate(event.data)
        if request.pivot not in self.performers:
            return
        steps = uow.tables["kit_steps"]
        pivot_status = uow.session.execute(select(steps.c.status).where(
            (steps.c.case_id == event.case_id) & (steps.c.step == request.pivot))).scalar()
        answer = decisions.on_withdrawal_request(pivot_status, self._withdrawn(uow, event.case_id))
        if answer is None:
            return  # accepted already: the case's withdrawal is under way
        reasons = []
        if answer == decisions.ACCEPT:
            self._mark_withdrawn(uow, event.case_id, request.matter, event.correlation_id)
        else:
            kind = STEP_KINDS[request.pivot]
            reasons = [Reason(code="withdrawal_refused", field=f"step:{request.pivot}",
                              message=f"{kind.title}已办结，申请不能撤回")]
        uow.announce(new_event(
            withdrawal_answer_event(self.department, answer == decisions.ACCEPT),
            WithdrawalAnswered(pivot=request.pivot, request_id=str(event.event_id), withdrawal_reason=request.reason,
                               reasons=reasons, answered_at=datetime.now(timezone.utc)),
            case_id=event.case_id, causation=event))
        log.info("withdrawal answered", pivot=request.pivot, answer=answer)

    def _withdrawn(self, uow: UnitOfWork, case_id: str) -> bool:
        stored = self._plan_row(uow, case_id)
        return stored is not None and stored["withdrawn_at"] is not None

    def _mark_withdrawn(self, uow: UnitOfWork, case_id: str, matter: str, correlation_id) -> None:
        """Nothing of the case starts here any more; a plan still to come finds it withdrawn."""
        plans, now = uow.tables["kit_plans"], datetime.now(timezone.utc)
        if self._plan_row(uow, case_id) is None:
            uow.session.execute(plans.insert().values(
                case_id=case_id, matter=matter, application={}, plan=[], received_at=now,
                correlation_id=correlation_id, withdrawn_at=now))
        else:
            uow.session.execute(update(plans).where(
                (plans.c.case_id == case_id) & plans.c.withdrawn_at.is_(None)).values(withdrawn_at=now))

    def _withdraw(self, uow: UnitOfWork, event: Envelope) -> list[StepReport]:
        """Every step of ours that started is cancelled or undone. The case may already be marked
        withdrawn here (we owned its pivot and accepted): what started is undone all the same,
        and a step already ended is skipped, so nothing is undone twice."""
        withdrawal = CaseWithdrawn.model_validate(event.data)
        if not any(step in self.performers for step in withdrawal.steps):
            return []
        steps = uow.tables["kit_steps"]
        self._mark_withdrawn(uow, event.case_id, withdrawal.matter, event.correlation_id)
        stored = self._plan_row(uow, event.case_id)
        self._close_reviews(uow, event.case_id)
        reason = WITHDRAWN.model_copy(update={"message": f"申请人撤回申请：{withdrawal.reason}"})
        reports = []
        for row in uow.session.execute(select(steps).where(steps.c.case_id == event.case_id)).mappings().all():
            status = StepStatus(row["status"])
            action = decisions.on_undo(status, row["step"] in self.compensators)
            if action == decisions.SKIP:
                continue  # ended without an outcome: nothing to undo
            if action == decisions.LEAVE:
                log.warning("a finished step has no compensator: left as it is", step=row["step"])
                continue
            self._undo(uow, stored, row["step"], "withdrawn", event)
            report = StepReport(step=row["step"], status=StepStatus.cancelled, reasons=[reason],
                                undoes=status == StepStatus.completed)
            self._conclude(uow, stored, report, event)
            reports.append(report)
        return reports + self._start_ready(uow, event.case_id, event)
