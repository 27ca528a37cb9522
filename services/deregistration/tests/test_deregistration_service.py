"""Deregistration on the real broker and database: what it learns from registration (the
register and its listings), tax and social insurance,
its eligibility decision, notices that end by a timer (once, with two replicas), objections,
the liquidation report, and a case that ends otherwise."""

from datetime import date, datetime, timezone

import eventlet

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import create_engine, func, select, text
from yjs_contracts import samples
from yjs_contracts.codes import make_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import (CaseFinished, CaseSubmitted, CaseWithdrawn, EnterpriseDeregistered,
                                  EnterpriseListings, EnterpriseRegistered, ListedEntry, TaxArrears, step_report,
                                  ContributionArrears)
from yjs_contracts.steps import StepStatus
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool
from yjs_deregistration.models import contribution_arrears, enterprises, listings, metadata, notices, tax_arrears
from yjs_deregistration.notices import end_notice
from yjs_kit.department import find_tracker
from yjs_kit.db import make_engine
from yjs_kit.uow import UnitOfWork
from yjs_deregistration.service import DeregistrationService
from yjs_kit.testing import applicant_token, case_submitted, publish, wait_for

ACCEPTED, REFUSED = "deregistration.application_accepted", "deregistration.application_refused"
UPDATED, ENDED, OBJECTED = "deregistration.step_updated", "deregistration.notice_period_ended", \
    "deregistration.notice_objected"
REPORTED = "deregistration.liquidation_report_accepted"
ALL = (ACCEPTED, REFUSED, UPDATED, ENDED, OBJECTED, REPORTED)


@pytest.fixture(autouse=True)
def short_notices(monkeypatch):
    monkeypatch.setenv("NOTICE_PERIOD_SECONDS", "2")


application = samples.deregistration_application


def submitted(case_id: str, app: dict):
    return case_submitted(case_id, app, "deregistration")


def registered(n: int):
    uscc = make_uscc("330402", n)
    outputs = EnterpriseRegistered(uscc=uscc, licence_number=f"330402{n:09d}", enterprise_name=f"嘉兴{n}号有限公司",
                                   registered_at=datetime.now(timezone.utc))
    event = new_event("registration.enterprise_registered",
                      step_report("registration.establish", StepStatus.completed, outputs), case_id=f"E{n}")
    return uscc, event


def deregistered(uscc: str, n: int):
    outputs = EnterpriseDeregistered(uscc=uscc, enterprise_name=f"嘉兴{n}号有限公司", licence_number=f"330402{n:09d}",
                                     deregistered_at=datetime.now(timezone.utc))
    return new_event("registration.enterprise_deregistered",
                     step_report("registration.deregister", StepStatus.completed, outputs), case_id="D0")


def arrears(uscc: str, outstanding: str, revision: int, department: str = "tax"):
    event_type = f"{department}.arrears_{'recorded' if outstanding != '0.00' else 'settled'}"
    model = TaxArrears if department == "tax" else ContributionArrears
    return new_event(event_type, model(uscc=uscc, outstanding=outstanding, revision=revision,
                                       as_of=datetime.now(timezone.utc)), case_id=None)


def listings_changed(uscc: str, revision: int, *kinds: str):
    entries = [ListedEntry(listing_id=f"L{revision}{i}", kind=kind) for i, kind in enumerate(kinds)]
    return new_event("registration.listings_changed", EnterpriseListings(
        uscc=uscc, listings=entries, revision=revision, as_of=datetime.now(timezone.utc)), case_id=None)


def case_rejected(case_id: str):
    return new_event("case.rejected", CaseFinished(matter="deregistration", owner="alice", status="rejected",
                                                   outputs={}, finished_at=datetime.now(timezone.utc)),
                     case_id=case_id)


def of(watcher, case_id, *types, count=1, timeout=15.0):
    return watcher.wait_for(lambda e: e.case_id == case_id and e.event_type in types, count=count, timeout=timeout)


