"""The case service and the people in the loop, on the real broker and database: withdrawal,
supplements pausing the promised limit, overdue steps announced once across replicas, ratings
and their follow-ups (差评督办: answered, judged, escalated, appealed)."""

from datetime import datetime, time, timedelta, timezone

import pytest
from nameko.exceptions import RemoteError
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, update
from yjs_case.metrics import MatterFigures, StepsInProgress
from yjs_case.models import case_steps, cases, follow_ups
from yjs_case.record import resumed_deadline
from yjs_case.service import CaseService
from yjs_contracts.calendar import CHINA, add_working_time, is_working_day, working_time_between
from yjs_contracts.envelope import new_event
from yjs_contracts.api import Reason
from yjs_contracts.events import StepReport, WithdrawalAnswered, withdrawal_answer_event
from yjs_contracts.steps import STEP_KINDS, StepStatus
from yjs_kit.testing import CaseRpc, publish, wait_for

from .test_case_service import BARE, reports


def report(case_id, step, status, **fields):
    data = StepReport(step=step, status=status, **fields)
    kind = STEP_KINDS[step]
    event_type = {StepStatus.completed: kind.completed_event, StepStatus.rejected: kind.rejected_event}.get(
        status, kind.progress_event)
    return new_event(event_type, data, case_id=case_id)


def step_of(record, step):
    return next(s for s in record["steps"] if s["step"] == step)


def until(rpc, case_id, condition, what):
    return wait_for(lambda: (lambda r: r if condition(r) else None)(CaseRpc(rpc).get_case(case_id)), what=what)


@pytest.fixture
def case_db(start_service, database_factory):
    url = database_factory()
    container = start_service(CaseService, database_url=url)
    engine = create_engine(url)

    def execute(statement):
        with engine.begin() as connection:
            return connection.execute(statement)

    yield container, execute
    engine.dispose()


def answer(request, accepted, reasons=()):
    """The pivot's department's answer to a case.withdrawal_requested."""
    return new_event(withdrawal_answer_event("registration", accepted), WithdrawalAnswered(
        pivot=request.data["pivot"], request_id=str(request.event_id), withdrawal_reason=request.data["reason"],
        reasons=list(reasons), answered_at=datetime.now(timezone.utc)), case_id=request.case_id, causation=request)


def test_a_withdrawal_the_pivot_accepts_ends_the_case_cancels_what_never_started_and_announces_it(
        case_db, rpc, watch, broker_uri):
    requests, watcher = watch("case.withdrawal_requested"), watch("case.withdrawn")
    case_id = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    publish(broker_uri, report(case_id, "registration.establish", StepStatus.awaiting_review,
                               reasons=[{"code": "foreign_investor", "message": "外商投资，需人工审核"}]))
    until(rpc, case_id, lambda r: r["steps"][0]["status"] == "awaiting_review", "the review")
    with pytest.raises(RemoteError) as stranger:
        CaseRpc(rpc).withdraw(case_id, "mallory", "不想办了")
    assert stranger.value.exc_type == "CaseNotFound"
    asked = CaseRpc(rpc).withdraw(case_id, "alice", "经营计划调整")
    # registration owns the point of no return: it decides, the case goes on meanwhile
    assert asked["status"] == "in_progress" and asked["withdrawal"]["status"] == "requested"
    assert CaseRpc(rpc).withdraw(case_id, "alice", "经营计划调整")["withdrawal"]["status"] == "requested"
    [request] = requests.wait_for()  # asked once, however often the applicant presses
    assert request.data["pivot"] == "registration.establish" and request.data["reason"] == "经营计划调整"
    assert CaseRpc(rpc).get_case(case_id)["status"] == "in_progress"
    publish(broker_uri, answer(request, accepted=True))
    [withdrawn] = watcher.wait_for()
    assert len(requests.drain()) == 1
    assert withdrawn.case_id == case_id and withdrawn.data["reason"] == "经营计划调整"
    assert withdrawn.data["steps"] == ["registration.establish", "tax.register", "tax.grant_invoices"]
    record = until(rpc, case_id, lambda r: r["status"] == "withdrawn", "the withdrawal")
    assert record["finished_at"] and record["withdrawal"]["status"] == "accepted"
    # registration holds its step until it reports; what never started is cancelled here
    assert [s["status"] for s in record["steps"]] == ["awaiting_review", "cancelled", "cancelled"]
    publish(broker_uri, report(case_id, "registration.establish", StepStatus.cancelled,
                               reasons=[{"code": "case_withdrawn", "message": "申请人撤回申请"}]))
    record = until(rpc, case_id, lambda r: r["steps"][0]["status"] == "cancelled", "registration's cancellation")
    assert record["status"] == "withdrawn"
    assert [t["event_type"] for t in record["timeline"]][-2:] == ["case.withdrawn", "registration.step_updated"]
    with pytest.raises(RemoteError) as again:
        CaseRpc(rpc).withdraw(case_id, "alice", "再撤一次")
    assert again.value.exc_type == "CaseEnded"


