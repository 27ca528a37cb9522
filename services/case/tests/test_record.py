"""The record's pure rules."""

from datetime import datetime, timezone

from yjs_case import record
from yjs_contracts.steps import StepStatus
from yjs_contracts.words import english_words


def test_a_final_step_is_never_changed_by_a_later_report():
    assert record.folds_into("pending", "completed")
    assert record.folds_into("in_progress", "rejected")
    assert not record.folds_into("completed", "rejected")
    assert not record.folds_into("rejected", "completed")
    assert not record.folds_into("completed", "completed")
    assert record.folds_into("in_progress", "in_progress")  # the same status with news: a notice's number


def _named(*statuses):
    return {f"s{i}": status for i, status in enumerate(statuses)}


def test_case_status_follows_its_steps():
    assert record.case_status("submitted", _named("pending", "pending")) == "submitted"
    assert record.case_status("submitted", _named("in_progress", "pending")) == "in_progress"
    assert record.case_status("in_progress", _named("completed", "awaiting_applicant")) == "awaiting_applicant"
    assert record.case_status("in_progress", _named("completed", "rejected", "pending")) == "rejected"
    assert record.case_status("in_progress", _named("completed", "not_required")) == "completed"
    assert record.case_status("withdrawn", _named("completed")) == "withdrawn"
    assert record.case_status("partially_completed", _named("completed", "completed")) == "partially_completed"


ESTABLISHMENT = [{"step": "registration.establish", "after": []},
                 {"step": "seal_carving.carve", "after": ["registration.establish"]},
                 {"step": "tax.register", "after": ["registration.establish"]},
                 {"step": "tax.grant_invoices", "after": ["tax.register", "seal_carving.carve"]},
                 {"step": "bank_account.open", "after": ["registration.establish", "seal_carving.carve"]},
                 {"step": "licensing.issue", "after": ["registration.establish"]}]


def test_a_refused_permit_leaves_a_registered_company_partly_done():
    statuses = {"registration.establish": "completed", "seal_carving.carve": "completed",
                "tax.register": "completed", "tax.grant_invoices": "in_progress",
                "bank_account.open": "pending", "licensing.issue": "rejected"}
    # the permit is refused, the rest goes on: nothing else waits for it
    assert record.blocked(ESTABLISHMENT, statuses) == []
    assert record.case_status("in_progress", statuses, "registration.establish") == "in_progress"
    statuses.update({"tax.grant_invoices": "completed", "bank_account.open": "completed"})
    assert record.case_status("in_progress", statuses, "registration.establish") == "partially_completed"
    statuses["licensing.issue"] = "completed"
    assert record.case_status("in_progress", statuses, "registration.establish") == "completed"


def test_refused_seals_cancel_only_the_steps_that_wait_for_them():
    statuses = {"registration.establish": "completed", "seal_carving.carve": "rejected",
                "tax.register": "in_progress", "tax.grant_invoices": "pending",
                "bank_account.open": "pending", "licensing.issue": "in_progress"}
    assert record.blocked(ESTABLISHMENT, statuses) == ["tax.grant_invoices", "bank_account.open"]
    reason = record.blocked_reason("bank_account.open", ESTABLISHMENT, statuses)
    assert reason["code"] == "prerequisite_not_done" and "公章刻制" in reason["message"]
    statuses.update({"tax.grant_invoices": "cancelled", "bank_account.open": "cancelled"})
    assert record.case_status("in_progress", statuses, "registration.establish") == "in_progress"
    statuses.update({"tax.register": "completed", "licensing.issue": "completed"})
    assert record.case_status("in_progress", statuses, "registration.establish") == "partially_completed"


def test_nothing_took_effect_when_the_essential_step_is_refused_or_cannot_happen():
    assert record.case_status("in_progress", {"registration.establish": "rejected", "tax.register": "pending"},
                              "registration.establish") == "rejected"
    # 注销: tax clearance refused, so the deregistration itself can never happen
    steps = [{"step": "deregistration.accept", "after": []}, {"step": "tax.clear", "after": ["deregistration.accept"]},
             {"step": "registration.deregister", "after": ["tax.clear"]},
             {"step": "bank_account.close", "after": ["registration.deregister"]}]
    statuses = {"deregistration.accept": "completed", "tax.clear": "rejected",
                "registration.deregister": "pending", "bank_account.close": "pending"}
    assert record.blocked(steps, statuses) == ["registration.deregister", "bank_account.close"]
    statuses.update({"registration.deregister": "cancelled", "bank_account.close": "cancelled"})
    assert record.case_status("in_progress", statuses, "registration.deregister") == "rejected"


