"""Tax's entrypoints: it reacts to case plans and announces each taxpayer and invoice grant."""

from yjs_kit.consumer import consume_events
from yjs_kit.metrics import MetricsServer
from yjs_kit.operations import OperatorRpc
from yjs_kit.steps import StepTracker, department_event_types
from yjs_kit.uow import Database

from .models import metadata
from .performers import PERFORMERS


class TaxService(OperatorRpc):
    name = "tax"
    db = Database(metadata)
    steps = StepTracker(PERFORMERS)
    metrics = MetricsServer()

    @consume_events(department_event_types("tax"))
    def on_event(self, event):
        self.steps.handle(event)


SERVICE = TaxService
