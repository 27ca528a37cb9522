"""Seal carving on the real broker and database: plans and registrations in, seals out."""

from datetime import datetime, timezone

from sqlalchemy import create_engine, select
from yjs_contracts import samples
from yjs_contracts.codes import make_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import CaseWithdrawn, EnterpriseRegistered, step_report
from yjs_contracts.steps import STEP_KINDS, StepStatus
from yjs_kit.testing import publish, step_undone, wait_for, wait_for_row, wait_until_consumed
from yjs_kit.testing import case_submitted as submitted
from yjs_seal_carving.models import metadata, seal_orders, seals
from yjs_seal_carving.rules import is_filing_code
from yjs_seal_carving.service import SealCarvingService

CARVED, REFUSED = "seal_carving.seals_carved", "seal_carving.seal_order_refused"
ALL_FIVE = {"official", "finance", "invoice", "contract", "legal_representative"}



def registered(case_id: str, application: dict, serial: int):
    kind = STEP_KINDS["registration.establish"]
    outputs = EnterpriseRegistered(uscc=make_uscc("330402", serial), licence_number=f"330402{serial:09d}",
                                   enterprise_name=application["enterprise"]["name"],
                                   registered_at=datetime.now(timezone.utc))
    return new_event(kind.completed_event, step_report(kind.step, StepStatus.completed, outputs), case_id=case_id)


