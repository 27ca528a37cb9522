"""Deregistration's entrypoints: case plans and what other departments announce arrive as
events; the public's objections and the applicant's liquidation report arrive by RPC from the
gateway; a timer ends the notices whose period has run — also those that were running while
the service was down, since each notice's end is stored with it."""

from datetime import datetime, timezone

import structlog
from nameko.rpc import rpc
from yjs_contracts.api import LiquidationReport, Objection
from yjs_kit.consumer import consume_events
from yjs_kit.department import DepartmentRpc
from yjs_kit.metrics import MetricsServer
from yjs_kit.steps import StepTracker, department_event_types
from yjs_kit.timers import each_due_row, every
from yjs_kit.uow import Database

from . import facts, notices
from .models import metadata
from .performers import COMPENSATORS, PERFORMERS

log = structlog.get_logger(__name__)

#: the tracker's events (our own steps' later outcomes it records as they are reported)
STEP_EVENTS = department_event_types("deregistration")


class DeregistrationService(DepartmentRpc):
    name = "deregistration"
    db = Database(metadata)
    steps = StepTracker(PERFORMERS, COMPENSATORS)
    metrics = MetricsServer()

    @consume_events(STEP_EVENTS | facts.EVENT_TYPES | set(notices.CASE_ENDS))
    def on_event(self, event):
        if event.event_type in STEP_EVENTS:
            self.steps.handle(event)
            return
        with self.db.unit_of_work() as uow:
            if not uow.first_time(event, "deregistration"):
                return
            if event.event_type in notices.CASE_ENDS:
                notices.case_finished(uow, self.steps, event)
            else:
                facts.learn(uow, event)

    @every("NOTICE_CHECK_SECONDS", 1.0)  # how often each replica looks for notices whose period is over
    def end_due_notices(self):
        now = datetime.now(timezone.utc)
        # one notice per transaction: one that keeps failing is parked, the others end
        ended = each_due_row(self.db, self.name, notices.NOTICE_TIMER, notices.due_notices(self.db, now),
                             lambda uow, notice_id: notices.end_notice(uow, self.steps, notice_id, now))
        if ended:
            log.info("notice periods ended", notices=ended)

    @rpc
    def open_notices(self, uscc: str | None = None, limit: int = 50, after: str | None = None) -> dict:
        with self.db.unit_of_work() as uow:
            return notices.open_notices(uow.session, uscc, limit, after)

    @rpc
    def raise_objection(self, notice_id: str, objection: dict) -> dict:
        with self.db.unit_of_work() as uow:
            return notices.raise_objection(uow, self.steps, notice_id, Objection.model_validate(objection))

    @rpc
    def submit_liquidation_report(self, case_id: str, report: dict) -> dict:
        # the verified applicant, who must be the case's own: checked here, whoever calls
        applicant = self.rpc_caller.require("applicant").subject
        with self.db.unit_of_work() as uow:
            return notices.submit_liquidation_report(uow, self.steps, case_id, LiquidationReport.model_validate(report),
                                                     applicant)


SERVICE = DeregistrationService
