"""The case service's entrypoints: submissions, reads and the applicant's later actions
(supplements, withdrawal, rating, the verdict on a follow-up's answer) by RPC from the gateway;
the follow-ups of bad ratings (差评督办) departments answer and appeal and operators supervise;
every department's reports as events; the checks that announce overdue steps (限时办结) and
escalate overdue follow-ups.

Every RPC that acts for a person verifies that person here, from the token the call carries: an
applicant acts only as itself, staff read only cases with a step of their department and work
only their department's follow-ups, operators supervise every follow-up and decide appeals. Whatever reaches the broker directly gets no further than through the gateway."""

import os
from datetime import datetime, timezone
from functools import partial

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from yjs_contracts.api import ErrorDetail, InvalidApplication
from yjs_contracts.events import DEAD_LETTER_EVENTS, NOTICE_EVENTS, Signer
from yjs_contracts.steps import REPORT_EVENTS
from yjs_kit.auth import Caller
from yjs_kit.caller import CallerForbidden
from yjs_kit.consumer import consume_events
from yjs_kit.metrics import MetricsServer
from yjs_contracts.plans import parse_matter_limits, parse_step_limits
from yjs_kit.operations import OperatorRpc
from yjs_kit.timers import each_due_row, every
from yjs_kit.uow import Database

from . import actions, cases, follow_ups, overdue, ratings, report
from .metrics import (CASES_FINISHED, CASES_SUBMITTED, DEADLINE_BREACHES, FOLLOW_UPS_ESCALATED, RATING_APPEALS_UPHELD,
                      record_change, record_ratings, register_collector)
from .models import metadata


