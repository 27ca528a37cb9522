"""The bank's entrypoints: it reacts to case plans, registrations and seals (and their undoing), and announces each account opened or closed."""

from yjs_kit.consumer import consume_events
from yjs_kit.department import DepartmentRpc
from yjs_kit.metrics import MetricsServer
from yjs_kit.steps import StepTracker, department_event_types
from yjs_kit.uow import Database

from .models import metadata
from .performers import COMPENSATORS, PERFORMERS


class BankAccountService(DepartmentRpc):
    name = "bank_account"
    db = Database(metadata)
    steps = StepTracker(PERFORMERS, COMPENSATORS)
    metrics = MetricsServer()

    @consume_events(department_event_types("bank_account"))
    def on_event(self, event):
        self.steps.handle(event)


SERVICE = BankAccountService
