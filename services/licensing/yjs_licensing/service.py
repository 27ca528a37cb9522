"""Licensing's entrypoints: it learns of enterprises from registration's events, reacts to case
plans, and revokes a permit whose commitment its post-issuance check found false."""

from nameko.rpc import rpc
from yjs_kit.consumer import consume_events
from yjs_kit.department import DepartmentRpc
from yjs_kit.metrics import MetricsServer
from yjs_kit.steps import StepTracker, department_event_types
from yjs_kit.uow import Database

from . import permits, register
from .models import metadata
from .performers import COMPENSATORS, PERFORMERS, REFUSERS


class LicensingService(DepartmentRpc):
    name = "licensing"
    db = Database(metadata)
    steps = StepTracker(PERFORMERS, COMPENSATORS, REFUSERS)
    metrics = MetricsServer()

    @consume_events(department_event_types("licensing") | {"registration.enterprise_registered",
                                                           "registration.enterprise_deregistered",
                                                           "registration.enterprise_changed"})
    def on_event(self, event):
        with self.db.unit_of_work() as uow:  # known before any step that needs it runs
            register.learn(uow, event)
        self.steps.handle(event)

    @rpc
    def revoke_commitment(self, permit_number: str, finding: str) -> dict:
        """By an operator or licensing's staff, recorded in the name the call's token verifies."""
        caller = self.staff_or_operator()
        actor = f"{caller.role}:{caller.subject}"
        with self.db.unit_of_work() as uow:
            return permits.revoke_commitment(uow, permit_number, finding, actor)


SERVICE = LicensingService
