"""The case service's entrypoints: submissions, reads and the applicant's later actions
(supplements, withdrawal, rating) by RPC from the gateway; operators' follow-ups of bad ratings;
every department's reports as events; and the check that announces overdue steps (限时办结).

Every RPC that acts for a person verifies that person here, from the token the call carries: an
applicant acts only as itself, staff read only cases with a step of their department, follow-ups
are operators'. Whatever reaches the broker directly gets no further than through the gateway."""

import os
from datetime import datetime, timezone

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from sqlalchemy.exc import IntegrityError
from yjs_contracts.events import DEAD_LETTER_EVENTS, NOTICE_EVENTS, Signer
from yjs_contracts.steps import REPORT_EVENTS
from yjs_kit.auth import Caller
from yjs_kit.caller import CallerForbidden
from yjs_kit.consumer import consume_events
from yjs_kit.metrics import MetricsServer
from yjs_contracts.plans import parse_step_limits
from yjs_kit.operations import OperatorRpc
from yjs_kit.timers import each_due_row, every
from yjs_kit.uow import Database

from . import actions, cases, overdue, ratings
from .metrics import (CASES_FINISHED, CASES_SUBMITTED, DEADLINE_BREACHES, record_change, record_ratings,
                      register_collector)
from .models import metadata


class CaseMetrics(MetricsServer):
    def setup(self):
        super().setup()
        register_collector(next(d for d in self.container.dependencies if isinstance(d, Database)).engine)


class CaseService(OperatorRpc):
    name = "case"
    db = Database(metadata)
    metrics = CaseMetrics()
    config = Config()

    def applicant(self, owner: str) -> Caller:
        """The verified applicant the call acts for, who must be `owner`."""
        caller = self.rpc_caller.require("applicant")
        if caller.subject != owner:
            raise CallerForbidden("an applicant acts only for itself")
        return caller

    def step_limits(self) -> dict[str, float]:
        """Promised limits configured per step (STEP_LIMITS, JSON of step -> working days)."""
        return parse_step_limits(self.config.get("STEP_LIMITS") or os.environ.get("STEP_LIMITS"))

    @rpc
    def submit(self, owner: str, body: dict, idempotency_key: str | None = None) -> dict:
        caller = self.applicant(owner)
        # who signs the case's commitments (告知承诺): the verified person submitting it
        signer = Signer(name=caller.name, id_number=caller.id_number) if caller.verified else None
        for attempt in range(2):
            try:
                with self.db.unit_of_work() as uow:
                    case_id, created = cases.submit(uow, owner, body, idempotency_key, self.step_limits(), signer)
                break
            except IntegrityError:
                if attempt or not idempotency_key:  # the same key raced in: the second finds the first
                    raise
        if created:
            CASES_SUBMITTED.labels(body["matter"]).inc()
        return {"case_id": case_id, "status": "submitted", "created": created}

    @rpc
    def get_case(self, case_id: str, owner: str | None = None) -> dict:
        """Applicants read their own cases, staff those with a step of their department,
        operators every case."""
        caller = self.rpc_caller.require()
        if caller.role == "applicant":
            owner = caller.subject
        with self.db.unit_of_work() as uow:
            uow.snapshot()
            record = cases.case_record(uow.session, case_id, owner)
        if caller.role == "department" and not any(s["department"] == caller.department for s in record["steps"]):
            raise cases.CaseNotFound(case_id)
        return record

    @rpc
    def list_cases(self, owner: str, status: str | None = None, limit: int = 20, after: str | None = None) -> dict:
        self.applicant(owner)
        with self.db.unit_of_work() as uow:
            return cases.case_list(uow.session, owner, status, limit, after)

    @rpc
    def supplement(self, case_id: str, owner: str, body: dict) -> dict:
        self.applicant(owner)
        with self.db.unit_of_work() as uow:
            return actions.supplement(uow, case_id, owner, body)

    @rpc
    def withdraw(self, case_id: str, owner: str, reason: str) -> dict:
        self.applicant(owner)
        with self.db.unit_of_work() as uow:
            answer = actions.withdraw(uow, case_id, owner, reason)
        matter = answer.pop("matter")
        if matter:  # withdrawn at once; otherwise when the pivot's department accepts
            CASES_FINISHED.labels(matter, "withdrawn").inc()
        return answer

    @rpc
    def rate(self, case_id: str, owner: str, body: dict) -> dict:
        self.applicant(owner)
        with self.db.unit_of_work() as uow:
            answer = ratings.rate(uow, case_id, owner, body)
        record_ratings(answer["overall"], answer["departments"])
        return answer

    @rpc
    def follow_ups(self, status: str | None = "open", limit: int = 50, after: str | None = None) -> dict:
        self.rpc_caller.require("operator")
        with self.db.unit_of_work() as uow:
            return ratings.list_follow_ups(uow.session, status, limit, after)

    @rpc
    def respond_to_follow_up(self, follow_up_id: str, response: str) -> dict:
        """Closed in the name of the verified operator the call carries."""
        actor = self.rpc_caller.require("operator").subject
        with self.db.unit_of_work() as uow:
            return ratings.respond(uow, follow_up_id, response, actor)

    @every("OVERDUE_CHECK_SECONDS", 30.0)
    def announce_overdue_steps(self):
        now = datetime.now(timezone.utc)
        departments = each_due_row(self.db, self.name, overdue.OVERDUE_TIMER, overdue.overdue_steps(self.db, now),
                                   lambda uow, key: overdue.announce_overdue(uow, key, now))
        for department in departments:  # after the commit: a rolled-back check counts nothing
            DEADLINE_BREACHES.labels(department).inc()

    @consume_events(REPORT_EVENTS | set(NOTICE_EVENTS) | set(DEAD_LETTER_EVENTS) | actions.WITHDRAWAL_ANSWER_EVENTS)
    def on_department_event(self, event):
        if event.event_type in actions.WITHDRAWAL_ANSWER_EVENTS:
            with self.db.unit_of_work() as uow:
                matter = actions.answer_withdrawal(uow, event)
            if matter:
                CASES_FINISHED.labels(matter, "withdrawn").inc()
            return
        with self.db.unit_of_work() as uow:
            if event.event_type in NOTICE_EVENTS:
                cases.note(uow, event)
                return
            if event.event_type in DEAD_LETTER_EVENTS:
                cases.stall(uow, event)
                return
            change = cases.fold(uow, event)
        record_change(change)


SERVICE = CaseService
