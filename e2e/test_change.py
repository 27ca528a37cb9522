"""变更登记 end to end: a rename with a new legal representative that the seals, tax, the bank
and a food-business permit follow and that moves the enterprise's authority; a rename to a
name taken that leaves everything as it was; a move out of the city that moves the taxpayer
and leaves a permit to be asked for anew (partly done) while a permit its new scope needs is
filed at once; a capital reduction held by its public
notice, a creditor's objection weighed by registration staff; an equity transfer held until tax
confirms its income tax settled; a licensed item the change adds waiting for licensing's staff."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import requests
from yjs_cli.client import ApiClient, token_for
from yjs_contracts import samples
from yjs_contracts.calendar import CHINA
from yjs_kit.testing import wait_for

NEW_LEGAL = samples.NEW_LEGAL_REPRESENTATIVE_ID
AGENT = samples.person(611)
ALL_SEALS = {"official", "finance", "invoice", "contract", "legal_representative"}


def established(system, fresh_application, **kwargs):
    """A company with every seal, an account and (with the restaurant scope) a food-business permit."""
    legal = system.client("e2e-zhangwei")
    answer = legal.submit(fresh_application(**kwargs))
    assert answer.status_code == 202, answer.text
    record = legal.wait_until_final(answer.json()["case_id"], timeout=90)
    assert record["status"] == "completed", record
    return record


def restaurant(system, fresh_application):
    return established(system, fresh_application, scope=("软件开发", "餐饮服务"), commitments=("餐饮服务",))


def change(uscc, trade_name=None, **kwargs):
    return {"matter": "change", "application": samples.change_application(uscc, trade_name, **kwargs)}


def record_of(client, uscc, ready=lambda record: True):
    def current():
        answer = client.request("GET", f"/v1/enterprises/{uscc}")
        return answer.json() if answer.status_code == 200 and ready(answer.json()) else None
    return wait_for(current, timeout=30, what=f"the record of {uscc}")


def test_a_rename_and_a_new_legal_representative_reach_every_department_and_move_authority(system, fresh_application):
    opened = restaurant(system, fresh_application)
    uscc, outputs = opened["outputs"]["uscc"], opened["outputs"]
    [permit] = outputs["licences"]["permits"]
    legal = system.client("e2e-zhangwei")
    until = (date.today() + timedelta(days=30)).isoformat()
    assert legal.request("POST", f"/v1/enterprises/{uscc}/agents", json={
        "name": "周敏", "id_number": AGENT, "matters": ["change", "licensing"], "valid_until": until}).status_code == 201

    trade_name = samples.unique_trade_name(uuid.uuid4().int % 1_000_000)
    new_name = f"嘉兴{trade_name}餐饮管理有限公司"
    answer = legal.submit(change(uscc, trade_name))
    assert answer.status_code == 202, answer.text
    case = legal.wait_until_final(answer.json()["case_id"], timeout=90)
    assert case["status"] == "completed", case
    assert {s["step"]: s["status"] for s in case["steps"]} == {
        "registration.change": "completed", "seal_carving.recarve": "completed", "tax.update": "completed",
        "bank_account.update": "completed", "licensing.amend": "completed"}
    done = case["outputs"]
    changed = {f["field"]: (f["old"], f["new"]) for f in done["change"]["changed_fields"]}
    assert changed["name"] == (outputs["enterprise_name"], new_name)
    assert changed["legal_representative"] == ("张伟", "陈静")
    assert done["change"]["uscc"] == uscc and done["change"]["licence_number"] == outputs["licence_number"]
    # every seal bears the new name (or the new legal representative) under a new filing code
    recarved = {s["type"]: s for s in done["seal_recarving"]["seals"]}
    assert set(recarved) == ALL_SEALS
    assert recarved["official"]["name"] == new_name and recarved["legal_representative"]["name"] == "陈静"
    old_codes = {s["filing_code"] for s in outputs["seals"]} if "seals" in outputs else set()
    assert {s["replaces"] for s in recarved.values()} == {c["filing_code"] for c in done["seal_recarving"]["cancelled"]}
    assert not {s["filing_code"] for s in recarved.values()} & old_codes
    assert done["tax_update"]["enterprise_name"] == new_name and "name" in done["tax_update"]["updated"]
    account = done["bank_account_update"]
    assert account["account_number"] == outputs["bank_account"]["account_number"]
    assert (account["account_name"], account["legal_representative"]) == (new_name, "陈静")
    assert account["specimen_seals"] == [recarved["finance"]["filing_code"], recarved["legal_representative"]["filing_code"]]
    [amended] = done["licence_amendment"]["permits"]
    assert amended["permit_number"] == permit["permit_number"] and amended["enterprise_name"] == new_name
    assert amended["valid_from"] == datetime.now(CHINA).date().isoformat()  # China's date, not the machine's

    # the new legal representative holds the enterprise now; the old one and his agent do not
    new_legal = system.client("e2e-chenjing", id_number=NEW_LEGAL)

    def renamed_everywhere(r):  # registration folds each report as it comes, not with the case's end
        filed = [s for s in r["seals"] if s["status"] == "filed"]
        return len(r["history"]) == 2 and not {s["filing_code"] for s in filed} & old_codes and (
            (r["taxpayer"] or {}).get("enterprise_name") == new_name
            and [a.get("account_name") for a in r["bank_accounts"][:1]] == [new_name]
            and [p.get("enterprise_name") for p in r["permits"][:1]] == [new_name])

    record = record_of(new_legal, uscc, renamed_everywhere)  # the taxpayer, account and permit too
    assert (record["name"], record["legal_representative"]) == (new_name, {"name": "陈静"})
    assert {s["name"] for s in record["seals"] if s["status"] == "filed"} >= {new_name, "陈静"}
    assert [a["status"] for a in record["agents"]] == ["withdrawn"]
    assert record["history"][1]["matter"] == "change" and "变更登记已办结" in record["history"][1]["summary"]
    agent = system.client("e2e-zhoumin", id_number=AGENT)
    for client in (legal, agent):
        refused = client.submit(change(uscc, None, registered_capital="1000000.00", new_legal_representative=False))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_authorized_for_enterprise"
    # the next matter, by the new legal representative, is about the enterprise under its new name
    closing = new_legal.submit({"matter": "deregistration", "application": samples.deregistration_application(uscc)})
    assert closing.status_code == 202, closing.text
    closed = new_legal.wait_until_final(closing.json()["case_id"], timeout=90)
    assert closed["status"] == "completed", closed
    assert closed["outputs"]["deregistration"]["enterprise_name"] == new_name


def test_a_rename_to_a_name_taken_is_refused_and_leaves_everything_as_it_was(system, fresh_application):
    other = established(system, fresh_application)["outputs"]
    opened = restaurant(system, fresh_application)
    uscc = opened["outputs"]["uscc"]
    legal = system.client("e2e-zhangwei")
    before = record_of(legal, uscc, lambda r: bool(r["permits"]) and len(r["seals"]) == 5)
    taken = other["enterprise_name"]
    body = change(uscc)
    body["application"]["changes"]["name"] = {"name": taken, "name_parts": {
        "region": "嘉兴", "trade_name": taken[2:6], "industry": "数字科技", "form": "有限公司"}}
    case = legal.wait_until_final(legal.submit(body).json()["case_id"], timeout=60)
    assert case["status"] == "rejected", case
    assert [(r["code"], r["field"]) for r in case["reasons"]] == [("name_taken", "application.changes.name.name")]
    assert {s["step"]: s["status"] for s in case["steps"]} == {
        "registration.change": "rejected", "seal_carving.recarve": "cancelled", "tax.update": "cancelled",
        "bank_account.update": "cancelled", "licensing.amend": "cancelled"}
    after = record_of(legal, uscc, lambda r: len(r["history"]) == 2)
    for part in ("name", "legal_representative", "seals", "taxpayer", "bank_accounts", "permits", "agents"):
        assert after[part] == before[part], part
    assert system.query("seal_carving", "SELECT count(*) FROM seals WHERE uscc = :u AND status = 'filed'", u=uscc) == [(5,)]
    assert system.query("tax", "SELECT count(*) FROM taxpayer_changes WHERE uscc = :u", u=uscc) == [(0,)]
    assert system.query("registration", "SELECT legal_representative FROM enterprises WHERE uscc = :u", u=uscc) == [("张伟",)]
    # 陈静 was never made legal representative: she may not act for the enterprise
    refused = system.client("e2e-chenjing", id_number=NEW_LEGAL).submit(change(uscc, registered_capital="1.00",
                                                                                new_legal_representative=False))
    assert refused.status_code == 403


def test_a_move_out_of_the_city_moves_the_taxpayer_and_leaves_the_permit_to_ask_anew(system, fresh_application):
    opened = restaurant(system, fresh_application)
    uscc = opened["outputs"]["uscc"]
    legal = system.client("e2e-zhangwei")
    body = change(uscc, new_legal_representative=False,
                  domicile={"address": "浙江省杭州市西湖区文三路1号", "division_code": "330106"},
                  business_scope=["软件开发", "餐饮服务", "第二类医疗器械销售"])
    case = legal.wait_until_final(legal.submit(body).json()["case_id"], timeout=60)
    assert case["status"] == "partially_completed", case
    steps = {s["step"]: s["status"] for s in case["steps"]}
    assert steps == {"registration.change": "completed", "tax.update": "completed", "licensing.amend": "completed"}
    assert case["outputs"]["tax_update"]["tax_authority"] == "国家税务总局杭州市西湖区税务局"
    assert case["outputs"]["tax_update"]["previous_tax_authority"] == opened["outputs"]["tax"]["tax_authority"]
    [refused] = case["outputs"]["licence_amendment"]["refused"]
    assert refused["reasons"][0]["code"] == "permit_outside_jurisdiction"
    assert any(r["code"] == "permit_outside_jurisdiction" for r in case["reasons"])
    # a licensed item the change adds is handled by its mode at once (备案), where the enterprise now is
    [filed] = case["outputs"]["licence_amendment"]["issued"]
    assert filed["items"] == ["第二类医疗器械销售"] and filed["mode"] == "filing" and filed["permit_number"][2:8] == "330106"
    record = record_of(legal, uscc, lambda r: r["taxpayer"]["tax_authority"] != opened["outputs"]["tax"]["tax_authority"])
    assert record["domicile"]["division_code"] == "330106"


def step_status(record, name):
    return next(s["status"] for s in record["steps"] if s["step"] == name)


def shareholders(*holders):
    return [{"kind": "natural_person", "name": name, "id_number": number, "subscribed_amount": amount,
             "contribution_form": "currency", "contribution_deadline": "2030-12-31"} for name, number, amount in holders]


def test_a_capital_reduction_waits_for_its_notice_and_an_objection_goes_to_registration_staff(system, fresh_application):
    uscc = established(system, fresh_application, seals=(), bank_account=False)["outputs"]["uscc"]
    legal = system.client("e2e-zhangwei")
    body = change(uscc, new_legal_representative=False, registered_capital="500000.00",
                  shareholders=shareholders(("张伟", samples.LEGAL_REPRESENTATIVE_ID, "500000.00")))
    body["application"]["capital_reduction_reason"] = "经营规模调整，股东会决议减资"
    case_id = legal.submit(body).json()["case_id"]
    listed = wait_for(lambda: requests.get(system.base_url + "/v1/notices", params={"uscc": uscc}, timeout=10)
                      .json()["items"], timeout=30, what="the 减资公告")
    [notice] = listed
    assert notice["route"] == "reduction" and notice["notice_id"].startswith("JZGG")
    objection = {"name": "嘉兴某供应链有限公司", "contact": "0573-88880000", "reason": "该企业尚欠我司货款 12 万元未清偿"}
    answer = requests.post(f"{system.base_url}/v1/notices/{notice['notice_id']}/objections", json=objection, timeout=10)
    assert answer.status_code == 202, answer.text
    # held: the register does not record the reduction while the notice runs, nor before staff decide
    assert step_status(legal.case(case_id), "registration.change") == "pending"
    registrar = ApiClient(system.base_url, token_for("registrar-li", "department", "registration"))

    def waiting():
        items = registrar.request("GET", "/v1/departments/registration/reviews", params={"case_id": case_id}).json()["items"]
        return items or None
    [review] = wait_for(waiting, timeout=30, what="the registrar's review")
    assert [r["code"] for r in review["reasons"]] == ["creditor_objection"]
    assert system.query("registration", "SELECT registered_capital FROM enterprises WHERE uscc = :u", u=uscc)[0][0] == 1000000
    decided = registrar.request("POST", f"/v1/departments/registration/reviews/{review['review_id']}/decision",
                                json={"decision": "approve", "comment": "已提供债务清偿担保"})
    assert decided.status_code == 200, decided.text
    case = legal.wait_until_final(case_id, timeout=30)
    assert case["status"] == "completed", case
    assert {f["field"]: f["new"] for f in case["outputs"]["change"]["changed_fields"]}["registered_capital"] == "500000.00"
    assert case["outputs"]["reduction_notice"]["objections"][0]["name"] == objection["name"]
    assert record_of(legal, uscc, lambda r: r["registered_capital"] == "500000.00")


def test_an_equity_transfer_waits_for_tax_to_confirm_its_income_tax_settled(system, fresh_application):
    uscc = established(system, fresh_application, seals=(), bank_account=False)["outputs"]["uscc"]
    legal = system.client("e2e-zhangwei")
    buyer = samples.person(45, date(1991, 3, 3))
    body = change(uscc, new_legal_representative=False, shareholders=shareholders(
        ("张伟", samples.LEGAL_REPRESENTATIVE_ID, "600000.00"), ("王芳", buyer, "400000.00")))
    transfer = {"transferor_kind": "natural_person", "transferor_name": "张伟",
                "transferor_id_number": samples.LEGAL_REPRESENTATIVE_ID, "transferee_name": "王芳",
                "amount": "400000.00", "price": "480000.00"}
    body["application"]["equity_transfers"] = [transfer]
    refused = legal.wait_until_final(legal.submit(body).json()["case_id"], timeout=60)
    assert refused["status"] == "rejected", refused
    assert [r["code"] for r in refused["reasons"]] == ["equity_transfer_tax_unsettled"]
    assert step_status(refused, "registration.change") == "cancelled"
    assert len(system.query("registration", "SELECT shareholders FROM enterprises WHERE uscc = :u", u=uscc)[0][0]) == 1
    body["application"]["equity_transfers"] = [{**transfer, "tax_receipt": "(2026)浙税完证0001"}]
    done = legal.wait_until_final(legal.submit(body).json()["case_id"], timeout=60)
    assert done["status"] == "completed", done
    assert done["outputs"]["equity_transfer_tax"]["transfers"][0]["tax_receipt"] == "(2026)浙税完证0001"
    shares = {f["field"]: f["new"] for f in done["outputs"]["change"]["changed_fields"]}["shareholders"]
    assert [s["name"] for s in shares] == ["张伟", "王芳"]


def test_a_licensed_item_the_change_adds_that_needs_approval_waits_for_licensing_staff(system, fresh_application):
    uscc = established(system, fresh_application, seals=(), bank_account=False)["outputs"]["uscc"]
    legal = system.client("e2e-zhangwei")
    body = change(uscc, new_legal_representative=False, business_scope=["软件开发", "药品零售"])
    case_id = legal.submit(body).json()["case_id"]
    staff = ApiClient(system.base_url, token_for("licensing-staff", "department", "licensing"))

    def waiting():
        items = staff.request("GET", "/v1/departments/licensing/reviews", params={"case_id": case_id}).json()["items"]
        return items or None
    [review] = wait_for(waiting, timeout=30, what="licensing's review")
    assert review["step"] == "licensing.amend"
    # the change stands meanwhile: the record shows it once the case service has folded the report,
    # which it may apply after licensing (each applies its events in its own batches)
    wait_for(lambda: step_status(legal.case(case_id), "registration.change") == "completed", timeout=15,
             what="the change completed in the record while licensing waits")
    decided = staff.request("POST", f"/v1/departments/licensing/reviews/{review['review_id']}/decision",
                            json={"decision": "approve", "comment": "现场核查合格"})
    assert decided.status_code == 200, decided.text
    case = legal.wait_until_final(case_id, timeout=30)
    assert case["status"] == "completed", case
    issued = case["outputs"]["licence_amendment"]["issued"]
    assert issued and all("药品零售" in p["items"] for p in issued)
    assert record_of(legal, uscc, lambda r: r["business_scope"] == ["软件开发", "药品零售"])
