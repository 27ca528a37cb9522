"""Tax's entrypoints: it reacts to case plans and announces each taxpayer, invoice grant and
清税; tax staff and systems record what enterprises owe by RPC."""

from yjs_kit.arrears import ArrearsRpc
from yjs_kit.consumer import consume_events
from yjs_kit.department import DepartmentRpc
from yjs_kit.metrics import MetricsServer
from yjs_kit.steps import StepTracker, department_event_types
from yjs_kit.uow import Database

from . import arrears
from .models import metadata
from .performers import COMPENSATORS, PERFORMERS


class TaxService(ArrearsRpc, DepartmentRpc):
    name = "tax"
    db = Database(metadata)
    arrears_ledger = arrears.LEDGER
    steps = StepTracker(PERFORMERS, COMPENSATORS)
    metrics = MetricsServer()

    @consume_events(department_event_types("tax"))
    def on_event(self, event):
        self.steps.handle(event)


SERVICE = TaxService
