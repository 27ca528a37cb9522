"""Social and medical insurance's entrypoints: it reacts to case plans and registrations (and
their undoing), announces each employer registered or closed; its staff and collection system
record what employers owe by RPC, and each change is announced."""

from yjs_kit.arrears import ArrearsRpc
from yjs_kit.consumer import consume_events
from yjs_kit.department import DepartmentRpc
from yjs_kit.metrics import MetricsServer
from yjs_kit.steps import StepTracker, department_event_types
from yjs_kit.uow import Database

from . import arrears
from .models import metadata
from .performers import COMPENSATORS, PERFORMERS


class SocialInsuranceService(ArrearsRpc, DepartmentRpc):
    name = "social_insurance"
    db = Database(metadata)
    arrears_ledger = arrears.LEDGER
    steps = StepTracker(PERFORMERS, COMPENSATORS)
    metrics = MetricsServer()

    @consume_events(department_event_types("social_insurance"))
    def on_event(self, event):
        self.steps.handle(event)


SERVICE = SocialInsuranceService
