"""The case service's entrypoints: submissions and reads by RPC (from the gateway), and every
department's reports as events."""

from nameko.rpc import rpc
from sqlalchemy.exc import IntegrityError
from yjs_contracts.steps import REPORT_EVENTS
from yjs_kit.consumer import consume_events
from yjs_kit.metrics import MetricsServer
from yjs_kit.operations import OperatorRpc
from yjs_kit.uow import Database

from . import cases
from .metrics import CASES_SUBMITTED, record_change, register_collector
from .models import metadata


class CaseMetrics(MetricsServer):
    def setup(self):
        super().setup()
        register_collector(next(d for d in self.container.dependencies if isinstance(d, Database)).engine)


class CaseService(OperatorRpc):
    name = "case"
    db = Database(metadata)
    metrics = CaseMetrics()

    @rpc
    def submit(self, owner: str, body: dict, idempotency_key: str | None = None) -> dict:
        for attempt in range(2):
            try:
                with self.db.unit_of_work() as uow:
                    case_id, created = cases.submit(uow, owner, body, idempotency_key)
                break
            except IntegrityError:
                if attempt or not idempotency_key:  # the same key raced in: the second finds the first
                    raise
        if created:
            CASES_SUBMITTED.labels(body["matter"]).inc()
        return {"case_id": case_id, "status": "submitted", "created": created}

    @rpc
    def get_case(self, case_id: str, owner: str | None = None) -> dict:
        with self.db.unit_of_work() as uow:
            return cases.case_record(uow.session, case_id, owner)

    @rpc
    def list_cases(self, owner: str, status: str | None = None, limit: int = 20, after: str | None = None) -> dict:
        with self.db.unit_of_work() as uow:
            return cases.case_list(uow.session, owner, status, limit, after)

    @consume_events(REPORT_EVENTS)
    def on_department_event(self, event):
        with self.db.unit_of_work() as uow:
            change = cases.fold(uow, event)
        record_change(change)


SERVICE = CaseService