def test_an_establishment_the_record_shows_registered_is_refused_at_once(case_db, rpc, broker_uri):
    case_id = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    publish(broker_uri, reports(case_id)[0])
    until(rpc, case_id, lambda r: r["steps"][0]["status"] == "completed", "registration")
    with pytest.raises(RemoteError) as refused:
        CaseRpc(rpc).withdraw(case_id, "alice", "不开了")
    assert refused.value.exc_type == "WithdrawalRefused" and "注销" in refused.value.value
    assert CaseRpc(rpc).get_case(case_id)["status"] == "in_progress"


def test_a_withdrawal_the_pivot_refuses_is_told_on_the_record_and_the_case_goes_on(case_db, rpc, watch, broker_uri):
    requests, withdrawals = watch("case.withdrawal_requested"), watch("case.withdrawn")
    case_id = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    CaseRpc(rpc).withdraw(case_id, "alice", "不开了")  # the record does not know registration is done yet
    [request] = requests.wait_for()
    refusal = answer(request, accepted=False, reasons=[Reason(
        code="withdrawal_refused", message="设立登记已办结，申请不能撤回", field="step:registration.establish")])
    publish(broker_uri, refusal, refusal)  # redelivered: one entry
    record = until(rpc, case_id, lambda r: r["withdrawal"]["status"] == "refused", "the refusal")
    assert record["status"] != "withdrawn"
    assert record["withdrawal"]["reason"]["code"] == "withdrawal_refused"
    assert "设立登记已办结" in record["withdrawal"]["reason"]["message"]
    assert [t["event_type"] for t in record["timeline"]].count("registration.withdrawal_refused") == 1
    # an accepted answer from a department that owns no pivot of the case changes nothing
    publish(broker_uri, new_event("tax.withdrawal_accepted", answer(request, accepted=True).data, case_id=case_id))
    publish(broker_uri, reports(case_id)[0])
    until(rpc, case_id, lambda r: r["steps"][0]["status"] == "completed", "registration")
    assert CaseRpc(rpc).get_case(case_id)["status"] == "in_progress"
    assert withdrawals.drain() == []


def previous_working_morning() -> datetime:
    day = datetime.now(CHINA).date() - timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, time(10, 0), CHINA)


