"""Licensing's entrypoints: it learns of enterprises from registration's events (and of the
credit record that bars 告知承诺), reacts to case plans, and keeps the post-issuance checks of
its commitment permits: its staff's check queue and their results by RPC, a timer that revokes
a permit whose rectification lapsed."""

from datetime import datetime, timezone

import structlog
from nameko.rpc import rpc
from yjs_contracts.api import CheckResult
from yjs_kit.consumer import consume_events
from yjs_kit.department import DepartmentRpc, find_tracker
from yjs_kit.steps import StepTracker, department_event_types
from yjs_kit.timers import each_due_row, every
from yjs_kit.uow import Database

from . import checks, permits, register
from .metrics import LicensingMetrics
from .models import metadata
from .performers import COMPENSATORS, PERFORMERS, REFUSERS

log = structlog.get_logger(__name__)


class LicensingService(DepartmentRpc):
    name = "licensing"
    db = Database(metadata)
    steps = StepTracker(PERFORMERS, COMPENSATORS, REFUSERS)
    metrics = LicensingMetrics()

    @consume_events(department_event_types("licensing") | {"registration.enterprise_registered",
                                                           "registration.enterprise_deregistered",
                                                           "registration.enterprise_changed",
                                                           "registration.credit_recorded"})
    def on_event(self, event):
        with self.db.unit_of_work() as uow:  # known before any step that needs it runs
            if event.event_type == "registration.credit_recorded":
                checks.learn_bar(uow, event)
                return
            register.learn(uow, event)
        self.steps.handle(event)

    @rpc
    def revoke_commitment(self, permit_number: str, finding: str) -> dict:
        """By an operator or licensing's staff, recorded in the name the call's token verifies."""
        caller = self.staff_or_operator()
        actor = f"{caller.role}:{caller.subject}"
        with self.db.unit_of_work() as uow:
            return permits.revoke_commitment(uow, permit_number, finding, actor)

    @rpc
    def commitment_checks(self, status: str = "due", uscc: str | None = None, limit: int = 50,
                          after: str | None = None) -> dict:
        self._staff(find_tracker(self.container_ref))
        with self.db.unit_of_work() as uow:
            return checks.queue(uow.session, self.name, status, uscc, limit, after, datetime.now(timezone.utc))

    @rpc
    def record_check_result(self, check_id: str, result: dict) -> dict:
        """Recorded in the name of the verified staff member the call carries."""
        actor = f"department:{self._staff(find_tracker(self.container_ref)).subject}"
        with self.db.unit_of_work() as uow:
            return checks.record_result(uow, self.name, check_id, CheckResult.model_validate(result), actor,
                                        datetime.now(timezone.utc), permits.revoke)

    @every("COMMITMENT_CHECK_SECONDS", 5.0)  # how often each replica looks for rectifications past their deadline
    def revoke_unrectified(self):
        now = datetime.now(timezone.utc)
        revoked = each_due_row(self.db, self.name, checks.RECTIFICATION_TIMER, checks.lapsed_rectifications(self.db, now),
                               lambda uow, check_id: checks.revoke_unrectified(uow, check_id, now, permits.revoke))
        if revoked:
            log.info("permits revoked: rectification lapsed", checks=revoked)


SERVICE = LicensingService
