"""Seal carving's entrypoints: it reacts to case plans and registrations and announces the seals carved or cancelled."""

from yjs_kit.consumer import consume_events
from yjs_kit.department import DepartmentRpc
from yjs_kit.metrics import MetricsServer
from yjs_kit.steps import StepTracker, department_event_types
from yjs_kit.uow import Database

from .models import metadata
from .performers import COMPENSATORS, PERFORMERS


class SealCarvingService(DepartmentRpc):
    name = "seal_carving"
    db = Database(metadata)
    steps = StepTracker(PERFORMERS, COMPENSATORS)
    metrics = MetricsServer()

    @consume_events(department_event_types("seal_carving"))
    def on_event(self, event):
        self.steps.handle(event)


SERVICE = SealCarvingService