def rows(container, table, case_id=None):
    engine = create_engine(container.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            query = select(table) if case_id is None else select(table).where(table.c.case_id == case_id)
            return connection.execute(query).mappings().all()
    finally:
        engine.dispose()


def settle(broker_uri, container):
    """Every message in the inbox handled and acked, and everything it announced published."""
    wait_until_consumed(broker_uri, "seal_carving.inbox")
    wait_for_row(container.config["DATABASE_URL"], "SELECT count(*) AS unsent FROM kit_outbox WHERE sent_at IS NULL",
                 lambda row: row["unsent"] == 0, what="the outbox relayed")


def test_all_five_seals_are_carved_once_even_when_registration_is_delivered_twice(start_service, broker_uri, watch):
    container = start_service(SealCarvingService, max_workers=1)
    watcher = watch(CARVED, REFUSED)
    application = samples.establishment_application("奔腾")
    registration = registered("C1", application, 101)
    publish(broker_uri, submitted("C1", application), registration, registration)
    settle(broker_uri, container)
    [carved] = [e for e in watcher.drain() if e.case_id == "C1"]
    assert carved.event_type == CARVED and carved.causation_id == str(registration.event_id)
    outputs = carved.data["outputs"]
    assert {s["type"] for s in outputs["seals"]} == ALL_FIVE and len(outputs["seals"]) == 5
    assert outputs["fee"] == "0.00"
    assert sorted(r["filing_code"] for r in rows(container, seals, "C1")) == \
        sorted(s["filing_code"] for s in outputs["seals"])
    [order] = rows(container, seal_orders, "C1")
    assert order["status"] == "carved" and order["uscc"] == make_uscc("330402", 101)


def test_registration_arriving_before_the_plan_still_carves_every_seal(start_service, broker_uri, watch):
    container = start_service(SealCarvingService)
    watcher = watch(CARVED, REFUSED)
    application = samples.establishment_application("红船")
    name, uscc = application["enterprise"]["name"], make_uscc("330402", 102)
    publish(broker_uri, registered("C2", application, 102), submitted("C2", application))
    [carved] = watcher.wait_for()
    assert carved.event_type == CARVED
    names = {s["type"]: s["name"] for s in carved.data["outputs"]["seals"]}
    assert names == {
        "official": name,
        "finance": f"{name}财务专用章",
        "invoice": f"{name}发票专用章（{uscc}）",
        "contract": f"{name}合同专用章",
        "legal_representative": "张伟",
    }
    filed = wait_for(lambda: rows(container, seals, "C2"))
    assert len(filed) == 5 and {r["status"] for r in filed} == {"filed"} and {r["uscc"] for r in filed} == {uscc}


def test_filing_codes_are_unique_across_cases_and_shaped_like_real_ones(start_service, broker_uri, watch):
    container = start_service(SealCarvingService)
    watcher = watch(CARVED, REFUSED)
    first, second = samples.establishment_application("飞跃"), samples.establishment_application("远航")
    publish(broker_uri, submitted("C3", first), submitted("C4", second),
            registered("C3", first, 103), registered("C4", second, 104))
    events = watcher.wait_for(count=2)
    assert {e.event_type for e in events} == {CARVED}
    codes = [s["filing_code"] for e in events for s in e.data["outputs"]["seals"]]
    assert len(codes) == len(set(codes)) == 10
    assert all(is_filing_code(c) and c.startswith("330402") for c in codes)
    assert sorted(r["filing_code"] for r in rows(container, seals)) == sorted(codes)


def test_an_unknown_seal_type_is_refused_and_nothing_is_carved(start_service, broker_uri, watch):
    container = start_service(SealCarvingService)
    watcher = watch(CARVED, REFUSED)
    application = samples.establishment_application("星河")
    application["seals"] = ["official", "customs_declaration"]  # past the API: the raw dict as published
    publish(broker_uri, submitted("C5", application), registered("C5", application, 105))
    [refused] = watcher.wait_for()
    assert refused.event_type == REFUSED and refused.data["status"] == "rejected"
    assert [(r["code"], r["field"]) for r in refused.data["reasons"]] == [("unknown_seal_type", "application.seals.1")]
    assert rows(container, seals) == []
    [order] = rows(container, seal_orders, "C5")
    assert order["status"] == "refused"


def test_the_step_does_not_start_before_registration_completes(start_service, broker_uri, watch):
    container = start_service(SealCarvingService, max_workers=1)
    watcher = watch(CARVED, REFUSED)
    waiting, other = samples.establishment_application("青松"), samples.establishment_application("翠柏")
    # another case's registration must not start this one
    publish(broker_uri, submitted("C6", waiting), submitted("C7", other), registered("C7", other, 107))
    settle(broker_uri, container)
    assert {e.case_id for e in watcher.drain()} == {"C7"}
    kit = metadata.tables
    assert [r["case_id"] for r in rows(container, kit["kit_plans"], "C6")] == ["C6"]  # the plan is kept...
    assert rows(container, kit["kit_steps"], "C6") == []  # ...and waits
    assert rows(container, seals, "C6") == rows(container, seal_orders, "C6") == []


def test_every_filed_seal_is_cancelled_once_the_registration_is_cancelled(start_service, broker_uri, watch):
    container = start_service(SealCarvingService)
    watcher = watch(CARVED, "seal_carving.seals_cancelled")
    application = samples.establishment_application("长风")
    uscc = make_uscc("330402", 103)
    publish(broker_uri, submitted("C7", application), registered("C7", application, 103))
    [carved] = watcher.wait_for()
    kind = STEP_KINDS["registration.deregister"]
    closed = new_event(kind.completed_event, step_report(kind.step, StepStatus.completed, {
        "uscc": uscc, "enterprise_name": application["enterprise"]["name"], "licence_number": "330402000000103",
        "deregistered_at": datetime.now(timezone.utc).isoformat()}), case_id="D7")
    publish(broker_uri, submitted("D7", samples.deregistration_application(uscc), "deregistration"), closed, closed)
    [cancelled] = watcher.wait_for(lambda e: e.event_type == "seal_carving.seals_cancelled")
    assert sorted(s["filing_code"] for s in cancelled.data["outputs"]["seals"]) == \
        sorted(s["filing_code"] for s in carved.data["outputs"]["seals"])
    filed = rows(container, seals, "C7")
    assert {s["status"] for s in filed} == {"cancelled"} and {s["cancellation_case_id"] for s in filed} == {"D7"}
    assert all(s["cancelled_at"] for s in filed)


def test_a_withdrawal_after_the_seals_were_carved_voids_their_filings(start_service, broker_uri, watch):
    """A carved seal cannot be uncarved, but its filing can be voided: a withdrawn case undoes the
    step (the filings kept, voided) and says so."""
    container = start_service(SealCarvingService)
    watcher = watch(CARVED, REFUSED, "seal_carving.step_updated")
    application = samples.establishment_application("守成", seals=("official",))
    case = submitted("W1", application)
    publish(broker_uri, case, registered("W1", application, 301))
    [carved] = watcher.wait_for(lambda e: e.case_id == "W1")
    assert carved.event_type == CARVED
    withdrawn = CaseWithdrawn(matter="establishment", owner="alice", reason="不办了",
                              steps=[s["step"] for s in case.data["plan"]], withdrawn_at=datetime.now(timezone.utc))
    publish(broker_uri, new_event("case.withdrawn", withdrawn, case_id="W1"))
    [undone] = watcher.wait_for(lambda e: e.event_type == "seal_carving.step_updated")
    assert undone.data["status"] == "cancelled" and undone.data["undoes"] is True
    assert [r["status"] for r in rows(container, metadata.tables["kit_steps"], "W1")] == ["cancelled"]
    assert [s["status"] for s in rows(container, seals, "W1")] == ["voided"]
    [order] = rows(container, seal_orders, "W1")
    assert (order["status"], order["undo_reason"]) == ("undone", "withdrawn")


def test_seals_carved_on_a_registration_that_is_undone_are_voided_once_and_the_undo_announced(
        start_service, broker_uri, watch):
    container = start_service(SealCarvingService, max_workers=1)
    watcher = watch(CARVED, REFUSED)
    application = samples.establishment_application("落空")
    publish(broker_uri, submitted("U1", application), registered("U1", application, 401))
    [carved] = watcher.wait_for()
    undo = step_undone("U1", "registration.establish")
    publish(broker_uri, undo, undo)
    [undone] = watcher.wait_for(lambda e: e.event_type == REFUSED)
    assert undone.causation_id == str(undo.event_id)
    assert undone.data["status"] == "rejected" and undone.data["undoes"] is True
    [reason] = undone.data["reasons"]
    assert (reason["code"], reason["field"]) == ("prerequisite_undone", "step:registration.establish")
    assert "容缺材料未按期补齐" in reason["message"]
    filed = rows(container, seals, "U1")
    assert len(filed) == 5 and {s["status"] for s in filed} == {"voided"} and all(s["cancelled_at"] for s in filed)
    [order] = rows(container, seal_orders, "U1")
    assert (order["status"], order["undo_reason"]) == ("undone", "prerequisite_undone") and order["undone_at"]
    settle(broker_uri, container)
    # announced once: the second delivery changed nothing
    assert sorted(e.event_type for e in watcher.drain()) == [REFUSED, CARVED]
    assert [r["status"] for r in rows(container, metadata.tables["kit_steps"], "U1")] == ["rejected"]


def test_a_registration_undone_before_its_completion_arrives_never_starts_the_carving(
        start_service, broker_uri, watch):
    container = start_service(SealCarvingService, max_workers=1)
    watcher = watch(CARVED, REFUSED)
    application = samples.establishment_application("未启")
    # the undo overtakes the completion it undoes (a retried delivery)
    publish(broker_uri, submitted("U2", application), step_undone("U2", "registration.establish"),
            registered("U2", application, 402))
    settle(broker_uri, container)
    assert watcher.drain() == []
    assert rows(container, metadata.tables["kit_steps"], "U2") == []
    assert rows(container, seals, "U2") == rows(container, seal_orders, "U2") == []