def known_enterprise(container, broker_uri, n: int) -> str:
    """An enterprise registration announced, and deregistration has learned of it."""
    uscc, event = registered(n)
    publish(broker_uri, event)
    wait_for(lambda: learned(container, enterprises, uscc, "status"), what="the registration learned")
    return uscc


def learned(container, table, uscc, column):
    engine = create_engine(container.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.execute(select(getattr(table.c, column)).where(table.c.uscc == uscc)).scalar()
    finally:
        engine.dispose()


def test_a_simple_deregistration_is_accepted_published_and_ends_when_its_period_has_run(start_service, broker_uri,
                                                                                        watch, rpc):
    container = start_service(DeregistrationService)
    watcher = watch(*ALL)
    uscc = known_enterprise(container, broker_uri, 1)
    case = submitted("C1", application(uscc))
    publish(broker_uri, case, case)
    accepted, published = of(watcher, "C1", ACCEPTED, UPDATED, count=2)
    assert accepted.data["outputs"]["enterprise_name"] == "嘉兴1号有限公司"
    notice = published.data["outputs"]
    assert published.data["status"] == "in_progress" and notice["notice_id"].startswith("ZXGG")
    [listed] = wait_for(lambda: rpc("deregistration").open_notices(uscc)["items"])
    assert (listed["notice_id"], listed["enterprise_name"], listed["route"]) == (notice["notice_id"], "嘉兴1号有限公司",
                                                                                 "simple")
    [ended] = of(watcher, "C1", ENDED)
    assert ended.data["status"] == "completed" and ended.data["outputs"]["notice_id"] == notice["notice_id"]
    assert ended.correlation_id == case.correlation_id
    assert rpc("deregistration").open_notices(uscc)["items"] == []
    # the second delivery of the plan started nothing, and the notice ended once
    assert sorted(e.event_type for e in watcher.drain() if e.case_id == "C1") == [ACCEPTED, ENDED, UPDATED]


def test_a_closure_asked_before_the_enterprise_registration_reached_deregistration_waits_for_it(start_service,
                                                                                               broker_uri, watch):
    """The case and the registration it needs come from two producers: the case may come first.
    It is tried again after the retry delay, not refused as an unknown enterprise."""
    from prometheus_client import REGISTRY

    start_service(DeregistrationService, max_workers=1)
    watcher = watch(*ALL)
    retried = lambda: REGISTRY.get_sample_value("yjs_events_consumed_total", {
        "service": "deregistration", "event_type": "case.submitted", "outcome": "retried"}) or 0
    before = retried()
    uscc, registration = registered(9)
    publish(broker_uri, submitted("W1", application(uscc)))
    wait_for(lambda: retried() > before, what="the case tried, and waiting to be tried again")
    assert watcher.drain() == []  # nothing decided
    publish(broker_uri, registration)
    [accepted] = of(watcher, "W1", ACCEPTED, REFUSED)
    assert accepted.event_type == ACCEPTED, accepted.data.get("reasons")


def test_unknown_closed_closing_and_owing_enterprises_are_refused_with_reasons(start_service, broker_uri, watch):
    container = start_service(DeregistrationService)
    watcher = watch(*ALL)
    (owing, owing_known), (paid, paid_known), (closed, closed_known), (busy, busy_known) = \
        registered(2), registered(3), registered(4), registered(5)
    (insured, insured_known), (both, both_known) = registered(10), registered(11)
    # tax's and social insurance's announcements arrive out of order: the highest revision wins,
    # each department's apart
    publish(broker_uri, owing_known, paid_known, closed_known, deregistered(closed, 4), busy_known,
            insured_known, both_known,
            arrears(owing, "500.00", 1), arrears(owing, "800.00", 3), arrears(owing, "0.00", 2),
            arrears(paid, "0.00", 2), arrears(paid, "300.00", 1),
            arrears(paid, "0.00", 5, "social_insurance"), arrears(paid, "120.00", 4, "social_insurance"),
            arrears(insured, "3200.50", 2, "social_insurance"), arrears(insured, "0.00", 1, "social_insurance"),
            arrears(both, "10.00", 1), arrears(both, "20.00", 1, "social_insurance"))
    wait_for(lambda: learned(container, tax_arrears, owing, "revision") == 3
             and learned(container, tax_arrears, paid, "revision") == 2
             and learned(container, contribution_arrears, paid, "revision") == 5
             and learned(container, contribution_arrears, insured, "revision") == 2
             and learned(container, contribution_arrears, both, "revision") == 1
             and learned(container, tax_arrears, both, "revision") == 1
             and learned(container, enterprises, closed, "status") == "deregistered"
             and learned(container, enterprises, busy, "status") == "registered", what="the facts learned")
    publish(broker_uri, submitted("U1", application(make_uscc("330402", 99))), submitted("X1", application(closed)),
            submitted("O1", application(owing)), submitted("P1", application(paid)),
            submitted("B1", application(busy)), submitted("I1", application(insured)),
            submitted("T1", application(both, "general")))
    of(watcher, "P1", ACCEPTED)
    of(watcher, "B1", ACCEPTED)
    publish(broker_uri, submitted("B2", application(busy, "general")))
    refused = ("U1", "X1", "O1", "B2", "I1", "T1")
    reasons = {case_id: of(watcher, case_id, REFUSED)[0].data["reasons"] for case_id in refused}
    assert {case_id: [r["code"] for r in found] for case_id, found in reasons.items()} == {
        "U1": ["enterprise_unknown"], "X1": ["already_deregistered"], "O1": ["unpaid_tax"],
        "B2": ["deregistration_in_progress"], "I1": ["unpaid_contributions"],
        "T1": ["unpaid_tax", "unpaid_contributions"]}
    assert "800.00" in reasons["O1"][0]["message"] and "B1" in reasons["B2"][0]["message"]
    assert "3200.50" in reasons["I1"][0]["message"] and reasons["I1"][0]["field"] == "application.uscc"
    # refused at acceptance: no notice published for any of them
    assert all(e.event_type != UPDATED for e in watcher.drain() if e.case_id in refused)


def test_listings_as_registration_last_announced_them_bar_the_routes_the_law_closes(start_service, broker_uri, watch):
    container = start_service(DeregistrationService)
    watcher = watch(*ALL)
    (listed, listed_known), (pledged, pledged_known), (frozen, frozen_known) = registered(6), registered(7), registered(8)
    # registration's announcements arrive out of order: the highest revision wins; a removal
    # announces the listings left
    publish(broker_uri, listed_known, pledged_known, frozen_known,
            listings_changed(listed, 2, "abnormal_operation", "serious_violation"),
            listings_changed(listed, 1, "abnormal_operation"), listings_changed(listed, 3, "serious_violation"),
            listings_changed(pledged, 1, "equity_pledged"), listings_changed(frozen, 1, "equity_frozen"))
    wait_for(lambda: learned(container, listings, listed, "revision") == 3
             and learned(container, listings, pledged, "revision") == 1
             and learned(container, listings, frozen, "revision") == 1
             and learned(container, enterprises, frozen, "status") == "registered", what="the listings learned")
    publish(broker_uri, submitted("L1", application(listed)), submitted("L2", application(pledged)),
            submitted("L4", application(frozen, "general")))
    refused = {case_id: of(watcher, case_id, REFUSED)[0].data["reasons"] for case_id in ("L1", "L2", "L4")}
    # after L2 is refused: accepted first, it would make L2 a second deregistration in progress
    publish(broker_uri, submitted("L3", application(pledged, "general")))
    of(watcher, "L3", ACCEPTED)
    assert {case_id: [(r["code"], r["field"]) for r in found] for case_id, found in refused.items()} == {
        "L1": [("serious_violation", "application.route")], "L2": [("equity_pledged", "application.route")],
        "L4": [("equity_frozen", "application.uscc")]}
    assert "严重违法失信名单" in refused["L1"][0]["message"]


def test_an_objection_ends_a_simple_notice_at_once_and_a_closed_notice_takes_no_more(start_service, broker_uri,
                                                                                     watch, rpc):
    container = start_service(DeregistrationService)
    watcher = watch(*ALL)
    uscc = known_enterprise(container, broker_uri, 6)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NOTICE_PERIOD_SECONDS", "60")  # long enough that only the objection can end it
        publish(broker_uri, submitted("O2", application(uscc)))
        _, published = of(watcher, "O2", ACCEPTED, UPDATED, count=2)
    notice_id = published.data["outputs"]["notice_id"]
    objection = {"name": "嘉兴某供应链有限公司", "contact": "0573-88888888", "reason": "尚欠货款 12 万元未结清"}
    answer = rpc("deregistration").raise_objection(notice_id, objection)
    assert answer["notice_id"] == notice_id and answer["objection_id"].startswith("YY")
    [objected] = of(watcher, "O2", OBJECTED)
    assert objected.data["status"] == "rejected"
    [reason] = objected.data["reasons"]
    assert reason["code"] == "objection_raised" and objection["reason"] in reason["message"]
    assert objection["contact"] not in reason["message"]  # the objector's contact is for the authority only
    with pytest.raises(RemoteError) as again:
        rpc("deregistration").raise_objection(notice_id, objection)
    assert again.value.exc_type == "NoticeClosed"
    with pytest.raises(RemoteError) as unknown:
        rpc("deregistration").raise_objection("ZXGG20000101000001", objection)
    assert unknown.value.exc_type == "NoticeNotFound"
    assert rpc("deregistration").open_notices(uscc)["items"] == []
    # the simplified route is over: the applicant may apply again by the general route at once
    publish(broker_uri, submitted("O3", application(uscc, "general")))
    of(watcher, "O3", ACCEPTED)


def test_the_general_route_files_the_group_runs_the_creditor_notice_then_takes_the_report(start_service, broker_uri,
                                                                                          watch, rpc):
    container = start_service(DeregistrationService)
    watcher = watch(*ALL)
    uscc = known_enterprise(container, broker_uri, 7)
    publish(broker_uri, submitted("G1", application(uscc, "general")))
    _, published = of(watcher, "G1", ACCEPTED, UPDATED, count=2)
    notice = published.data["outputs"]
    assert notice["route"] == "general" and notice["liquidation_group_filed_at"]
    report = {"report": "清算组已清理公司财产、清偿全部债务，剩余财产已按出资比例分配。", "approved_on": date.today().isoformat()}
    with pytest.raises(RemoteError) as early:  # claims may still be filed: no report yet
        rpc("deregistration", applicant_token("alice")).submit_liquidation_report("G1", report)
    assert early.value.exc_type == "LiquidationReportRefused"
    with pytest.raises(RemoteError) as objection:
        rpc("deregistration").raise_objection(notice["notice_id"], {"name": "某", "contact": "13900000000",
                                                                     "reason": "不同意注销"})
    assert objection.value.exc_type == "ObjectionsNotAccepted"
    of(watcher, "G1", ENDED)
    [waiting] = watcher.wait_for(lambda e: e.case_id == "G1" and e.data["step"] == "deregistration.liquidation_report")
    assert waiting.data["status"] == "awaiting_applicant"
    assert waiting.data["reasons"][0]["code"] == "liquidation_report_required"
    # called directly, past the gateway: the service itself refuses anyone but the case's applicant
    for outsider, refusal in ((applicant_token("mallory"), "DeregistrationNotFound"), (None, "CallerNotVerified")):
        with pytest.raises(RemoteError) as refused:
            rpc("deregistration", outsider).submit_liquidation_report("G1", report)
        assert refused.value.exc_type == refusal
    assert rpc("deregistration", applicant_token("alice")).submit_liquidation_report("G1", report) == {"case_id": "G1", "status": "accepted"}
    [accepted] = of(watcher, "G1", REPORTED)
    assert accepted.data["outputs"]["approved_on"] == report["approved_on"]
    with pytest.raises(RemoteError) as twice:
        rpc("deregistration", applicant_token("alice")).submit_liquidation_report("G1", report)
    assert twice.value.exc_type == "LiquidationReportRefused"


def test_a_case_rejected_elsewhere_withdraws_the_running_notice(start_service, broker_uri, watch, rpc):
    container = start_service(DeregistrationService)
    watcher = watch(*ALL)
    uscc = known_enterprise(container, broker_uri, 8)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NOTICE_PERIOD_SECONDS", "60")
        publish(broker_uri, submitted("R1", application(uscc)))
        of(watcher, "R1", ACCEPTED, UPDATED, count=2)
    rejected = case_rejected("R1")
    publish(broker_uri, rejected, rejected)
    [cancelled] = watcher.wait_for(lambda e: e.case_id == "R1" and e.data["status"] == "cancelled")
    assert cancelled.event_type == UPDATED and cancelled.causation_id == str(rejected.event_id)
    assert rpc("deregistration").open_notices(uscc)["items"] == []
    publish(broker_uri, submitted("R2", application(uscc)))  # no longer in progress
    of(watcher, "R2", ACCEPTED)
    assert [e.data["status"] for e in watcher.drain() if e.case_id == "R1" and e.event_type == UPDATED] == \
        ["in_progress", "cancelled"]


def test_two_replicas_end_each_notice_once(start_service, broker_uri, watch, database_factory):
    url = database_factory()
    start_service(DeregistrationService, database_url=url)
    start_service(DeregistrationService, database_url=url)
    watcher = watch(*ALL)
    known = [registered(100 + n) for n in range(10)]
    publish(broker_uri, *(event for _, event in known))
    engine = create_engine(url)
    try:
        wait_for(lambda: _count(engine, enterprises) == 10, what="the registrations learned")
        publish(broker_uri, *(submitted(f"M{n}", application(uscc)) for n, (uscc, _) in enumerate(known)))
        watcher.wait_for(lambda e: e.event_type == ENDED, count=10, timeout=30)
        wait_for(lambda: _count(engine, notices, notices.c.status == "ended") == 10, what="every notice ended")
    finally:
        engine.dispose()
    ended = [e.case_id for e in watcher.drain() if e.event_type == ENDED]
    assert sorted(ended) == sorted(f"M{n}" for n in range(10))


def test_a_replica_that_looks_while_another_ends_a_notice_leaves_it_alone(start_service, broker_uri, watch,
                                                                         monkeypatch):
    """The race forced: the first replica has ended the notice and not yet committed when the
    second comes to end it too; the second waits for the case's lock and then leaves it alone."""
    monkeypatch.setenv("NOTICE_PERIOD_SECONDS", "600")  # its own timer never finds it due
    container = start_service(DeregistrationService)
    watcher = watch(*ALL)
    uscc = known_enterprise(container, broker_uri, 77)
    publish(broker_uri, submitted("N1", application(uscc)))
    [running] = of(watcher, "N1", UPDATED)
    notice_id = running.data["outputs"]["notice_id"]
    tracker = find_tracker(container)
    now = datetime.now(timezone.utc)
    url = container.config["DATABASE_URL"]
    engine = make_engine(url)  # green psycopg2: a replica waiting on a lock does not stop the test
    probe = create_engine(url, poolclass=NullPool)
    try:
        sessions = sessionmaker(bind=engine)
        first, second = sessions(), sessions()
        try:
            ended_first = end_notice(UnitOfWork(first, metadata), tracker, notice_id, now)  # held, uncommitted
            other = eventlet.spawn(end_notice, UnitOfWork(second, metadata), tracker, notice_id, now)

            def looked_or_blocked():
                if other.dead:
                    return True
                with probe.connect() as connection:
                    return connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                                   "current_database() AND wait_event_type = 'Lock'")).scalar_one()

            wait_for(looked_or_blocked, what="the second replica done looking, or waiting for the first")
            first.commit()
            ended_second = other.wait()
            second.commit()
        finally:
            first.close()
            second.close()
        assert ended_first == notice_id and ended_second is None
        with probe.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM kit_outbox WHERE routing_key = 'notice_period_ended'")
                                      ).scalar_one() == 1
            assert connection.execute(select(notices.c.status).where(notices.c.notice_id == notice_id)
                                      ).scalars().all() == ["ended"]
    finally:
        probe.dispose()
        engine.dispose()


