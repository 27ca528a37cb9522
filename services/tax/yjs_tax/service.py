"""Tax's entrypoints: it reacts to case plans and announces each taxpayer, invoice grant and
清税; tax staff and systems record what enterprises owe by RPC."""

from nameko.rpc import rpc
from yjs_kit.consumer import consume_events
from yjs_kit.department import DepartmentRpc
from yjs_kit.metrics import MetricsServer
from yjs_kit.steps import StepTracker, department_event_types
from yjs_kit.uow import Database

from . import arrears
from .models import metadata
from .performers import COMPENSATORS, PERFORMERS


class TaxService(DepartmentRpc):
    name = "tax"
    db = Database(metadata)
    steps = StepTracker(PERFORMERS, COMPENSATORS)
    metrics = MetricsServer()

    @consume_events(department_event_types("tax"))
    def on_event(self, event):
        self.steps.handle(event)

    @rpc
    def record_arrears(self, uscc: str, amount: str, note: str | None = None) -> dict:
        """欠税: `amount` (CNY) more is owed; announced as tax.arrears_recorded. Tax's own
        staff (or their system, with a staff token) or an operator."""
        self.staff_or_operator()
        with self.db.unit_of_work() as uow:
            return arrears.record(uow, uscc, amount, note).model_dump(mode="json")

    @rpc
    def settle_arrears(self, uscc: str, note: str | None = None) -> dict:
        """Everything owed is paid; announced as tax.arrears_settled."""
        self.staff_or_operator()
        with self.db.unit_of_work() as uow:
            return arrears.settle(uow, uscc, note).model_dump(mode="json")


SERVICE = TaxService