def test_corrections_pause_the_promised_limit_and_a_supplement_resumes_it(case_db, rpc, watch, broker_uri):
    _, execute = case_db
    watcher = watch("case.supplement_provided")
    case_id = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    before = CaseRpc(rpc).get_case(case_id)
    with pytest.raises(RemoteError) as early:  # nothing asked yet
        CaseRpc(rpc).supplement(case_id, "alice", {"items": [{"material": "住所使用证明", "document_id": "D1"}]})
    assert early.value.exc_type == "NothingToSupplement"
    notice = [{"code": "capital_unproven", "message": "注册资本与验资不符", "field": "application.enterprise.registered_capital"},
              {"code": "subscription_unproven", "message": "认缴出资额与注册资本不符", "field": "application.shareholders.0"}]
    publish(broker_uri, report(case_id, "registration.establish", StepStatus.awaiting_applicant, reasons=notice,
                               decided_by="registrar-li"))
    waiting = until(rpc, case_id, lambda r: r["status"] == "awaiting_applicant", "the notice")
    registration = step_of(waiting, "registration.establish")
    assert registration["paused_at"] and registration["decided_by"] == "registrar-li"
    assert registration["reasons"] == notice
    # the clock stopped a working morning ago, so the pause is never empty, whenever this runs
    paused_at = previous_working_morning()
    execute(update(case_steps).where(case_steps.c.case_id == case_id).where(
        case_steps.c.step == "registration.establish").values(paused_at=paused_at))
    with pytest.raises(RemoteError) as wrong:
        CaseRpc(rpc).supplement(case_id, "alice", {"items": [{"field": "application.shareholders.0.nowhere", "value": 1}]})
    assert wrong.value.exc_type == "InvalidApplication"
    # only what the notice named: anything else is refused, each field named, and nothing changes
    with pytest.raises(RemoteError) as unasked:
        CaseRpc(rpc).supplement(case_id, "alice", {"items": [
            {"field": "application.enterprise.registered_capital", "value": "2000000.00"},
            {"field": "application.shareholders.1.nationality", "value": "CHN"},
            {"field": "application.enterprise.domicile.address", "value": "别处"},
            {"material": "股东国籍证明", "document_id": "D9"}]})
    assert unasked.value.exc_type == "FieldNotRequested"
    assert unasked.value.value == ("application.shareholders.1.nationality: the 补正 notice did not ask for this; "
                                   "application.enterprise.domicile.address: the 补正 notice did not ask for this; "
                                   "material:股东国籍证明: the 补正 notice did not ask for this")
    assert watcher.drain() == []  # nothing announced
    with pytest.raises(RemoteError) as invalid:
        CaseRpc(rpc).supplement(case_id, "alice", {"items": [
            {"field": "application.enterprise.registered_capital", "value": "-5"}]})
    assert invalid.value.exc_type == "InvalidApplication" and "registered_capital" in invalid.value.value
    body = {"items": [{"field": "application.enterprise.registered_capital", "value": "2000000.00"},
                      {"field": "application.shareholders.0.subscribed_amount", "value": "2000000.00"}]}
    answer = CaseRpc(rpc).supplement(case_id, "alice", body)
    assert (answer["revision"], answer["resumed"]) == (1, ["registration.establish"])
    [supplied] = watcher.wait_for()
    assert supplied.data["revision"] == 1 and supplied.data["application"]["enterprise"]["registered_capital"] == "2000000.00"
    record = CaseRpc(rpc).get_case(case_id)
    at = datetime.fromisoformat(next(t["at"] for t in record["timeline"] if t["event_type"] == "case.supplement_provided"))
    for old, new in zip(before["steps"], record["steps"]):  # the step and every step that waits for it
        assert datetime.fromisoformat(new["deadline"]) == resumed_deadline(
            datetime.fromisoformat(old["deadline"]), paused_at, at)
        assert datetime.fromisoformat(new["deadline"]) > datetime.fromisoformat(old["deadline"])
    assert step_of(record, "registration.establish")["paused_at"] is None
    publish(broker_uri, reports(case_id)[0])  # registration resumes and decides
    record = until(rpc, case_id, lambda r: r["steps"][0]["status"] == "completed", "the resumed step")
    assert record["status"] == "in_progress"
    # the pause is on record, and both limits of the step leave it out
    paused_hours = working_time_between(paused_at, at).total_seconds() / 3600
    registration = step_of(record, "registration.establish")
    assert registration["paused_working_hours"] == round(paused_hours, 3) >= 1
    assert (registration["promised_days"], registration["legal_days"]) == (0.5, 3.0)
    assert registration["promised_kept"] is True and registration["legal_kept"] is True
    started = datetime.fromisoformat(record["submitted_at"])
    assert datetime.fromisoformat(registration["legal_deadline"]) == add_working_time(
        started, timedelta(hours=21) + working_time_between(paused_at, at))
    assert record["promised_days"] == 1.0 and record["paused_working_hours"] == registration["paused_working_hours"]
    assert datetime.fromisoformat(record["promised_deadline"]) == add_working_time(
        started, timedelta(hours=7) + working_time_between(paused_at, at))
    assert record["working_hours"] is None and record["promised_kept"] is None  # not finished yet


