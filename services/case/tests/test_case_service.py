"""The case service on the real broker and database: submissions, folding, idempotency,
duplicates and reordering."""

from datetime import datetime, timedelta, timezone

import pytest
from nameko.exceptions import RemoteError
from yjs_case.service import CaseService
from yjs_contracts import samples
from yjs_contracts.codes import make_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import EnterpriseRegistered, TaxpayerRegistered, InvoicesGranted, step_report
from yjs_contracts.steps import STEP_KINDS, StepStatus
from yjs_kit.auth import mint
from yjs_kit.config import DEV_JWT_SECRET
from yjs_kit.testing import (CaseRpc, applicant_token, operator_token, publish, step_undone, wait_for,
                             wait_for_lock_waiters, wait_until_consumed)

OPERATOR = operator_token()

BARE = {"matter": "establishment", "application": samples.establishment_application(
    "明远", seals=(), bank_account=False, social_insurance=False)}


def reports(case_id: str, n: int = 1):
    now = datetime.now(timezone.utc)
    uscc = make_uscc("330402", n)
    outputs = {
        "registration.establish": EnterpriseRegistered(uscc=uscc, licence_number=f"330402{n:09d}",
                                                       enterprise_name="嘉兴明远数字科技有限公司", registered_at=now),
        "tax.register": TaxpayerRegistered(uscc=uscc, tax_authority="国家税务总局嘉兴市南湖区税务局",
                                           taxpayer_type="small_scale", tax_items=["增值税"],
                                           real_name_confirmed=["legal_representative"]),
        "tax.grant_invoices": InvoicesGranted(invoice_types=["ordinary"], monthly_credit="100000.00",
                                              uses_invoice_seal=False),
    }
    return [new_event(STEP_KINDS[step].completed_event, step_report(step, StepStatus.completed, out), case_id=case_id)
            for step, out in outputs.items()]


def test_submit_stores_the_plan_and_announces_it(start_service, rpc, watch):
    start_service(CaseService)
    watcher = watch("case.submitted")
    answer = CaseRpc(rpc).submit("alice", BARE)
    [submitted] = watcher.wait_for()
    assert submitted.case_id == answer["case_id"]
    assert [s["step"] for s in submitted.data["plan"]] == ["registration.establish", "tax.register", "tax.grant_invoices"]
    record = CaseRpc(rpc).get_case(answer["case_id"], "alice")
    assert record["status"] == "submitted"
    assert [s["status"] for s in record["steps"]] == ["in_progress", "pending", "pending"]
    assert all(s["deadline"] for s in record["steps"])
    assert submitted.data["signer"] is None  # no verified identity: nobody to hold to a commitment


def test_a_verified_applicant_is_announced_as_the_signer_of_the_cases_commitments(start_service, rpc, watch):
    start_service(CaseService)
    watcher = watch("case.submitted")
    token = mint(DEV_JWT_SECRET, "zhangwei", "applicant", name="张伟", id_number=samples.LEGAL_REPRESENTATIVE_ID)
    rpc("case", token).submit("zhangwei", BARE)
    [submitted] = watcher.wait_for()
    assert submitted.data["signer"] == {"name": "张伟", "id_number": samples.LEGAL_REPRESENTATIVE_ID}


def test_the_same_idempotency_key_opens_one_case_and_a_different_body_conflicts(start_service, rpc):
    start_service(CaseService)
    first = CaseRpc(rpc).submit("alice", BARE, "key-1")
    again = CaseRpc(rpc).submit("alice", BARE, "key-1")
    assert again["case_id"] == first["case_id"] and not again["created"]
    other = {"matter": "establishment", "application": samples.establishment_application("明远", seals=("official",))}
    with pytest.raises(RemoteError) as error:
        CaseRpc(rpc).submit("alice", other, "key-1")
    assert error.value.exc_type == "IdempotencyConflict"
    for_bob = CaseRpc(rpc).submit("bob", BARE, "key-1")["case_id"]
    assert for_bob != first["case_id"]  # keys are per applicant
    # the repeated and the conflicting submissions took no case number: the day's serials have no gap
    assert int(for_bob[-7:]) == int(first["case_id"][-7:]) + 1