class CaseMetrics(MetricsServer):
    def setup(self):
        super().setup()
        # how long the 无感监测 figures are kept between scrapes (MATTER_FIGURES_SECONDS, default 300)
        kept = self.container.config.get("MATTER_FIGURES_SECONDS") or os.environ.get("MATTER_FIGURES_SECONDS")
        register_collector(next(d for d in self.container.dependencies if isinstance(d, Database)).engine,
                           float(kept) if kept else 300.0)


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

    def staff(self, department: str) -> Caller:
        """The verified staff member of `department` the call acts for."""
        caller = self.rpc_caller.require("department")
        if caller.department != department:
            raise CallerForbidden(f"only {department} staff work its follow-ups")
        return caller

    def follow_up_working_days(self) -> float:
        """How many working days a department has to answer a bad rating (FOLLOW_UP_WORKING_DAYS, default 5)."""
        return follow_ups.parse_working_days(self.config.get("FOLLOW_UP_WORKING_DAYS")
                                             or os.environ.get("FOLLOW_UP_WORKING_DAYS"))

    def step_limits(self) -> dict[str, float]:
        """Promised limits configured per step (STEP_LIMITS, JSON of step -> working days)."""
        return parse_step_limits(self.config.get("STEP_LIMITS") or os.environ.get("STEP_LIMITS"))

    def matter_limits(self) -> dict[str, float]:
        """Matters' promised limits end to end configured per region (MATTER_LIMITS, JSON of matter -> working days)."""
        return parse_matter_limits(self.config.get("MATTER_LIMITS") or os.environ.get("MATTER_LIMITS"))

    @rpc
    def submit(self, owner: str, body: dict, idempotency_key: str | None = None) -> dict:
        caller = self.applicant(owner)
        # who signs the case's commitments (告知承诺): the verified person submitting it
        signer = Signer(name=caller.name, id_number=caller.id_number) if caller.verified else None
        for attempt in range(2):
            try:
                with self.db.unit_of_work() as uow:
                    case_id, created = cases.submit(uow, owner, body, idempotency_key, self.step_limits(), signer,
                                                    self.matter_limits(), look_first=attempt > 0)
                break
            except cases.SubmittedBefore:
                if attempt or not idempotency_key:  # the key had a case: the second looks for it first
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
            record["follow_ups"] = follow_ups.of_case(uow.session, case_id)
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
            answer = ratings.rate(uow, case_id, owner, body, self.follow_up_working_days())
        record_ratings(answer["overall"], answer["departments"])
        return answer

    @rpc
    def judge_follow_up(self, case_id: str, owner: str, follow_up_id: str, verdict: str,
                        comment: str | None = None) -> dict:
        """The applicant confirms or rejects the department's answer, once."""
        self.applicant(owner)
        with self.db.unit_of_work() as uow:
            answer = follow_ups.judge(uow, follow_up_id, case_id, owner, verdict, comment)
        if answer["escalation"]:
            FOLLOW_UPS_ESCALATED.labels(answer["department"], answer["escalation"]).inc()
        return answer

    @rpc
    def follow_ups(self, status: str | None = "open", limit: int = 50, after: str | None = None,
                   appeal: str | None = None) -> dict:
        self.rpc_caller.require("operator")
        with self.db.unit_of_work() as uow:
            return follow_ups.list_follow_ups(uow.session, status, limit, after, appeal=appeal)

    @rpc
    def department_follow_ups(self, department: str, status: str | None = "open", limit: int = 50,
                              after: str | None = None) -> dict:
        self.staff(department)
        with self.db.unit_of_work() as uow:
            return follow_ups.list_follow_ups(uow.session, status, limit, after, department=department)

    @rpc
    def answer_follow_up(self, department: str, follow_up_id: str, response: str) -> dict:
        """Answered in the name of the verified staff member the call carries."""
        actor = self.staff(department).subject
        with self.db.unit_of_work() as uow:
            return follow_ups.answer(uow, follow_up_id, department, response, actor)

    @rpc
    def appeal_rating(self, department: str, follow_up_id: str, reason: str) -> dict:
        actor = self.staff(department).subject
        with self.db.unit_of_work() as uow:
            return follow_ups.appeal(uow, follow_up_id, department, reason, actor)

    @rpc
    def decide_appeal(self, follow_up_id: str, decision: str, reason: str) -> dict:
        actor = self.rpc_caller.require("operator").subject
        if decision not in ("upheld", "dismissed"):
            raise InvalidApplication([ErrorDetail(field="decision", reason="one of upheld, dismissed")])
        with self.db.unit_of_work() as uow:
            answer, _ = follow_ups.decide_appeal(uow, follow_up_id, decision == "upheld", reason, actor)
        if decision == "upheld":
            RATING_APPEALS_UPHELD.labels(answer["department"]).inc()
        return answer

    @rpc
    def respond_to_follow_up(self, follow_up_id: str, response: str) -> dict:
        """Closed in the name of the verified operator the call carries."""
        actor = self.rpc_caller.require("operator").subject
        with self.db.unit_of_work() as uow:
            return follow_ups.resolve(uow, follow_up_id, response, actor)

    @rpc
    def matter_report(self, matter: str | None, start: str, end: str) -> dict:
        """无感监测 of the cases finished from `start` to `end` (dates, Beijing time): operators'."""
        self.rpc_caller.require("operator")
        try:
            with self.db.unit_of_work() as uow:
                uow.snapshot()
                return report.matter_report(uow.session, matter, start, end)
        except report.InvalidPeriod as error:
            field, _, reason = str(error).partition(": ")
            raise InvalidApplication([ErrorDetail(field=field, reason=reason)]) from None

    @every("FOLLOW_UP_CHECK_SECONDS", 60.0)
    def escalate_overdue_follow_ups(self):
        now = datetime.now(timezone.utc)
        departments = each_due_row(self.db, self.name, follow_ups.ESCALATION_TIMER,
                                   follow_ups.overdue_follow_ups(self.db, now),
                                   lambda uow, number: follow_ups.escalate_overdue(uow, number, now))
        for department in departments:  # after the commit: a rolled-back escalation counts nothing
            FOLLOW_UPS_ESCALATED.labels(department, "overdue").inc()

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
            if matter:  # counted once committed (a batch commits later, or not at all)
                self.db.after_commit(CASES_FINISHED.labels(matter, "withdrawn").inc)
            return
        with self.db.unit_of_work() as uow:
            if event.event_type in NOTICE_EVENTS:
                cases.note(uow, event)
                return
            if event.event_type in DEAD_LETTER_EVENTS:
                cases.stall(uow, event)
                return
            change = cases.fold(uow, event)
        self.db.after_commit(partial(record_change, change))


SERVICE = CaseService
