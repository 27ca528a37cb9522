"""Social and medical insurance's entrypoints: it reacts to case plans and registrations (and
their undoing), announces each employer registered or closed; its staff and collection system
record what employers owe by RPC, and each change is announced."""

from nameko.rpc import rpc
from yjs_kit.consumer import consume_events
from yjs_kit.department import DepartmentRpc
from yjs_kit.metrics import MetricsServer
from yjs_kit.steps import StepTracker, department_event_types
from yjs_kit.uow import Database

from . import arrears
from .models import metadata
from .performers import COMPENSATORS, PERFORMERS


class SocialInsuranceService(DepartmentRpc):
    name = "social_insurance"
    db = Database(metadata)
    steps = StepTracker(PERFORMERS, COMPENSATORS)
    metrics = MetricsServer()

    @consume_events(department_event_types("social_insurance"))
    def on_event(self, event):
        self.steps.handle(event)

    @rpc
    def record_arrears(self, uscc: str, amount: str, note: str | None = None) -> dict:
        """欠缴社会保险费: `amount` (yuan) more is owed. The department's own staff (or their
        collection system, with a staff token) or an operator. Announced as
        social_insurance.arrears_recorded."""
        self.staff_or_operator()
        with self.db.unit_of_work() as uow:
            return arrears.record(uow, uscc, amount, note).model_dump(mode="json")

    @rpc
    def settle_arrears(self, uscc: str, note: str | None = None) -> dict:
        """Everything owed is paid; announced as social_insurance.arrears_settled."""
        self.staff_or_operator()
        with self.db.unit_of_work() as uow:
            return arrears.settle(uow, uscc, note).model_dump(mode="json")


SERVICE = SocialInsuranceService