def test_the_case_says_what_was_refused_and_why():
    reasons = record.refusals([
        ("registration.establish", "completed", []),
        ("licensing.issue", "rejected", [{"code": "refused", "message": "不予许可", "field": None}]),
        ("bank_account.open", "cancelled", []),
    ])
    assert [r["code"] for r in reasons] == ["refused", "step_cancelled"]
    assert reasons[0]["message"] == "行业准营：不予许可"
    assert reasons[1]["message"] == "基本存款账户开立：已撤销"


def test_a_refusal_outranks_a_wait_for_the_applicant_and_a_cancelled_step():
    def status(current, *statuses, essential=""):
        return record.case_status(current, {f"s{n}": s for n, s in enumerate(statuses)}, essential)

    assert status("in_progress", "completed", "awaiting_applicant", "rejected", "cancelled") == "rejected"
    assert status("in_progress", "rejected", "awaiting_applicant") == "rejected"
    assert status("in_progress", "completed", "awaiting_applicant", "rejected", essential="s2") == "rejected"
    assert status("in_progress", "completed", "cancelled", "awaiting_applicant") == "awaiting_applicant"
    assert status("in_progress", "completed", "awaiting_applicant", essential="s0") == "awaiting_applicant"
    assert status("awaiting_applicant", "completed", "rejected") == "rejected"


def test_outputs_are_gathered_at_their_places():
    combined = record.combined_outputs([
        ("registration.establish", "completed", {"uscc": "U", "licence_number": "L"}),
        ("seal_carving.carve", "completed", {"seals": [{"type": "official"}], "fee": "0.00"}),
        ("tax.register", "completed", {"tax_authority": "T"}),
        ("tax.grant_invoices", "completed", {"invoice_types": ["ordinary"]}),
        ("bank_account.open", "completed", {"account_number": "A"}),
        ("licensing.issue", "rejected", {"permits": ["refused, not issued"]}),
    ])
    assert combined == {"uscc": "U", "licence_number": "L", "seals": [{"type": "official"}], "fee": "0.00",
                        "tax": {"tax_authority": "T", "invoices": {"invoice_types": ["ordinary"]}},
                        "bank_account": {"account_number": "A"}}


def test_steps_whose_prerequisites_completed_are_in_progress():
    steps = [{"step": "a", "after": []}, {"step": "b", "after": ["a"]}, {"step": "c", "after": ["a", "b"]}]
    assert record.now_in_progress(steps, {"a": "completed", "b": "pending", "c": "pending"}) == ["b"]
    # only a pending step starts: one that ended, or is already at work, is not started again
    assert record.now_in_progress(steps, {"a": "completed", "b": "rejected", "c": "pending"}) == []
    assert record.now_in_progress(steps, {"a": "completed", "b": "in_progress", "c": "pending"}) == []


def test_only_a_report_that_undoes_replaces_a_completed_outcome():
    assert record.folds_into("completed", "cancelled", undoes=True)  # a withdrawn case, undone by its department
    assert record.folds_into("completed", "rejected", undoes=True)  # a 容缺 decision withdrawn
    assert not record.folds_into("completed", "cancelled")
    assert not record.folds_into("cancelled", "completed", undoes=True)
    assert not record.folds_into("completed", "in_progress", undoes=True)


def test_a_pause_moves_the_step_and_everything_waiting_for_it_by_the_working_time_it_lasted():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    china = ZoneInfo("Asia/Shanghai")
    steps = [{"step": "registration.establish", "after": []},
             {"step": "seal_carving.carve", "after": ["registration.establish"]},
             {"step": "tax.register", "after": ["registration.establish"]},
             {"step": "tax.grant_invoices", "after": ["tax.register"]},
             {"step": "licensing.issue", "after": []}]
    assert record.waiting_on(steps, "tax.register") == ["tax.register", "tax.grant_invoices"]
    assert record.waiting_on(steps, "registration.establish") == [
        "registration.establish", "seal_carving.carve", "tax.register", "tax.grant_invoices"]
    # paused Wednesday 30 September 2026 15:00, resumed on the make-up Saturday 10 October 10:00:
    # 1 + 7 + 7 + 1 working hours, the National Day holiday not counted
    deadline = datetime(2026, 9, 30, 16, 0, tzinfo=china)
    paused, resumed = datetime(2026, 9, 30, 15, 0, tzinfo=china), datetime(2026, 10, 10, 10, 0, tzinfo=china)
    # 16 working hours after 9/30 16:00: 10/8 and 10/9 whole, and two hours of the make-up Saturday
    assert record.resumed_deadline(deadline, paused, resumed) == datetime(2026, 10, 10, 11, 0, tzinfo=china)


