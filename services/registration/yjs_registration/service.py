"""Registration's entrypoints: it reacts to case plans and announces each registration and
deregistration; it keeps every department's reports for the enterprise record, and the credit
record of promises found false (告知承诺) that bars them in every department; and it answers,
by RPC, who may act for an enterprise, its agents, its listings, and the record itself."""

from nameko.rpc import rpc
from yjs_contracts.api import ListingRequest
from yjs_contracts.events import NOTICE_EVENTS
from yjs_contracts.steps import REPORT_EVENTS
from yjs_kit.consumer import consume_events
from yjs_kit.department import DepartmentRpc
from yjs_kit.metrics import MetricsServer
from yjs_kit.steps import StepTracker, department_event_types, own_report_events
from yjs_kit.uow import Database

from . import credit, enterprise
from .models import metadata
from .performers import COMPENSATORS, PERFORMERS

STEP_EVENTS = frozenset(department_event_types("registration"))
# its own reports are kept as the tracker announces them (keep_own), not heard back
RECORD_EVENTS = (REPORT_EVENTS - own_report_events("registration")) | set(NOTICE_EVENTS) | {"case.submitted"}


class RegistrationService(DepartmentRpc):
    name = "registration"
    db = Database(metadata)
    steps = StepTracker(PERFORMERS, COMPENSATORS, keep_own=enterprise.keep_report)
    metrics = MetricsServer()

    @consume_events(STEP_EVENTS | RECORD_EVENTS)
    def on_event(self, event):
        if event.event_type in RECORD_EVENTS:
            with self.db.unit_of_work() as uow:
                enterprise.keep_report(uow, event)
                if event.event_type == credit.REVOCATION_EVENT:  # 信用记录 of a promise found false
                    credit.record_false_commitment(uow, event)
        if event.event_type in STEP_EVENTS:
            self.steps.handle(event)

    # who asks is the verified person the call's token names, never an argument

    @rpc
    def authority(self, uscc: str, matter: str) -> dict:
        """Asked by the gateway, for the applicant submitting, before it accepts a matter about
        an existing enterprise."""
        caller = self.rpc_caller.require("applicant")
        with self.db.unit_of_work() as uow:
            return enterprise.authority_for(uow, uscc, matter, caller.id_number)

    @rpc
    def appoint_agent(self, uscc: str, body: dict) -> dict:
        caller = self.rpc_caller.require("applicant")
        with self.db.unit_of_work() as uow:
            return enterprise.appoint_agent(uow, uscc, caller.claims(), body)

    @rpc
    def agents(self, uscc: str) -> dict:
        caller = self.rpc_caller.require()
        with self.db.unit_of_work() as uow:
            return enterprise.list_agents(uow, uscc, caller.claims())

    @rpc
    def withdraw_agent(self, uscc: str, agent_id: str) -> None:
        caller = self.rpc_caller.require("applicant")
        with self.db.unit_of_work() as uow:
            enterprise.withdraw_agent(uow, uscc, agent_id, caller.claims())

    @rpc
    def add_listing(self, uscc: str, body: dict) -> dict:
        caller = self.rpc_caller.require("department")
        with self.db.unit_of_work() as uow:
            return enterprise.add_listing(uow, uscc, caller.claims(), ListingRequest.model_validate(body).model_dump())

    @rpc
    def remove_listing(self, uscc: str, listing_id: str) -> None:
        caller = self.rpc_caller.require("department")
        with self.db.unit_of_work() as uow:
            enterprise.remove_listing(uow, uscc, listing_id, caller.claims())

    @rpc
    def enterprise_record(self, uscc: str) -> dict:
        caller = self.rpc_caller.require()
        with self.db.unit_of_work() as uow:
            uow.snapshot()
            return enterprise.enterprise_record(uow, uscc, caller.claims())


SERVICE = RegistrationService
