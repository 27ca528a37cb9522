"""Who may act for an enterprise, and the record folded from the departments' reports: pure rules."""

from datetime import date, datetime, timedelta, timezone

from yjs_contracts import steps
from yjs_registration import authority
from yjs_registration.authority import Authorisation, may_act, may_read

TODAY = date(2026, 12, 2)
LEGAL, AGENT, OTHER = "330402198506150117", "330402198506150512", "330402198506150520"
PRINCIPALS = [{"role": "legal_representative", "id_number": LEGAL}, {"role": "investor", "id_number": OTHER}]


def agent(matters=("licensing",), until=TODAY + timedelta(days=30), withdrawn=False, since=TODAY):
    return Authorisation("A1", AGENT, tuple(matters), since, until, withdrawn)


def test_the_legal_representative_acts_for_every_matter_an_investor_does_not():
    assert may_act(LEGAL, "deregistration", TODAY, PRINCIPALS, [])
    assert not may_act(OTHER, "licensing", TODAY, PRINCIPALS, [])
    assert not may_act(None, "licensing", TODAY, PRINCIPALS, [])


def test_an_agent_acts_for_the_matters_named_until_the_date_unless_withdrawn():
    assert may_act(AGENT, "licensing", TODAY, PRINCIPALS, [agent()])
    assert may_act(AGENT, "licensing", TODAY + timedelta(days=30), PRINCIPALS, [agent()])
    assert not may_act(AGENT, "licensing", TODAY + timedelta(days=31), PRINCIPALS, [agent()])
    assert not may_act(AGENT, "deregistration", TODAY, PRINCIPALS, [agent()])
    assert not may_act(AGENT, "licensing", TODAY, PRINCIPALS, [agent(withdrawn=True)])
    assert not may_act(AGENT, "licensing", TODAY - timedelta(days=1), PRINCIPALS, [agent()])


def test_the_record_is_read_by_its_people_staff_and_operators():
    assert may_read({"role": "applicant", "id_number": LEGAL}, TODAY, PRINCIPALS, [])
    assert may_read({"role": "applicant", "id_number": AGENT}, TODAY, PRINCIPALS, [agent()])
    assert not may_read({"role": "applicant", "id_number": AGENT}, TODAY + timedelta(days=60), PRINCIPALS, [agent()])
    assert not may_read({"role": "applicant", "id_number": None}, TODAY, PRINCIPALS, [])
    assert may_read({"role": "department", "department": "tax"}, TODAY, PRINCIPALS, [])
    assert may_read({"role": "operator"}, TODAY, PRINCIPALS, [])


def test_an_authorisation_lasts_at_most_a_year_and_names_only_matters_about_an_enterprise():
    assert authority.appointment_details(["licensing"], date(2027, 12, 2), TODAY) == []
    fields = {d.field for d in authority.appointment_details(["establishment"], date(2027, 12, 3), TODAY)}
    assert fields == {"matters", "valid_until"}
    assert [d.field for d in authority.appointment_details(["deregistration"], TODAY - timedelta(days=1), TODAY)] == ["valid_until"]
    assert authority.latest_valid_until(date(2028, 2, 29)) == date(2029, 2, 28)


def at(minutes):
    return datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc) + timedelta(minutes=minutes)


def report(case_id, step, status, outputs, minutes, event_type=None):
    return {"case_id": case_id, "step": step, "status": status, "outputs": outputs, "occurred_at": at(minutes),
            "event_type": event_type or f"{step.split('.')[0]}.x"}


ENTERPRISE = {"uscc": "91330402MA0000001X", "name": "嘉兴锦程数字科技有限公司", "type": "limited_liability_company",
                  "status": "registered", "licence_number": "330402000000001", "legal_representative": "张伟",
                  "domicile": {"address": "浙江省嘉兴市南湖区广益路1号", "division_code": "330402"},
                  "division_code": "330402", "registered_capital": "1000000.00", "business_scope": ["餐饮服务"],
                  "established_on": date(2026, 12, 1), "deregistered_at": None}


def test_the_record_folds_seals_taxpayer_accounts_permits_and_undoes_in_any_order():
    enterprise = ENTERPRISE
    cases = [{"case_id": "C1", "matter": "establishment", "at": at(0)},
             {"case_id": "C2", "matter": "licensing", "at": at(30)}]
    seal = {"type": "official", "name": "公章", "filing_code": "F1"}
    permit = {"permit_number": "P1", "name": "食品经营许可证", "status": "valid"}
    reports = [
        report("C2", "licensing.issue", "completed", {"permits": [permit]}, 31),
        report("C2", "licensing.permit_revoked", "notice", {"permit_number": "P1", "finding": "核查不实"}, 40,
               "licensing.permit_revoked"),
        report("C1", "registration.establish", "completed", {"uscc": enterprise["uscc"]}, 1),
        report("C1", "seal_carving.carve", "completed", {"seals": [seal]}, 2),
        report("C1", "tax.register", "completed", {"uscc": enterprise["uscc"], "tax_authority": "南湖区税务局"}, 3),
        report("C1", "bank_account.open", "completed", {"account_number": "6222", "bank": "工行"}, 4),
        report("C1", "bank_account.open", "cancelled", {}, 5),  # undone: the account is no more
    ]
    view = authority.enterprise_view(enterprise, cases, reports, [], TODAY)
    assert view["seals"] == [{**seal, "status": "filed"}]
    assert view["taxpayer"]["tax_authority"] == "南湖区税务局"
    assert view["bank_accounts"] == []
    assert view["permits"][0]["status"] == "revoked" and view["permits"][0]["revocation_reason"] == "核查不实"
    assert [h["case_id"] for h in view["history"]] == ["C1", "C2"]
    assert view["history"][0]["summary"] == "企业开办：设立登记已办结，公章刻制已办结，新办纳税人已办结，基本存款账户开立已撤销"
    assert view["history"][1]["summary"] == "行业准营：行业准营已办结"