def _count(engine, table, where=None) -> int:
    query = select(func.count()).select_from(table)
    with engine.connect() as connection:
        return connection.execute(query if where is None else query.where(where)).scalar_one()


def test_a_withdrawn_case_takes_its_notice_down_and_frees_the_enterprise(start_service, broker_uri, watch, rpc):
    container = start_service(DeregistrationService)
    watcher = watch(*ALL)
    uscc = known_enterprise(container, broker_uri, 9)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NOTICE_PERIOD_SECONDS", "60")
        case = submitted("W1", application(uscc))
        publish(broker_uri, case)
        of(watcher, "W1", ACCEPTED, UPDATED, count=2)
    withdrawn = new_event("case.withdrawn", CaseWithdrawn(
        matter="deregistration", owner="alice", reason="暂不注销", steps=[s.step for s in case_plan(case)],
        withdrawn_at=datetime.now(timezone.utc)), case_id="W1")
    publish(broker_uri, withdrawn)
    watcher.wait_for(lambda e: e.case_id == "W1" and e.data["step"] == "deregistration.notice"
                     and e.data["status"] == "cancelled")
    assert rpc("deregistration").open_notices(uscc)["items"] == []
    publish(broker_uri, submitted("W2", application(uscc)))
    of(watcher, "W2", ACCEPTED)