def test_a_supplement_puts_each_value_in_place_and_names_the_paths_that_lead_nowhere():
    application = {"enterprise": {"registered_capital": "1.00"}, "shareholders": [{"amount": "1.00"}]}
    patched, unknown = record.supplemented(application, [
        ("application.enterprise.registered_capital", "2.00"), ("application.shareholders.0.amount", "2.00"),
        ("application.shareholders.3.amount", "9"), ("application.enterprise.registered_capital.x", "9")])
    assert patched == {"enterprise": {"registered_capital": "2.00"}, "shareholders": [{"amount": "2.00"}]}
    assert unknown == ["application.shareholders.3.amount", "application.enterprise.registered_capital.x"]
    assert application["enterprise"]["registered_capital"] == "1.00"  # the stored one is left as it was


def test_a_supplement_may_touch_only_what_the_notice_named():
    fields, materials = record.requested([
        {"code": "a", "message": "…", "field": "application.enterprise.domicile"},
        {"code": "b", "message": "…", "field": "material:住所使用证明"},
        {"code": "c", "message": "…", "field": None}])
    assert (fields, materials) == ({"application.enterprise.domicile"}, {"住所使用证明"})
    assert record.unrequested([("field", "application.enterprise.domicile.address"), ("material", "住所使用证明")],
                              fields, materials) == []
    assert record.unrequested([("field", "application.shareholders.0.nationality"),
                               ("field", "application.enterprise.domicile_extra"), ("material", "章程")],
                              fields, materials) == ["application.shareholders.0.nationality",
                                                     "application.enterprise.domicile_extra", "material:章程"]


def test_an_undoing_report_about_a_step_still_running_folds_like_any_other():
    assert record.folds_into("in_progress", "completed", undoes=True)
    assert record.folds_into("awaiting_applicant", "in_progress", undoes=True)
    assert not record.folds_into("rejected", "cancelled", undoes=True)


def test_a_summary_names_the_step_and_what_it_produced():
    assert record.summary("seal_carving.carve", "completed", {"seals": [{}, {}]}, []) == "公章刻制已办结：备案印章 2 枚"
    assert record.summary("seal_carving.cancel", "completed", {"seals": [{}]}, []) == "公章缴销已办结：缴销印章 1 枚"
    assert record.summary("registration.establish", "completed", {"uscc": "U", "licence_number": "L"}, []) == \
        "设立登记已办结：统一社会信用代码 U"
    assert record.summary("tax.register", "rejected", {}, [{"code": "c", "message": "m1"}, {"code": "c2"}]) == \
        "新办纳税人未通过：m1；c2"
    assert record.summary("tax.register", "in_progress", {}, []) == "新办纳税人办理中"
    # a change's bank step for an enterprise without an account: nothing to name, not "None"
    assert record.summary("bank_account.update", "completed", {"account_number": None}, []) == "账户信息变更已办结"
    # an employer's insurance: the code it registered under and the number it was given
    assert record.summary("social_insurance.register", "completed", {"uscc": "U", "registration_number": "N"}, []) == \
        "社保医保登记已办结：统一社会信用代码 U，社保登记编号 N"
    assert record.summary("social_insurance.close", "rejected", {}, [{"code": "unpaid_contributions", "message": "m"}]) \
        == "社保医保注销未通过：m"


