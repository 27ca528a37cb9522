"""Step tracking, once for every department: keep the plans that concern it, record the
outcomes of the steps they wait for, and start each of its steps exactly once when all its
prerequisites have completed — whatever order their events arrive in.

A department supplies performers: `step -> function(StepWork) -> StepReport`. The tracker runs
a performer inside the unit of work, records that the step started (a primary key makes it
once), and announces the report as the step's event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import structlog
from nameko.extensions import DependencyProvider
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from yjs_contracts.envelope import Envelope, new_event
from yjs_contracts.events import StepReport, event_type_for
from yjs_contracts.plans import MATTERS, PlanStep
from yjs_contracts.steps import REPORT_EVENTS, STEP_KINDS, StepStatus

from .consumer import find_database
from .uow import UnitOfWork

log = structlog.get_logger(__name__)


@dataclass
class StepWork:
    """What a performer gets: the case's application, the outputs of the steps it waited for
    (材料共享: nothing is asked twice), and the unit of work for the department's own records."""

    case_id: str
    step: str
    matter: str
    application: dict[str, Any]
    facts: dict[str, dict[str, Any]]
    uow: UnitOfWork
    cause: Envelope

    @property
    def session(self):
        return self.uow.session


Performer = Callable[[StepWork], StepReport]


@dataclass(frozen=True)
class Fact:
    status: str
    outputs: dict[str, Any]


def department_event_types(department: str) -> set[str]:
    """What a department listens to: submissions, and the completions of every step that one
    of its steps waits for, in any matter."""
    types = {"case.submitted"}
    for matter in MATTERS.values():
        for rule in matter.steps:
            if STEP_KINDS[rule.step].department == department:
                # its own steps' outcomes it records as it performs them
                types.update(STEP_KINDS[a.step].completed_event for a in rule.after
                             if STEP_KINDS[a.step].department != department)
    return types


class StepTracker(DependencyProvider):
    """`self.steps.handle(event)` from the department's event entrypoint."""

    def __init__(self, performers: dict[str, Performer]):
        self.performers = performers

    def get_dependency(self, worker_ctx):
        return self

    def handle(self, event: Envelope) -> list[StepReport]:
        database = find_database(self.container)
        with database.unit_of_work() as uow:
            if event.case_id is None or not uow.first_time(event, "steps"):
                return []
            uow.lock(event.case_id)
            tables = uow.tables
            if event.event_type == "case.submitted":
                plan = event.data["plan"]
                if not any(step["step"] in self.performers for step in plan):
                    return []  # not ours: keep nothing
                self._upsert(uow, tables["kit_plans"], ["case_id"], case_id=event.case_id,
                             matter=event.data["matter"], application=event.data["application"], plan=plan,
                             received_at=datetime.now(timezone.utc))
            elif event.event_type in REPORT_EVENTS:
                report = StepReport.model_validate(event.data)
                self._upsert(uow, tables["kit_step_facts"], ["case_id", "step"], case_id=event.case_id,
                             step=report.step, status=report.status.value, outputs=report.outputs)
            return self._start_ready(uow, event)

    def _start_ready(self, uow: UnitOfWork, cause: Envelope) -> list[StepReport]:
        tables = uow.tables
        case_id = cause.case_id
        stored = uow.session.execute(select(tables["kit_plans"]).where(tables["kit_plans"].c.case_id == case_id)).mappings().first()
        if stored is None:
            return []  # the plan has not arrived yet; its arrival will start what is ready
        plan = [PlanStep.model_validate(step) for step in stored["plan"]]
        facts_table = tables["kit_step_facts"]
        facts = {row.step: Fact(row.status, row.outputs) for row in uow.session.execute(
            select(facts_table).where(facts_table.c.case_id == case_id)).all()}
        started = set(uow.session.execute(
            select(tables["kit_steps"].c.step).where(tables["kit_steps"].c.case_id == case_id)).scalars())
        reports = []
        progress = True
        while progress:  # a step of ours may be what another step of ours waits for
            progress = False
            for step in plan:
                if step.step not in self.performers or step.step in started:
                    continue
                if not all(a in facts and facts[a].status == StepStatus.completed for a in step.after):
                    continue
                report = self._perform(uow, stored, step, {a: facts[a].outputs for a in step.after}, cause)
                started.add(step.step)
                reports.append(report)
                self._upsert(uow, facts_table, ["case_id", "step"], case_id=case_id, step=step.step,
                             status=report.status.value, outputs=report.outputs)
                facts[step.step] = Fact(report.status.value, report.outputs)
                progress = True
        return reports

    def _perform(self, uow, stored, step: PlanStep, prerequisite_outputs, cause) -> StepReport:
        now = datetime.now(timezone.utc)
        uow.session.execute(uow.tables["kit_steps"].insert().values(
            case_id=cause.case_id, step=step.step, status=StepStatus.in_progress.value, started_at=now))
        work = StepWork(case_id=cause.case_id, step=step.step, matter=stored["matter"],
                        application=stored["application"], facts=prerequisite_outputs, uow=uow, cause=cause)
        report = self.performers[step.step](work)
        uow.session.execute(update(uow.tables["kit_steps"]).where(
            (uow.tables["kit_steps"].c.case_id == cause.case_id) & (uow.tables["kit_steps"].c.step == step.step)
        ).values(status=report.status.value, finished_at=now if report.status != StepStatus.in_progress else None))
        uow.announce(new_event(event_type_for(report), report, case_id=cause.case_id, causation=cause))
        log.info("step performed", step=step.step, status=report.status.value)
        return report

    @staticmethod
    def _upsert(uow: UnitOfWork, table, keys: list[str], **values) -> None:
        dialect = postgresql if uow.postgres else sqlite
        statement = dialect.insert(table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={k: v for k, v in values.items() if k not in keys})
        uow.session.execute(statement)