def test_an_overdue_step_is_announced_once_with_two_replicas(start_service, database_factory, rpc, watch):
    url = database_factory()
    for _ in range(2):
        start_service(CaseService, database_url=url, OVERDUE_CHECK_SECONDS=0.05)
    engine = create_engine(url)
    watcher = watch("case.step_overdue")
    breaches = lambda: REGISTRY.get_sample_value("yjs_step_deadline_breaches_total", {"department": "registration"}) or 0
    counted = breaches()

    def overdue(case_id):
        with engine.begin() as connection:
            connection.execute(update(case_steps).where(case_steps.c.case_id == case_id).values(
                deadline=datetime.now(timezone.utc) - timedelta(seconds=1)))
        return watcher.wait_for(lambda e: e.case_id == case_id)

    first = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    [announced] = overdue(first)
    assert (announced.data["step"], announced.data["department"]) == ("registration.establish", "registration")
    # more overdue cases, each announced only after both replicas had the first in view again
    for n in range(3):
        overdue(CaseRpc(rpc).submit("alice", BARE)["case_id"])
    assert len([e for e in watcher.drain() if e.case_id == first]) == 1  # only the step registration holds
    record = CaseRpc(rpc).get_case(first)
    assert step_of(record, "registration.establish")["overdue"] is True
    assert step_of(record, "tax.register")["overdue"] is False  # pending: no department holds it yet
    assert [t["event_type"] for t in record["timeline"]].count("case.step_overdue") == 1
    assert breaches() - counted == 4
    engine.dispose()


def follow_up_gauge(container, name="yjs_follow_ups_open") -> float:
    """yjs_follow_ups_open (or _escalated_open) as this container's database makes it (the process-wide
    collector follows whichever case container started last)."""
    engine = create_engine(container.config["DATABASE_URL"])
    try:
        [family] = [f for f in StepsInProgress(engine).collect() if f.name == name]
        return family.samples[0].value
    finally:
        engine.dispose()


def ended_case(rpc, broker_uri, owner="alice", seed=1) -> str:
    case_id = CaseRpc(rpc).submit(owner, BARE)["case_id"]
    publish(broker_uri, *reports(case_id, seed))
    until(rpc, case_id, lambda r: r["status"] == "completed", "the case to end")
    return case_id


def matter_samples(container, collector: MatterFigures | None = None) -> dict[str, dict]:
    """The 无感监测 families as this container's database makes them: name -> {labels: value}."""
    engine = create_engine(container.config["DATABASE_URL"])
    try:
        collector = collector or MatterFigures(engine)
        collector.engine = engine
        return {f.name: {tuple(sorted(s.labels.items())): s.value for s in f.samples} for f in collector.collect()}
    finally:
        engine.dispose()


def test_the_matter_figures_are_the_reports_of_the_last_30_days(case_db, rpc, broker_uri):
    assert matter_samples(case_db[0]) == {"yjs_matter_cases_finished": {}, "yjs_matter_within_promised_limit_ratio": {},
                                          "yjs_matter_working_hours": {}}
    CaseRpc(rpc).submit("alice", BARE)  # still open: not counted
    record = CaseRpc(rpc).get_case(ended_case(rpc, broker_uri))
    assert record["promised_kept"] is not None and record["working_hours"] is not None
    matter = (("matter", "establishment"),)
    samples = matter_samples(case_db[0])
    assert samples["yjs_matter_cases_finished"] == {matter: 1}
    assert samples["yjs_matter_within_promised_limit_ratio"] == {matter: float(record["promised_kept"])}
    assert samples["yjs_matter_working_hours"] == {(*matter, ("quantile", q)): record["working_hours"]
                                                   for q in ("0.5", "0.9")}
    kept = MatterFigures(None, max_age=3600)
    assert matter_samples(case_db[0], kept)["yjs_matter_cases_finished"] == {matter: 1}
    # a case finished 31 days ago (Beijing) has left the window; a kept result shows it until it ages
    case_db[1](update(cases).values(finished_at=datetime.now(timezone.utc) - timedelta(days=31)))
    assert matter_samples(case_db[0])["yjs_matter_cases_finished"] == {}
    assert matter_samples(case_db[0], kept)["yjs_matter_cases_finished"] == {matter: 1}


def remote_error(call, *args) -> str:
    with pytest.raises(RemoteError) as error:
        call(*args)
    return error.value.exc_type


