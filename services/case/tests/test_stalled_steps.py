"""A department that cannot handle an event of a case, even after its retries: the case shows
that department's steps as stalled with the reason, the dead letter is counted as waiting (what
the alert watches), and a replay after the fix lets them go on."""

from prometheus_client import REGISTRY
from sqlalchemy import MetaData
from yjs_case.service import CaseService
from yjs_contracts import samples
from yjs_kit.consumer import consume_events
from yjs_kit.operations import OperatorRpc
from yjs_kit.tables import add_kit_tables
from yjs_kit.testing import CaseRpc, operator_token, wait_for

OPERATOR = operator_token()
from yjs_kit.uow import Database

metadata = MetaData()
add_kit_tables(metadata)
broken = {"yes"}
handled: list[str] = []


class FailingRegistration(OperatorRpc):
    """Registration, with a fault that makes every case.submitted fail until it is fixed."""

    name = "registration"
    db = Database(metadata)

    @consume_events(["case.submitted"])
    def on_event(self, event):
        with self.db.unit_of_work() as uow:
            if not uow.first_time(event, "steps"):
                return
            if broken:
                raise RuntimeError("the register is unreachable")
            handled.append(event.case_id)


BARE = {"matter": "establishment", "application": samples.establishment_application(
    "明远", seals=(), bank_account=False, social_insurance=False)}


def waiting_dead_letters() -> float:
    return REGISTRY.get_sample_value("yjs_dead_letters_waiting", {"service": "registration"}) or 0


def test_a_step_that_fails_for_good_is_stalled_on_its_case_alerted_and_resumed_by_replay(start_service, rpc):
    start_service(CaseService)
    start_service(FailingRegistration, migrate=False)
    case_id = CaseRpc(rpc).submit("alice", BARE)["case_id"]

    def step(name):
        return next(s for s in CaseRpc(rpc).get_case(case_id, "alice")["steps"] if s["step"] == name)

    stalled = wait_for(lambda: (lambda s: s if s["stalled"] else None)(step("registration.establish")),
                       what="the registration step stalled")
    assert stalled["status"] == "in_progress" and "the register is unreachable" in stalled["stalled_reason"]
    record = CaseRpc(rpc).get_case(case_id, "alice")
    assert record["status"] == "in_progress" and not step("tax.register")["stalled"]  # another department's
    assert any(t["event_type"] == "registration.event_dead_lettered" for t in record["timeline"])
    [letter] = rpc("registration", OPERATOR).dead_letters()
    assert letter["case_id"] == case_id and letter["event_type"] == "case.submitted"
    wait_for(lambda: waiting_dead_letters() == 1, what="the dead letter counted as waiting")

    broken.clear()  # the fix
    rpc("registration", OPERATOR).replay_dead_letter(int(letter["dead_letter_id"].split(":")[1]))
    wait_for(lambda: handled == [case_id], what="the replayed event handled")
    wait_for(lambda: not step("registration.establish")["stalled"], what="the step going on")
    assert step("registration.establish")["stalled_reason"] is None
    wait_for(lambda: waiting_dead_letters() == 0, what="nothing waiting any more")