def test_two_submits_with_one_key_at_the_same_moment_open_one_case(start_service, rpc):
    """The race forced: both submits have looked for the key and found nothing, and wait on the
    day's case-number counter, which the test holds; released, the second's insert meets the
    key's unique constraint and must answer with the first's case."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool
    from yjs_contracts.plans import CHINA

    url = start_service(CaseService).config["DATABASE_URL"]
    counter = f"case:{datetime.now(CHINA):%Y%m%d}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as holder:
            holder.execute(text("INSERT INTO kit_counters (name, value) VALUES (:n, 0) ON CONFLICT DO NOTHING"),
                           {"n": counter})
            holder.commit()
            holder.execute(text("UPDATE kit_counters SET value = value WHERE name = :n"), {"n": counter})  # held
            first, second = (rpc("case", applicant_token("alice")).submit.call_async("alice", BARE, "double-click") for _ in range(2))
            wait_for_lock_waiters(url, 2, what="both submits waiting on the counter")
            holder.rollback()
        answers = [first.result(), second.result()]
    finally:
        engine.dispose()
    assert answers[0]["case_id"] == answers[1]["case_id"]
    assert sorted(a["created"] for a in answers) == [False, True]
    assert [c["case_id"] for c in CaseRpc(rpc).list_cases("alice")["items"]] == [answers[0]["case_id"]]


def test_reports_complete_the_case_once_in_any_order_and_however_often(start_service, rpc, broker_uri, watch):
    start_service(CaseService)
    watcher = watch("case.completed")
    in_order = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    reversed_ = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    forward = reports(in_order, 1)
    backward = reports(reversed_, 1)
    publish(broker_uri, *forward)
    publish(broker_uri, *reversed(backward), *backward)  # reversed, then all again
    done = watcher.wait_for(count=2)
    assert {e.case_id for e in done} == {in_order, reversed_}
    first, second = (CaseRpc(rpc).get_case(c) for c in (in_order, reversed_))
    for record in (first, second):
        assert record["status"] == "completed" and record["finished_at"]
        assert record["outputs"]["uscc"] == make_uscc("330402", 1)
        assert record["outputs"]["tax"]["invoices"]["invoice_types"] == ["ordinary"]
    strip = lambda r: [(t["event_type"], t["summary"]) for t in r["timeline"]]
    assert strip(first) == strip(second)
    assert len(first["timeline"]) == 5  # submitted, three reports, completed: duplicates add nothing
    assert len(watcher.drain()) == 2


def test_steps_undone_after_the_case_finished_show_why_and_leave_its_outputs(start_service, rpc, broker_uri):
    start_service(CaseService)
    case_id = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    publish(broker_uri, *reports(case_id, 2))
    wait_for(lambda: CaseRpc(rpc).get_case(case_id)["finished_at"], what="the case finished")
    undone = [step_undone(case_id, "registration.establish"),
              step_undone(case_id, "tax.grant_invoices", "prerequisite_undone", "所依据的设立登记已撤销")]
    publish(broker_uri, *undone)
    wait_until_consumed(broker_uri, "case.inbox")
    record = CaseRpc(rpc).get_case(case_id)
    steps = {s["step"]: s for s in record["steps"]}
    assert steps["registration.establish"]["status"] == steps["tax.grant_invoices"]["status"] == "rejected"
    assert steps["tax.grant_invoices"]["reasons"][0]["code"] == "prerequisite_undone"
    assert steps["tax.register"]["status"] == "completed"  # its own undo has not come yet
    # what the enterprise was issued and the invoices left the outputs; the taxpayer stays until undone
    assert "uscc" not in record["outputs"] and "invoices" not in record["outputs"]["tax"]
    assert record["outputs"]["tax"]["tax_authority"] == "国家税务总局嘉兴市南湖区税务局"


def test_a_case_finishes_when_its_latest_step_did_though_that_report_arrived_first(start_service, rpc, broker_uri):
    start_service(CaseService)
    case_id = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    registration, taxpayer, invoices = reports(case_id)
    base = datetime.now(timezone.utc)
    at = lambda event, seconds: event.model_copy(update={"occurred_at": base + timedelta(seconds=seconds)})
    publish(broker_uri, at(registration, 30), at(taxpayer, 20))
    wait_until_consumed(broker_uri, "case.inbox")
    publish(broker_uri, at(invoices, 10))  # the last report to arrive is the earliest finish
    record = wait_for(lambda: (lambda r: r if r["status"] == "completed" else None)(CaseRpc(rpc).get_case(case_id)),
                      what="the case completed")
    assert datetime.fromisoformat(record["finished_at"]) == base + timedelta(seconds=30)


def test_a_refusal_rejects_the_case_and_cancels_what_waited(start_service, rpc, broker_uri, watch):
    start_service(CaseService)
    watcher = watch("case.rejected")
    case_id = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    reason = {"code": "name_taken", "message": "名称已被占用", "field": "application.enterprise.name"}
    publish(broker_uri, new_event("registration.establishment_refused",
                                  step_report("registration.establish", StepStatus.rejected, reasons=[reason]),
                                  case_id=case_id))
    [rejected] = watcher.wait_for()
    assert rejected.data["reasons"][0]["code"] == "name_taken"
    record = CaseRpc(rpc).get_case(case_id)
    assert record["status"] == "rejected"
    assert [s["status"] for s in record["steps"]] == ["rejected", "cancelled", "cancelled"]
    assert record["steps"][0]["reasons"][0]["field"] == "application.enterprise.name"


def test_a_refused_permit_leaves_the_registered_company_partly_done(start_service, rpc, broker_uri, watch):
    """证照分离: the licence stands, only the permit is refused; the steps that do not wait for
    the permit go on, and the case is announced done with what was issued and what was refused."""
    start_service(CaseService)
    watcher = watch("case.completed")
    body = {"matter": "establishment", "application": samples.establishment_application(
        "明远", seals=(), bank_account=False, social_insurance=False, scope=("软件开发", "药品零售"))}
    case_id = CaseRpc(rpc).submit("alice", body)["case_id"]
    registered, taxpayer, invoices = reports(case_id, 7)
    reason = {"code": "premises_unsuitable", "message": "经营场所不符合药品零售条件", "field": None}
    refused = new_event("licensing.licensing_refused",
                        step_report("licensing.issue", StepStatus.rejected, reasons=[reason]), case_id=case_id)
    publish(broker_uri, registered, refused)
    # the two are folded in whichever order their workers commit
    record = wait_for(lambda: (lambda r: r if (r["steps"][0]["status"], r["steps"][-1]["status"]) == (
        "completed", "rejected") else None)(CaseRpc(rpc).get_case(case_id)), what="the registration and the refusal folded")
    assert record["status"] == "in_progress"  # the taxpayer's steps do not wait for the permit
    assert [s["status"] for s in record["steps"]] == ["completed", "in_progress", "pending", "rejected"]
    publish(broker_uri, taxpayer, invoices)
    [done] = watcher.wait_for()
    assert done.case_id == case_id and done.data["status"] == "partially_completed"
    record = CaseRpc(rpc).get_case(case_id)
    assert record["status"] == "partially_completed" and record["finished_at"]
    assert record["outputs"]["uscc"] == make_uscc("330402", 7) and "licences" not in record["outputs"]
    assert record["outputs"]["tax"]["invoices"]["invoice_types"] == ["ordinary"]
    assert [(r["code"], r["message"]) for r in record["reasons"]] == [
        ("premises_unsuitable", "行业准营：经营场所不符合药品零售条件")]
    assert record["timeline"][-1]["summary"] == "案件部分办结"


def test_an_applicant_sees_only_its_own_cases(start_service, rpc):
    start_service(CaseService)
    mine = [CaseRpc(rpc).submit("alice", BARE)["case_id"] for _ in range(3)]
    CaseRpc(rpc).submit("bob", BARE)
    with pytest.raises(RemoteError) as error:
        CaseRpc(rpc).get_case(mine[0], "bob")
    assert error.value.exc_type == "CaseNotFound"
    page = CaseRpc(rpc).list_cases("alice", None, 2)
    assert [c["case_id"] for c in page["items"]] == sorted(mine, reverse=True)[:2]
    rest = CaseRpc(rpc).list_cases("alice", None, 2, page["next"])
    assert [c["case_id"] for c in rest["items"]] == sorted(mine)[:1] and rest["next"] is None
    assert CaseRpc(rpc).list_cases("alice", "completed")["items"] == []
    # straight over the broker: the case service acts only for the person the call's token names
    from yjs_kit.testing import applicant_token, staff_token

    for token, refusal in ((None, "CallerNotVerified"), (applicant_token("bob"), "CallerForbidden")):
        for call in (lambda proxy: proxy.submit("alice", BARE), lambda proxy: proxy.list_cases("alice"),
                     lambda proxy: proxy.withdraw(mine[0], "alice", "冒名撤回")):
            with pytest.raises(RemoteError) as refused:
                call(rpc("case", token))
            assert refused.value.exc_type == refusal
    with pytest.raises(RemoteError) as hidden:  # bob's token reads as bob, whatever owner it names
        rpc("case", applicant_token("bob")).get_case(mine[0], "alice")
    assert hidden.value.exc_type == "CaseNotFound"
    # staff read the cases with a step of their department (an establishment: registration, tax)
    assert rpc("case", staff_token("tax", "tax-officer")).get_case(mine[0])["case_id"] == mine[0]
    with pytest.raises(RemoteError) as other:
        rpc("case", staff_token("licensing", "inspector")).get_case(mine[0])
    assert other.value.exc_type == "CaseNotFound"
    assert len(CaseRpc(rpc).list_cases("alice")["items"]) == 3  # nothing submitted in alice's name


def test_a_report_for_an_unknown_case_is_retried_then_dead_lettered_and_replayable(start_service, rpc, broker_uri):
    start_service(CaseService)
    stray = reports("YJS000000000000099")[0]
    publish(broker_uri, stray)
    [letter] = wait_for(lambda: rpc("case", OPERATOR).dead_letters(), what="a dead letter")
    assert letter["attempts"] == 3 and "CaseNotFound" in letter["reason"]
    assert letter["event_id"] == str(stray.event_id)
    rpc("case", OPERATOR).replay_dead_letter(int(letter["dead_letter_id"].split(":")[1]))
    assert rpc("case", OPERATOR).dead_letters() == []
    assert wait_for(lambda: rpc("case", OPERATOR).dead_letters(), what="dead-lettered again")[0]["attempts"] == 3
    # straight over the broker, past the gateway: no operator, no dead letters and no replay
    from yjs_kit.auth import mint
    from yjs_kit.config import DEV_JWT_SECRET

    forged = mint("a-key-that-is-not-ours-at-all-32b", "ops", "operator")
    applicant = mint(DEV_JWT_SECRET, "alice", "applicant")
    for token, refusal in ((None, "CallerNotVerified"), (forged, "CallerNotVerified"), (applicant, "CallerForbidden")):
        with pytest.raises(RemoteError) as refused:
            rpc("case", token).dead_letters()
        assert refused.value.exc_type == refusal
        with pytest.raises(RemoteError) as refused:
            rpc("case", token).replay_dead_letter(int(letter["dead_letter_id"].split(":")[1]))
        assert refused.value.exc_type == refusal


def test_on_sqlite_the_local_default_deadlines_keep_their_moment(start_service, rpc, tmp_path):
    from datetime import datetime

    from yjs_contracts.plans import plan_for, with_deadlines

    start_service(CaseService, database_url=f"sqlite:///{tmp_path / 'case.sqlite3'}")
    case_id = CaseRpc(rpc).submit("alice", BARE)["case_id"]
    record = CaseRpc(rpc).get_case(case_id)
    submitted = datetime.fromisoformat(record["submitted_at"])
    expected = with_deadlines("establishment", plan_for("establishment", BARE["application"]), submitted)
    assert [datetime.fromisoformat(s["deadline"]) for s in record["steps"]] == [p.deadline for p in expected]
    assert record["steps"][0]["deadline"].endswith("+08:00")  # a promise in China time