def test_a_bad_rating_reaches_the_rated_department_is_answered_rejected_and_escalated(case_db, rpc, broker_uri):
    case_id = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    assert remote_error(CaseRpc(rpc).rate, case_id, "alice", {"overall": 5}) == "CaseNotEnded"
    publish(broker_uri, *reports(case_id))
    until(rpc, case_id, lambda r: r["status"] == "completed", "the case to end")
    # the bank had no part in this case
    assert remote_error(CaseRpc(rpc).rate, case_id, "alice", {"overall": 4, "departments": {"bank_account": 1}}
                        ) == "InvalidApplication"
    rated = lambda d, level: REGISTRY.get_sample_value("yjs_ratings_total", {"department": d, "level": level}) or 0
    escalations = lambda: REGISTRY.get_sample_value(
        "yjs_follow_ups_escalated_total", {"department": "tax", "reason": "rejected"}) or 0
    before, escalated_before = rated("tax", "1"), escalations()
    opened_at = datetime.now(timezone.utc)
    answer = CaseRpc(rpc).rate(case_id, "alice", {"overall": 3, "departments": {"registration": 5, "tax": 1},
                                                  "comment": "发票核定等了很久"})
    assert len(answer["follow_ups"]) == 1 and rated("tax", "1") == before + 1  # only the bad one is followed up
    assert remote_error(CaseRpc(rpc).rate, case_id, "alice", {"overall": 5}) == "AlreadyRated"
    [follow_up] = CaseRpc(rpc).department_follow_ups("tax")["items"][-1:]
    assert (follow_up["follow_up_id"], follow_up["department"], follow_up["ratings"], follow_up["status"]) == (
        answer["follow_ups"][0], "tax", {"tax": 1}, "open")
    # due five working days on (the default), on China's calendar
    due, opened = datetime.fromisoformat(follow_up["due_at"]), datetime.fromisoformat(follow_up["opened_at"])
    assert opened >= opened_at and working_time_between(opened, due) == timedelta(hours=5 * 7)
    assert follow_up["follow_up_id"] not in [f["follow_up_id"] for f in
                                             CaseRpc(rpc).department_follow_ups("registration")["items"]]
    assert follow_up_gauge(case_db[0]) == 1
    number = follow_up["follow_up_id"]
    # another department finds no such follow-up; the applicant cannot judge before an answer
    assert remote_error(CaseRpc(rpc).answer_follow_up, "registration", number, "已整改") == "FollowUpNotFound"
    assert remote_error(CaseRpc(rpc).judge_follow_up, case_id, "alice", number, "confirmed") == "FollowUpNotReady"
    assert remote_error(CaseRpc(rpc).answer_follow_up, "tax", number, " ") == "InvalidApplication"
    answered = CaseRpc(rpc).answer_follow_up("tax", number, "已约谈窗口人员，票种核定改为即时办理")
    assert (answered["status"], answered["responded_by"]) == ("answered", "tax-staff")
    assert remote_error(CaseRpc(rpc).answer_follow_up, "tax", number, "再答复一次") == "FollowUpNotReady"
    # the applicant sees the answer on the case, and rejects it, once
    [on_case] = CaseRpc(rpc).get_case(case_id, "alice")["follow_ups"]
    assert on_case["response"] == "已约谈窗口人员，票种核定改为即时办理"
    assert remote_error(CaseRpc(rpc).judge_follow_up, case_id, "mallory", number, "rejected") == "FollowUpNotFound"
    rejected = CaseRpc(rpc).judge_follow_up(case_id, "alice", number, "rejected", "还是没人接电话")
    assert (rejected["status"], rejected["escalation"], rejected["verdict"]) == ("escalated", "rejected", "rejected")
    assert remote_error(CaseRpc(rpc).judge_follow_up, case_id, "alice", number, "confirmed") == "FollowUpNotReady"
    assert escalations() == escalated_before + 1
    assert follow_up_gauge(case_db[0], "yjs_follow_ups_escalated_open") == 1
    assert number in [f["follow_up_id"] for f in CaseRpc(rpc).follow_ups("escalated")["items"]]
    # operators close it with their own resolution, once
    assert remote_error(CaseRpc(rpc).respond_to_follow_up, number, " ", "operator-zhao") == "InvalidApplication"
    closed = CaseRpc(rpc).respond_to_follow_up(number, "已督办税务局，回访申请人确认整改", "operator-zhao")
    assert (closed["status"], closed["resolved_by"], closed["response"]) == (
        "closed", "operator-zhao", "已约谈窗口人员，票种核定改为即时办理") and closed["closed_at"]
    assert remote_error(CaseRpc(rpc).respond_to_follow_up, number, "再次回访", "operator-zhao") == "FollowUpClosed"
    assert follow_up_gauge(case_db[0], "yjs_follow_ups_escalated_open") == 0 and follow_up_gauge(case_db[0]) == 0
    kinds = [t["event_type"] for t in CaseRpc(rpc).get_case(case_id)["timeline"]]
    assert kinds[-4:] == ["case.rated", "case.follow_up_answered", "case.follow_up_rejected", "case.follow_up_closed"]
    assert CaseRpc(rpc).rate(ended_case(rpc, broker_uri, seed=2), "alice", {"overall": 5})["follow_ups"] == []


