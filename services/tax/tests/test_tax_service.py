"""Tax on the real broker and database: plans and prerequisite events in, taxpayers and
invoice grants out — once each, whatever the order, duplicates or replicas."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select
from yjs_contracts import samples
from yjs_contracts.codes import make_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import CarvedSeal, SealsCarved, step_report
from yjs_contracts.steps import StepStatus
from yjs_kit.testing import StaffRpc, operator_token, publish, step_undone, wait_for, wait_until_consumed
from yjs_kit.testing import case_submitted as submitted
from yjs_kit.testing import enterprise_registered
from yjs_tax.models import clearances, invoice_grants, metadata, taxpayers
from yjs_tax.service import TaxService

WITHOUT_INVOICE_SEAL = ("official", "finance", "legal_representative")
REGISTERED, GRANTED = "tax.taxpayer_registered", "tax.invoices_granted"



def seals_carved(case_id: str, n: int, application: dict):
    name = application["enterprise"]["name"]
    outputs = SealsCarved(seals=[CarvedSeal(type=t, name=f"{name}{t}", filing_code=f"330402{n:05d}{i:02d}")
                                 for i, t in enumerate(application["seals"])])
    return new_event("seal_carving.seals_carved",
                     step_report("seal_carving.carve", StepStatus.completed, outputs), case_id=case_id)


def count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def started(engine, case_id: str) -> set[str]:
    steps = metadata.tables["kit_steps"]
    with engine.connect() as connection:
        return set(connection.execute(select(steps.c.step).where(steps.c.case_id == case_id)).scalars())


def test_without_an_invoice_seal_the_grant_follows_the_registration_at_once(start_service, broker_uri, watch):
    container = start_service(TaxService)
    watcher = watch(REGISTERED, GRANTED)
    application = samples.establishment_application("奔腾", seals=WITHOUT_INVOICE_SEAL)
    publish(broker_uri, submitted("C1", application), enterprise_registered("C1", 1, application))
    registered, granted = sorted(watcher.wait_for(count=2), key=lambda e: e.event_type != REGISTERED)
    assert registered.data["outputs"] == {
        "uscc": make_uscc("330402", 1), "tax_authority": "国家税务总局嘉兴市南湖区税务局",
        "taxpayer_type": "small_scale",
        "tax_items": ["增值税", "城市维护建设税", "教育费附加", "地方教育附加", "企业所得税", "个人所得税（代扣代缴）", "印花税"],
        "real_name_confirmed": ["legal_representative", "finance_officer", "tax_handler"]}
    assert granted.data["outputs"] == {"invoice_types": ["ordinary"], "monthly_credit": "100000.00",
                                       "uses_invoice_seal": False}
    # one pass of the tracker, caused by whichever of the plan and the registration came last
    assert registered.causation_id == granted.causation_id
    engine = create_engine(container.config["DATABASE_URL"])
    with engine.connect() as connection:
        taxpayer = connection.execute(select(taxpayers)).mappings().one()
        grant = connection.execute(select(invoice_grants)).mappings().one()
    assert (taxpayer["case_id"], taxpayer["review_reasons"]) == ("C1", [])
    assert (grant["uscc"], grant["uses_invoice_seal"], grant["invoice_seal_filing_code"]) == \
        (make_uscc("330402", 1), False, None)
    engine.dispose()


def test_a_registration_undone_cancels_the_taxpayer_and_revokes_the_grant_built_on_it_once(
        start_service, broker_uri, watch):
    container = start_service(TaxService, max_workers=1)
    watcher = watch(REGISTERED, GRANTED, "tax.taxpayer_registration_refused", "tax.invoice_grant_refused")
    application = samples.establishment_application("折返", seals=WITHOUT_INVOICE_SEAL)
    publish(broker_uri, submitted("U1", application), enterprise_registered("U1", 11, application))
    watcher.wait_for(count=2)
    undo = step_undone("U1", "registration.establish")
    publish(broker_uri, undo, undo)
    revoked, cancelled = watcher.wait_for(lambda e: e.data.get("undoes"), count=2)
    # what rests on another is undone first: the grant, then the taxpayer it was granted to
    assert (revoked.event_type, cancelled.event_type) == ("tax.invoice_grant_refused", "tax.taxpayer_registration_refused")
    for event in (revoked, cancelled):
        assert event.data["status"] == "rejected" and event.causation_id == str(undo.event_id)
        assert [(r["code"], r["field"]) for r in event.data["reasons"]] == [
            ("prerequisite_undone", "step:registration.establish")]
    wait_until_consumed(broker_uri, "tax.inbox")
    engine = create_engine(container.config["DATABASE_URL"])
    with engine.connect() as connection:
        taxpayer = connection.execute(select(taxpayers)).mappings().one()
        grant = connection.execute(select(invoice_grants)).mappings().one()
    assert (taxpayer["status"], taxpayer["undo_reason"]) == ("cancelled", "prerequisite_undone") and taxpayer["cancelled_at"]
    assert (grant["status"], grant["undo_reason"]) == ("revoked", "prerequisite_undone") and grant["revoked_at"]
    assert len(watcher.drain()) == 4  # the second delivery announced nothing
    engine.dispose()


def test_seals_undone_before_they_arrive_never_start_the_grant_and_the_taxpayer_stands(
        start_service, broker_uri, watch):
    container = start_service(TaxService, max_workers=1)
    watcher = watch(REGISTERED, GRANTED, "tax.taxpayer_registration_refused", "tax.invoice_grant_refused")
    application = samples.establishment_application("半途")
    publish(broker_uri, submitted("U2", application), enterprise_registered("U2", 12, application),
            step_undone("U2", "seal_carving.carve", "prerequisite_undone", "所依据的设立登记已撤销"),
            seals_carved("U2", 12, application))
    watcher.wait_for()
    wait_until_consumed(broker_uri, "tax.inbox")
    assert [e.event_type for e in watcher.drain()] == [REGISTERED]
    engine = create_engine(container.config["DATABASE_URL"])
    assert started(engine, "U2") == {"tax.register"} and count(engine, invoice_grants) == 0
    engine.dispose()


def test_a_general_taxpayer_waits_for_tax_staff_then_is_confirmed_with_what_they_looked_at(
        start_service, broker_uri, watch, rpc):
    container = start_service(TaxService)
    watcher = watch(REGISTERED, GRANTED, "tax.step_updated")
    application = samples.establishment_application("飞跃", seals=WITHOUT_INVOICE_SEAL)
    application["tax"] = {"taxpayer_type": "general", "invoices": ["ordinary", "special"]}
    publish(broker_uri, submitted("C2", application), enterprise_registered("C2", 2, application))
    [waiting] = watcher.wait_for()
    assert (waiting.event_type, waiting.data["status"]) == ("tax.step_updated", "awaiting_review")
    assert waiting.data["reasons"][0]["code"] == "general_taxpayer_review"
    engine = create_engine(container.config["DATABASE_URL"])
    assert count(engine, taxpayers) == 0 and started(engine, "C2") == {"tax.register"}  # the grant waits too
    [review] = StaffRpc(rpc, "tax").reviews()["items"]
    assert (review["case_id"], review["step"]) == ("C2", "tax.register")
    assert review["data"]["facts"]["registration.establish"]["uscc"] == make_uscc("330402", 2)  # 材料共享
    decided = StaffRpc(rpc, "tax").decide(review["review_id"], {"decision": "approve"}, "tax-officer-wang")
    assert (decided["step_status"], decided["decided_by"]) == ("completed", "tax-officer-wang")
    registered, granted = sorted(watcher.wait_for(lambda e: e.event_type != "tax.step_updated", count=2),
                                 key=lambda e: e.event_type != REGISTERED)
    assert registered.data["status"] == "completed" and registered.data["decided_by"] == "tax-officer-wang"
    assert registered.data["outputs"]["taxpayer_type"] == "general"
    assert granted.data["outputs"]["invoice_types"] == ["ordinary", "special"]
    assert Decimal(granted.data["outputs"]["monthly_credit"]) == Decimal("1000000.00")
    with engine.connect() as connection:
        [kept] = connection.execute(select(taxpayers.c.review_reasons)).scalar_one()
    assert kept["code"] == "general_taxpayer_review"
    assert StaffRpc(rpc, "tax").reviews()["items"] == []
    assert StaffRpc(rpc, "tax").reviews("decided")["items"][0]["decided_by"] == "tax-officer-wang"
    engine.dispose()


def test_a_registration_undone_while_tax_staff_review_it_cancels_the_step_and_closes_the_review(
        start_service, broker_uri, watch, rpc):
    container = start_service(TaxService, max_workers=1)
    watcher = watch("tax.step_updated", "tax.taxpayer_registration_refused")
    application = samples.establishment_application("中辍", seals=WITHOUT_INVOICE_SEAL)
    application["tax"] = {"taxpayer_type": "general", "invoices": ["ordinary"]}
    publish(broker_uri, submitted("U3", application), enterprise_registered("U3", 13, application))
    watcher.wait_for()
    assert [r["case_id"] for r in StaffRpc(rpc, "tax").reviews()["items"]] == ["U3"]
    publish(broker_uri, step_undone("U3", "registration.establish"))
    [cancelled] = watcher.wait_for(lambda e: e.data["status"] == "cancelled")
    # nothing had taken effect: ended, not undone
    assert cancelled.data["undoes"] is False and cancelled.data["reasons"][0]["code"] == "prerequisite_undone"
    assert StaffRpc(rpc, "tax").reviews()["items"] == []
    engine = create_engine(container.config["DATABASE_URL"])
    assert count(engine, taxpayers) == 0
    engine.dispose()


@pytest.mark.parametrize("seals_first", [True, False], ids=["seals_first", "registration_first"])
def test_with_an_invoice_seal_the_grant_waits_for_the_seals(start_service, broker_uri, watch, seals_first):
    container = start_service(TaxService)
    engine = create_engine(container.config["DATABASE_URL"])
    watcher = watch(REGISTERED, GRANTED)
    application = samples.establishment_application("启明")
    case, registration, seals = submitted("C3", application), enterprise_registered("C3", 3, application), \
        seals_carved("C3", 3, application)
    facts = metadata.tables["kit_step_facts"]
    if seals_first:
        publish(broker_uri, case, case, seals, seals)
        wait_for(lambda: count(engine, facts) == 1, what="the seals recorded")
        publish(broker_uri, registration, registration)
        events = watcher.wait_for(count=2)
        assert {e.causation_id for e in events} == {str(registration.event_id)}
    else:
        publish(broker_uri, case, case, registration, registration)
        watcher.wait_for(lambda e: e.event_type == REGISTERED)
        # the registration committed without the grant: it waits for the seals
        assert started(engine, "C3") == {"tax.register"} and count(engine, invoice_grants) == 0
        publish(broker_uri, seals, seals)
        [granted] = watcher.wait_for(lambda e: e.event_type == GRANTED)
        assert granted.causation_id == str(seals.event_id)
    [granted] = [e for e in watcher.drain() if e.event_type == GRANTED]
    assert granted.data["outputs"]["uses_invoice_seal"] is True
    with engine.connect() as connection:
        grant = connection.execute(select(invoice_grants)).mappings().one()
    invoice_seal = next(s for s in seals.data["outputs"]["seals"] if s["type"] == "invoice")
    assert grant["invoice_seal_filing_code"] == invoice_seal["filing_code"]
    assert count(engine, taxpayers) == 1 and count(engine, invoice_grants) == 1
    assert started(engine, "C3") == {"tax.register", "tax.grant_invoices"}
    assert sorted(e.event_type for e in watcher.drain()) == [GRANTED, REGISTERED]
    engine.dispose()


def test_two_replicas_on_one_database_register_each_taxpayer_once(start_service, broker_uri, watch, database_factory):
    url = database_factory()
    start_service(TaxService, database_url=url)
    start_service(TaxService, database_url=url)
    watcher = watch(REGISTERED, GRANTED)
    events = []
    for n in range(20):
        case_id = f"R{n}"
        application = samples.establishment_application(samples.unique_trade_name(n), seals=WITHOUT_INVOICE_SEAL)
        case, registration = submitted(case_id, application), enterprise_registered(case_id, 100 + n, application)
        events += [case, registration, registration, case]  # each twice, the plan sometimes last
    publish(broker_uri, *events)
    watcher.wait_for(lambda e: e.event_type == GRANTED, count=20)
    engine = create_engine(url)
    assert count(engine, taxpayers) == 20 and count(engine, invoice_grants) == 20
    with engine.connect() as connection:
        per_case = connection.execute(select(taxpayers.c.case_id, func.count()).group_by(taxpayers.c.case_id)).all()
    assert sorted(case_id for case_id, n in per_case if n == 1) == sorted(f"R{n}" for n in range(20))
    registered = [e for e in watcher.drain() if e.event_type == REGISTERED]
    assert sorted(e.case_id for e in registered) == sorted(f"R{n}" for n in range(20))
    engine.dispose()


def accepted(case_id: str, uscc: str):
    outputs = {"uscc": uscc, "enterprise_name": "嘉兴企业有限公司", "route": "simple",
               "accepted_at": datetime.now(timezone.utc).isoformat()}
    return new_event("deregistration.application_accepted",
                     step_report("deregistration.accept", StepStatus.completed, outputs), case_id=case_id)


def test_clearance_closes_the_taxpayer_refuses_while_tax_is_owed_and_confirms_one_without_tax_business(
        start_service, broker_uri, watch, rpc):
    container = start_service(TaxService)
    watcher = watch(REGISTERED, "tax.tax_cleared", "tax.tax_clearance_refused", "tax.arrears_recorded",
                    "tax.arrears_settled")
    establishment = samples.establishment_application("清源", seals=WITHOUT_INVOICE_SEAL)
    publish(broker_uri, submitted("E1", establishment), enterprise_registered("E1", 41, establishment))
    watcher.wait_for(lambda e: e.event_type == REGISTERED)
    owing, never = make_uscc("330402", 41), make_uscc("330402", 43)
    recorded = rpc("tax", operator_token()).record_arrears(owing, "1500.00", "2026年10月增值税")
    assert (recorded["outstanding"], recorded["revision"]) == ("1500.00", 1)
    [announced] = watcher.wait_for(lambda e: e.event_type == "tax.arrears_recorded")
    assert announced.data["uscc"] == owing and announced.case_id is None
    for case_id, uscc in (("D1", owing), ("D3", never)):
        app = samples.deregistration_application(uscc)
        publish(broker_uri, submitted(case_id, app, "deregistration"), accepted(case_id, uscc))
    [refused] = watcher.wait_for(lambda e: e.case_id == "D1")
    assert refused.event_type == "tax.tax_clearance_refused"
    assert refused.data["reasons"][0]["code"] == "unpaid_tax" and "1500.00" in refused.data["reasons"][0]["message"]
    [confirmed] = watcher.wait_for(lambda e: e.case_id == "D3")
    assert confirmed.event_type == "tax.tax_cleared" and confirmed.data["outputs"]["certificate_number"] is None
    # paid up, the enterprise closes by a new application
    assert rpc("tax", operator_token()).settle_arrears(owing)["outstanding"] == "0.00"
    watcher.wait_for(lambda e: e.event_type == "tax.arrears_settled")
    app = samples.deregistration_application(owing)
    publish(broker_uri, submitted("D2", app, "deregistration"), accepted("D2", owing))
    [done] = watcher.wait_for(lambda e: e.case_id == "D2")
    assert done.event_type == "tax.tax_cleared"
    assert done.data["outputs"]["certificate_number"].startswith("330402税企清〔")
    assert done.data["outputs"]["tax_authority"] == "国家税务总局嘉兴市南湖区税务局"
    engine = create_engine(container.config["DATABASE_URL"])
    with engine.connect() as connection:
        taxpayer = connection.execute(select(taxpayers.c.status, taxpayers.c.cleared_at)
                                      .where(taxpayers.c.uscc == owing)).one()
        outcomes = dict(connection.execute(select(clearances.c.case_id, clearances.c.outcome)).all())
    engine.dispose()
    assert taxpayer.status == "cleared" and taxpayer.cleared_at is not None
    assert outcomes == {"D1": "refused", "D2": "cleared", "D3": "no_tax_business"}
    with pytest.raises(Exception, match="amount must be positive"):
        rpc("tax", operator_token()).record_arrears(owing, "-1")


def test_a_deregistration_withdrawn_after_clearance_undoes_it_and_the_taxpayer_is_active_again(
        start_service, broker_uri, watch):
    from yjs_contracts.events import CaseWithdrawn

    container = start_service(TaxService)
    watcher = watch(REGISTERED, "tax.tax_cleared", "tax.step_updated")
    establishment = samples.establishment_application("回春", seals=WITHOUT_INVOICE_SEAL)
    publish(broker_uri, submitted("E5", establishment), enterprise_registered("E5", 51, establishment))
    watcher.wait_for(lambda e: e.event_type == REGISTERED)
    uscc = make_uscc("330402", 51)
    deregistration = submitted("D5", samples.deregistration_application(uscc), "deregistration")
    publish(broker_uri, deregistration, accepted("D5", uscc))
    [cleared] = watcher.wait_for(lambda e: e.case_id == "D5")
    assert cleared.event_type == "tax.tax_cleared" and cleared.data["outputs"]["certificate_number"]
    engine = create_engine(container.config["DATABASE_URL"])

    def standing():
        with engine.connect() as connection:
            return (connection.execute(select(taxpayers.c.status).where(taxpayers.c.uscc == uscc)).scalar_one(),
                    connection.execute(select(clearances.c.outcome).where(clearances.c.case_id == "D5")).scalar_one())

    assert standing() == ("cleared", "cleared")
    withdrawn = CaseWithdrawn(matter="deregistration", owner="alice", reason="继续经营",
                              steps=[s["step"] for s in deregistration.data["plan"]],
                              withdrawn_at=datetime.now(timezone.utc))
    publish(broker_uri, new_event("case.withdrawn", withdrawn, case_id="D5"))
    [undone] = watcher.wait_for(lambda e: e.case_id == "D5" and e.event_type == "tax.step_updated")
    assert (undone.data["step"], undone.data["status"], undone.data["undoes"]) == ("tax.clear", "cancelled", True)
    assert standing() == ("registered", "undone")
    engine.dispose()


def test_a_step_whose_turn_comes_after_the_withdrawal_never_starts_and_says_so(start_service, broker_uri, watch):
    from yjs_contracts.events import CaseWithdrawn

    container = start_service(TaxService, max_workers=1)  # one at a time: in the order published
    watcher = watch("tax.tax_cleared", "tax.step_updated")
    uscc = make_uscc("330402", 61)
    deregistration = submitted("D6", samples.deregistration_application(uscc), "deregistration")
    withdrawn = CaseWithdrawn(matter="deregistration", owner="alice", reason="继续经营",
                              steps=[s["step"] for s in deregistration.data["plan"]],
                              withdrawn_at=datetime.now(timezone.utc))
    # the acceptance the clearance waits for arrives after the withdrawal
    publish(broker_uri, deregistration, new_event("case.withdrawn", withdrawn, case_id="D6"), accepted("D6", uscc))
    [cancelled] = watcher.wait_for(lambda e: e.case_id == "D6")
    assert (cancelled.event_type, cancelled.data["step"], cancelled.data["status"]) == \
        ("tax.step_updated", "tax.clear", "cancelled")
    engine = create_engine(container.config["DATABASE_URL"])
    assert count(engine, clearances) == 0
    engine.dispose()
