"""Tax on the real broker and database: plans and prerequisite events in, taxpayers and
invoice grants out — once each, whatever the order, duplicates or replicas."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select
from yjs_contracts import samples
from yjs_contracts.codes import make_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import CarvedSeal, CaseSubmitted, EnterpriseRegistered, SealsCarved, step_report
from yjs_contracts.plans import plan_for, with_deadlines
from yjs_contracts.steps import StepStatus
from yjs_kit.testing import publish, wait_for
from yjs_tax.models import invoice_grants, metadata, taxpayers
from yjs_tax.service import TaxService

WITHOUT_INVOICE_SEAL = ("official", "finance", "legal_representative")
REGISTERED, GRANTED = "tax.taxpayer_registered", "tax.invoices_granted"


def submitted(case_id: str, application: dict, matter: str = "establishment"):
    now = datetime.now(timezone.utc)
    plan = with_deadlines(matter, plan_for(matter, application), now)
    return new_event("case.submitted", CaseSubmitted(matter=matter, owner="alice", application=application,
                                                     plan=plan, submitted_at=now), case_id=case_id)


def enterprise_registered(case_id: str, n: int, application: dict):
    outputs = EnterpriseRegistered(uscc=make_uscc("330402", n), licence_number=f"330402{n:09d}",
                                   enterprise_name=application["enterprise"]["name"],
                                   registered_at=datetime.now(timezone.utc))
    return new_event("registration.enterprise_registered",
                     step_report("registration.establish", StepStatus.completed, outputs), case_id=case_id)


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


def test_a_general_taxpayer_is_confirmed_and_kept_for_review(start_service, broker_uri, watch):
    container = start_service(TaxService)
    watcher = watch(REGISTERED, GRANTED)
    application = samples.establishment_application("飞跃", seals=WITHOUT_INVOICE_SEAL)
    application["tax"] = {"taxpayer_type": "general", "invoices": ["ordinary", "special"]}
    publish(broker_uri, submitted("C2", application), enterprise_registered("C2", 2, application))
    registered, granted = sorted(watcher.wait_for(count=2), key=lambda e: e.event_type != REGISTERED)
    assert registered.data["status"] == "completed"
    assert registered.data["outputs"]["taxpayer_type"] == "general"
    assert granted.data["outputs"]["invoice_types"] == ["ordinary", "special"]
    assert Decimal(granted.data["outputs"]["monthly_credit"]) == Decimal("1000000.00")
    engine = create_engine(container.config["DATABASE_URL"])
    with engine.connect() as connection:
        [review] = connection.execute(select(taxpayers.c.review_reasons)).scalar_one()
    assert review["code"] == "general_taxpayer_review"
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