def case_plan(case):
    return CaseSubmitted.model_validate(case.data).plan


def test_a_notice_whose_end_keeps_failing_is_parked_and_the_others_still_end(start_service, broker_uri, watch,
                                                                             monkeypatch):
    monkeypatch.setenv("NOTICE_PERIOD_SECONDS", "3")
    container = start_service(DeregistrationService)
    watcher = watch(*ALL)
    first, second = (known_enterprise(container, broker_uri, n) for n in (301, 302))
    publish(broker_uri, submitted("P1", application(first)))
    [broken] = of(watcher, "P1", UPDATED)
    engine = create_engine(container.config["DATABASE_URL"])
    try:
        # a row its end cannot be announced for (its route unreadable): it ends first, and fails
        with engine.begin() as connection:
            connection.execute(notices.update().where(notices.c.notice_id == broken.data["outputs"]["notice_id"])
                               .values(route="bogus"))
        publish(broker_uri, submitted("P2", application(second)))
        [ended] = of(watcher, "P2", ENDED, timeout=30)
        assert ended.data["status"] == "completed"
        failures = metadata.tables["kit_timer_failures"]
        parked = wait_for(lambda: (lambda row: row if row and row.parked_at else None)(
            _first(engine, select(failures).where(failures.c.row_key == broken.data["outputs"]["notice_id"]))),
            timeout=30, what="the failing notice parked")
        assert parked.timer == "end_due_notices" and parked.attempts == 5 and "bogus" in parked.last_error
        assert _first(engine, select(notices.c.status).where(
            notices.c.notice_id == broken.data["outputs"]["notice_id"])).status == "running"
    finally:
        engine.dispose()
    assert [e for e in watcher.drain() if e.case_id == "P1" and e.event_type == ENDED] == []  # never announced


def _first(engine, query):
    with engine.connect() as connection:
        return connection.execute(query).first()