def test_an_unanswered_follow_up_escalates_when_due_and_an_upheld_appeal_closes_it(
        start_service, database_factory, rpc, broker_uri):
    url = database_factory()
    container = start_service(CaseService, database_url=url, FOLLOW_UP_CHECK_SECONDS=0.05)
    case_id = ended_case(rpc, broker_uri)
    opened = CaseRpc(rpc).rate(case_id, "alice", {"overall": 1, "departments": {"tax": 2}})["follow_ups"]
    [overall, tax] = [CaseRpc(rpc).follow_ups("")["items"][i] for i in (0, 1)]
    assert [overall["follow_up_id"], tax["follow_up_id"]] == opened
    assert (overall["department"], tax["department"]) == ("overall", "tax")
    engine = create_engine(url)
    with engine.begin() as connection:  # the tax follow-up falls due
        connection.execute(update(follow_ups).where(follow_ups.c.case_id == case_id, follow_ups.c.department == "tax")
                           .values(due_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    engine.dispose()
    escalated = wait_for(lambda: [f for f in CaseRpc(rpc).follow_ups("escalated")["items"]
                                  if f["case_id"] == case_id], what="the overdue follow-up to escalate")
    assert [(f["follow_up_id"], f["escalation"]) for f in escalated] == [(tax["follow_up_id"], "overdue")]
    assert CaseRpc(rpc).follow_ups("open")["items"][0]["follow_up_id"] == overall["follow_up_id"]  # not yet due
    # an escalated follow-up is no longer the department's to answer; it may still appeal the rating
    assert remote_error(CaseRpc(rpc).answer_follow_up, "tax", tax["follow_up_id"], "已整改") == "FollowUpNotReady"
    assert remote_error(CaseRpc(rpc).appeal_rating, "registration", tax["follow_up_id"], "不是我们") == "FollowUpNotFound"
    appealed = CaseRpc(rpc).appeal_rating("tax", tax["follow_up_id"], "差评所涉为银行开户排队，非税务事项")
    assert appealed["appeal"]["status"] == "pending" and appealed["appeal"]["appealed_by"] == "tax-staff"
    assert remote_error(CaseRpc(rpc).appeal_rating, "tax", tax["follow_up_id"], "再申诉一次") == "AppealRefused"
    assert [f["follow_up_id"] for f in CaseRpc(rpc).follow_ups("", 50, None, "pending")["items"]] == [
        tax["follow_up_id"]]
    upheld = CaseRpc(rpc).decide_appeal(tax["follow_up_id"], "upheld", "经核实，差评所涉事项不属税务")
    assert (upheld["status"], upheld["appeal"]["status"], upheld["appeal"]["decided_by"]) == (
        "closed", "upheld", "test-operator")
    assert remote_error(CaseRpc(rpc).decide_appeal, tax["follow_up_id"], "dismissed", "改判") == "AppealRefused"
    # the rating stays in the record
    record = CaseRpc(rpc).get_case(case_id)
    assert [t["event_type"] for t in record["timeline"]][-3:] == [
        "case.follow_up_escalated", "case.rating_appealed", "case.appeal_decided"]
    assert container  # the timer ran in this container


def test_an_acceptance_reaching_a_case_that_ended_meanwhile_is_only_noted(case_db, rpc, watch, broker_uri):
    requests, withdrawals = watch("case.withdrawal_requested"), watch("case.withdrawn")
    case_id = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    CaseRpc(rpc).withdraw(case_id, "alice", "不开了")
    [request] = requests.wait_for()
    publish(broker_uri, report(case_id, "registration.establish", StepStatus.rejected,
                               reasons=[{"code": "name_taken", "message": "名称已被占用"}]))
    until(rpc, case_id, lambda r: r["status"] == "rejected", "the refusal")
    publish(broker_uri, answer(request, accepted=True))
    record = until(rpc, case_id, lambda r: r["withdrawal"]["status"] == "accepted", "the acceptance noted")
    assert record["status"] == "rejected"
    assert withdrawals.drain() == []