def test_every_text_the_record_writes_is_chinese():
    """Each timeline summary and case reason the record makes, for every step in every status:
    no English word, only the machine words a person may look up (here the codes it names)."""
    outputs = {"uscc": "91330402MADGK41F44", "account_number": "1204330402000000001",
               "tax_authority": "国家税务总局嘉兴市南湖区税务局", "seals": [{}]}
    reason = {"code": "name_taken", "message": "同一登记机关辖区内已有相同名称的企业", "field": "application.enterprise.name"}
    texts = []
    for step in record.STEP_KINDS:
        for status in StepStatus:
            texts += [record.summary(step, status, outputs, []), record.summary(step, status, {}, [reason])]
        texts.append(record.overdue_summary(step, datetime(2026, 12, 2, 9, 30, tzinfo=timezone.utc)))
        for department in (record.STEP_KINDS[step].department, "case"):
            texts += [record.stalled_summary(department, replayed=False), record.stalled_summary(department, replayed=True)]
    steps = [(step, status, []) for step in record.STEP_KINDS for status in ("rejected", "cancelled")]
    texts += [r["message"] for r in record.refusals(steps)]
    plan = [{"step": "registration.establish", "after": []},
            {"step": "seal_carving.carve", "after": ["registration.establish"]}]
    texts.append(record.blocked_reason("seal_carving.carve", plan, {"registration.establish": "rejected"})["message"])
    texts += [record.submitted_summary(matter, 5) for matter in ("establishment", "licensing", "deregistration")]
    texts += [record.finished_summary(status) for status in record.FINAL_CASE_STATUSES]
    texts += [record.supplement_summary(2, ["住所使用证明"]), record.supplement_summary(1, []),
              record.withdrawal_summary("经营计划调整"), record.rating_summary("不满意", ["F00000001", "F00000002"])]
    texts += [record.follow_up_answered_summary("F00000001", d) for d in ("tax", "overall")]
    texts += [record.follow_up_verdict_summary("F00000001", v) for v in ("confirmed", "rejected")]
    texts += [record.follow_up_overdue_summary("F00000001"), record.follow_up_closed_summary("F00000001"),
              record.appeal_summary("F00000001", "tax")]
    texts += [record.appeal_decided_summary("F00000001", upheld) for upheld in (True, False)]
    for text in texts:
        assert english_words(text, machine=[outputs["uscc"]]) == [], text
    # and the check itself fails on what it is for
    assert english_words("受理 establishment: 5 steps planned") == ["establishment", "steps", "planned"]
    assert record.submitted_summary("establishment", 5) == "受理企业开办申请，计划办理 5 个事项"


def test_a_withdrawal_is_refused_here_only_when_the_record_shows_the_pivot_completed():
    pivot = "registration.establish"
    assert record.withdrawal_route("", {pivot: "pending"}, False) == record.AT_ONCE  # no point of no return
    assert record.withdrawal_route(pivot, {"licensing.issue": "pending"}, False) == record.AT_ONCE
    assert record.withdrawal_route(pivot, {pivot: "completed"}, False) == record.REFUSED_NOW
    assert record.withdrawal_route(pivot, {pivot: "completed"}, True) == record.REFUSED_NOW
    for lagging in ("pending", "in_progress", "awaiting_review", "awaiting_applicant"):
        assert record.withdrawal_route(pivot, {pivot: lagging}, False) == record.ASK  # the department knows better
        assert record.withdrawal_route(pivot, {pivot: lagging}, True) == record.ASKED  # asked once


def test_the_withdrawal_on_the_record_is_the_last_request_and_its_answer():
    assert record.withdrawal_state([("case.submitted", "t0", "…")]) is None
    asked = [("case.submitted", "t0", "…"), ("case.withdrawal_requested", "t1", "申请撤回：不开了")]
    assert record.withdrawal_state(asked)["status"] == "requested"
    refused = record.withdrawal_state(asked + [("registration.withdrawal_refused", "t2", "撤回申请未获同意：设立登记已办结")])
    assert refused == {"status": "refused", "requested_at": "t1", "answered_at": "t2", "reason": {
        "code": "withdrawal_refused", "message": "撤回申请未获同意：设立登记已办结", "field": None}}
    accepted = asked + [("registration.withdrawal_accepted", "t2", "撤回申请已获同意"), ("case.withdrawn", "t2", "撤回：不开了")]
    assert record.withdrawal_state(accepted)["status"] == "accepted"
    # withdrawn at once (no pivot): accepted, never requested
    assert record.withdrawal_state([("case.withdrawn", "t1", "撤回：x")])["status"] == "accepted"
    # refused, then asked again: requested again
    again = asked + [("registration.withdrawal_refused", "t2", "…"), ("case.withdrawal_requested", "t3", "…")]
    assert record.withdrawal_state(again) == {"status": "requested", "requested_at": "t3", "answered_at": None,
                                              "reason": None}
