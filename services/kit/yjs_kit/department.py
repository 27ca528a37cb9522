"""What every department service offers besides its steps: its staff's review queue and their
decisions (人工审核) by RPC, and the timer that withdraws a 容缺受理 decision whose materials did
not come in time. The work itself is the StepTracker's (steps.py)."""

from __future__ import annotations

from nameko.rpc import rpc

from .caller import CallerForbidden
from .operations import OperatorRpc
from .steps import StepTracker
from .timers import every


def find_tracker(container) -> StepTracker:
    for dependency in container.dependencies:
        if isinstance(dependency, StepTracker):
            return dependency
    raise LookupError(f"{container.service_name} has no StepTracker")


class DepartmentRpc(OperatorRpc):
    """Mixed into every department service (one with a StepTracker)."""

    def _staff(self, tracker: StepTracker):
        """The department's own staff, verified here from the token the call carries."""
        caller = self.rpc_caller.require("department")
        if caller.department != tracker.department:
            raise CallerForbidden(f"only {tracker.department} staff work its reviews")
        return caller

    def staff_or_operator(self):
        """An operator, or the department's own staff, verified from the call's token."""
        caller = self.rpc_caller.require("operator", "department")
        if caller.role == "department" and caller.department != self.name:
            raise CallerForbidden(f"only {self.name} staff or an operator may do this")
        return caller

    @rpc
    def reviews(self, status: str = "waiting", case_id: str | None = None, limit: int = 50,
                after: str | None = None) -> dict:
        tracker = find_tracker(self.container_ref)
        self._staff(tracker)
        return tracker.reviews(status, case_id, limit, after)

    @rpc
    def decide(self, review_id: str, decision: dict) -> dict:
        """Decided by the verified staff member the call carries; recorded with the decision."""
        tracker = find_tracker(self.container_ref)
        return tracker.decide(review_id, decision, self._staff(tracker).subject)

    @every("MATERIALS_CHECK_SECONDS", 5.0)  # how often each replica looks for 容缺 materials past due
    def withdraw_lapsed_acceptances(self):
        find_tracker(self.container_ref).withdraw_lapsed_acceptances()