def test_the_record_shows_every_department_by_the_table_of_what_each_step_keeps(monkeypatch):
    cases = [{"case_id": "C1", "matter": "establishment", "at": at(0)},
             {"case_id": "C2", "matter": "change", "at": at(30)},
             {"case_id": "C3", "matter": "deregistration", "at": at(60)}]
    insured = {"uscc": ENTERPRISE["uscc"], "registration_number": "3304022026000001", "employees": 3}
    reports = [
        report("C1", "seal_carving.carve", "completed", {"seals": [{"type": "official", "filing_code": "F1"},
                                                                   {"type": "finance", "filing_code": "F2"}]}, 2),
        report("C1", "tax.register", "completed", {"uscc": ENTERPRISE["uscc"], "tax_authority": "南湖区税务局"}, 3),
        report("C1", "tax.grant_invoices", "completed", {"invoice_types": ["ordinary"]}, 4),
        report("C1", "bank_account.open", "completed", {"account_number": "6222", "bank": "工行"}, 5),
        report("C1", "social_insurance.register", "completed", insured, 6),
        report("C2", "seal_carving.recarve", "completed", {"cancelled": [{"filing_code": "F1"}],
                                                           "seals": [{"type": "official", "filing_code": "F3"}]}, 31),
        report("C2", "tax.update", "completed", {"taxpayer": True, "enterprise_name": "新名", "tax_authority": "秀洲"}, 32),
        report("C2", "bank_account.update", "completed", {"account_number": None, "account_name": "x",
                                                          "specimen_seals": [], "legal_representative": "x"}, 33),
        report("C3", "social_insurance.close", "completed", {"registration_number": "3304022026000001"}, 61),
        report("C3", "bank_account.close", "completed", {"account_number": None}, 62),
    ]
    view = authority.enterprise_view(ENTERPRISE, cases, reports, [], TODAY)
    assert [(s["filing_code"], s["status"]) for s in view["seals"]] == [("F1", "cancelled"), ("F2", "filed"),
                                                                        ("F3", "filed")]
    assert (view["taxpayer"]["tax_authority"], view["taxpayer"]["enterprise_name"]) == ("秀洲", "新名")
    assert view["taxpayer"]["invoices"] == {"invoice_types": ["ordinary"]}
    # an update naming no account changes none; a closing naming none closes every one
    assert [(a["account_number"], a["status"], "account_name" in a) for a in view["bank_accounts"]] == [
        ("6222", "closed", False)]
    assert view["social_insurance"] == {**insured, "status": "closed"}
    # the steps' rows alone put a department in the record: registration's code names none
    monkeypatch.setitem(steps.ENTERPRISE_RECORD, "housing_fund.register",
                        (steps.Keep("housing_fund", "add", "account_number", "accounts", "open"),))
    monkeypatch.setitem(steps.RECORD_SECTIONS, "housing_fund", True)
    fund = report("C1", "housing_fund.register", "completed", {"accounts": [{"account_number": "GJJ1"}]}, 7)
    assert authority.enterprise_view(ENTERPRISE, cases, [fund], [], TODAY)["housing_fund"] == [
        {"account_number": "GJJ1", "status": "open"}]
    assert authority.enterprise_view(ENTERPRISE, [], [], [], TODAY)["social_insurance"] is None


def listing(listing_id, kind, removed=False):
    return {"listing_id": listing_id, "uscc": ENTERPRISE["uscc"], "kind": kind, "authority": "嘉兴市南湖区市场监督管理局",
            "decided_on": date(2026, 11, 30), "reason": "通过登记的住所无法联系", "listed_by": "registrar-1",
            "listed_at": at(5), "removed_by": "registrar-1" if removed else None, "removed_at": at(6) if removed else None}


def test_the_record_shows_the_listings_in_force_in_chinese():
    view = authority.enterprise_view(ENTERPRISE, [], [], [], TODAY,
                                     [listing("L1", "equity_pledged", removed=True), listing("L2", "abnormal_operation")])
    assert [(entry["listing_id"], entry["kind"], entry["kind_text"]) for entry in view["listings"]] == [
        ("L2", "abnormal_operation", "经营异常名录")]
    assert view["listings"][0]["decided_on"] == "2026-11-30"
    assert authority.enterprise_view(ENTERPRISE, [], [], [], TODAY)["listings"] == []


def test_only_registration_staff_list_and_the_regulator_of_the_division_decides_by_default():
    assert authority.may_list({"role": "department", "department": "registration"})
    assert not authority.may_list({"role": "department", "department": "tax"})
    assert not authority.may_list({"role": "operator"})
    assert not authority.may_list({"role": "applicant", "id_number": LEGAL})
    assert authority.listing_authority("330402") == "嘉兴市南湖区市场监督管理局"
    assert authority.listing_problems(TODAY, TODAY) == []
    [late] = authority.listing_problems(TODAY + timedelta(days=1), TODAY)
    assert late.field == "decided_on"


def test_an_individual_business_has_no_equity_to_freeze_or_pledge():
    for kind in ("equity_frozen", "equity_pledged"):
        [problem] = authority.listing_problems(TODAY, TODAY, kind, "individual_business")
        assert problem.field == "kind" and problem.reason.startswith("个体工商户没有股权，不能列入股权")
        assert authority.listing_problems(TODAY, TODAY, kind, "limited_liability_company") == []
        assert authority.listing_problems(TODAY, TODAY, kind, "farmers_cooperative") == []
    assert authority.listing_problems(TODAY, TODAY, "chattel_mortgage", "individual_business") == []
