"""The readable views: a whole sample case as an applicant reads it holds no English word."""

from datetime import datetime, timedelta, timezone

from yjs_case import record
from yjs_cli.view import case_line, case_view, dead_letters_view, log_line
from yjs_contracts.codes import make_uscc
from yjs_contracts.words import english_words

AT = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
USCC = make_uscc("330402", 1)
#: codes and numbers a person copies as issued (a USCC holds letters)
IDENTIFIER_KEYS = ("case_id", "uscc", "licence_number", "filing_code", "account_number", "permit_number",
                   "catalogue_version")
#: and the words the API fixes, shown beside their Chinese for looking up: step names, statuses, codes
MACHINE_KEYS = IDENTIFIER_KEYS + ("matter", "status", "step", "department", "after", "code", "field", "event_type")

REFUSED = {"code": "premises_unsuitable", "message": "经营场所不符合药品零售条件", "field": "material:经营场所证明"}
STEPS = [  # (step, status, after, outputs, reasons), as the departments reported them
    ("registration.establish", "completed", [], {
        "uscc": USCC, "licence_number": "330402000000001", "enterprise_name": "嘉兴红船数字科技有限公司",
        "registered_at": AT.isoformat()}, []),
    ("seal_carving.carve", "completed", ["registration.establish"], {"seals": [
        {"type": "official", "name": "嘉兴红船数字科技有限公司", "filing_code": "3304020000001"},
        {"type": "legal_representative", "name": "张伟", "filing_code": "3304020000002"}], "fee": "0.00"}, []),
    ("tax.register", "completed", ["registration.establish"], {
        "uscc": USCC, "tax_authority": "国家税务总局嘉兴市南湖区税务局", "taxpayer_type": "small_scale",
        "tax_items": ["增值税", "企业所得税"], "real_name_confirmed": ["legal_representative", "finance_officer"]}, []),
    ("tax.grant_invoices", "completed", ["tax.register", "seal_carving.carve"], {
        "invoice_types": ["ordinary", "special"], "monthly_credit": "300000.00", "uses_invoice_seal": False}, []),
    ("bank_account.open", "completed", ["registration.establish", "seal_carving.carve"], {
        "account_number": "1204330402000000001", "bank": "中国工商银行", "branch": "嘉兴南湖支行",
        "account_type": "basic_deposit", "specimen_seals": ["3304020000002"]}, []),
    ("licensing.issue", "completed", ["registration.establish"], {
        "uscc": USCC, "catalogue_version": "2025.1",
        "permits": [{"permit_number": "XB3304020000001", "name": "第二类医疗器械经营备案", "mode": "filing",
                     "items": ["第二类医疗器械销售"], "comprehensive": False, "industry": None,
                     "parts": [{"code": "medical_device_class2", "name": "第二类医疗器械经营备案",
                                "department": "药品监督管理局", "mode": "filing", "items": ["第二类医疗器械销售"]}],
                     "valid_from": "2026-12-02", "valid_until": None, "check_due": None, "status": "valid"}],
        "refused": [{"name": "药品经营许可证（零售）", "items": ["药品零售"], "reasons": [REFUSED]}]}, [REFUSED]),
]


def sample_case() -> dict:
    """A 企业开办 that registered, carved, registered for tax, granted invoices, opened the account
    and had a permit refused by staff: the record as the case service keeps it."""
    timeline = [{"at": AT.isoformat(), "event_type": "case.submitted",
                 "summary": record.submitted_summary("establishment", len(STEPS))}]
    steps = []
    for n, (step, status, after, outputs, reasons) in enumerate(STEPS, start=1):
        at = AT + timedelta(minutes=n)
        steps.append({"step": step, "department": step.split(".")[0], "status": status, "after": after,
                      "deadline": (at + timedelta(hours=4)).isoformat(), "outputs": outputs, "reasons": reasons,
                      "overdue": step == "bank_account.open", "decided_by": "药监审核员王芳" if reasons else None,
                      "paused_at": None, "materials_due": (at + timedelta(days=1)).isoformat() if reasons else None,
                      "promised_days": 0.5, "legal_days": 3.0, "promised_kept": step != "bank_account.open",
                      "legal_kept": True})
        timeline.append({"at": at.isoformat(), "event_type": f"{step.split('.')[0]}.reported",
                         "summary": record.summary(step, status, outputs, reasons)})
    timeline += [
        {"at": AT.isoformat(), "event_type": "case.step_overdue",
         "summary": record.overdue_summary("bank_account.open", AT)},
        {"at": AT.isoformat(), "event_type": "tax.event_dead_lettered", "summary": record.stalled_summary("tax", False)},
        {"at": AT.isoformat(), "event_type": "case.supplement_provided",
         "summary": record.supplement_summary(1, ["住所使用证明"])},
        {"at": AT.isoformat(), "event_type": "case.completed", "summary": record.finished_summary("partially_completed")},
        {"at": AT.isoformat(), "event_type": "case.rated", "summary": record.rating_summary("不满意", ["F00000001"])},
    ]
    partial = {"licensing.issue"}
    return {
        "case_id": "YJS202612020000001", "matter": "establishment", "status": "partially_completed",
        "submitted_at": AT.isoformat(), "finished_at": (AT + timedelta(minutes=7)).isoformat(),
        "steps": steps,
        "outputs": record.combined_outputs((s["step"], s["status"], s["outputs"]) for s in steps),
        "reasons": record.refusals(((s["step"], s["status"], s["reasons"]) for s in steps), partial),
        "timeline": timeline, "promised_days": 1.0, "promised_kept": True, "working_hours": 2.5,
        "paused_working_hours": 1.25,
    }


def machine_words(value, keys, key: str = "") -> list[str]:
    if isinstance(value, dict):
        return [w for k, v in value.items() for w in machine_words(v, keys, k)]
    if isinstance(value, list):
        return [w for v in value for w in machine_words(v, keys, key)]
    return [str(value)] if key in keys and value is not None else []


def english_in(case: dict) -> list[str]:
    """English a person would read in the case: in the texts the record writes (summaries,
    reasons), where only identifiers may stand, and in the view, where the machine words may."""
    identifiers = machine_words(case, IDENTIFIER_KEYS)
    texts = [t["summary"] for t in case["timeline"]] + [r["message"] for r in case["reasons"]]
    texts += [r["message"] for s in case["steps"] for r in s["reasons"]]
    found = [w for text in texts for w in english_words(text, identifiers)]
    return found + english_words(case_view(case), machine_words(case, MACHINE_KEYS))


def test_a_whole_case_reads_in_chinese_with_only_machine_words_in_english():
    case = sample_case()
    assert english_in(case) == [], case_view(case)
    shown = case_view(case)
    assert "设立登记（registration.establish）  已办结" in shown
    assert "统一社会信用代码：" + USCC in shown and "纳税人类型：小规模纳税人" in shown
    assert "法定代表人名章  3304020000002  张伟" in shown
    assert "部分办结（partially_completed）" in shown
    assert "整体承诺时限 1 个工作日（已遵守）  用时 2.5 工作小时（不含补正 1.25 工作小时）" in shown
    assert "承诺时限 0.5 个工作日（已超出）  法定时限 3 个工作日（已遵守）" in shown  # the bank's, late


def test_the_scan_finds_english_that_slipped_in():
    case = sample_case()
    case["timeline"].append({"at": AT.isoformat(), "event_type": "case.completed", "summary": "办结: completed"})
    case["outputs"]["tax"]["taxpayer_type"] = "medium_scale"  # a value the words do not know
    assert english_in(case) == ["completed", "medium", "scale"]


def test_a_case_in_a_list_reads_in_chinese():
    item = {"case_id": "YJS202612020000001", "matter": "deregistration", "status": "awaiting_applicant",
            "submitted_at": AT.isoformat()}
    line = case_line(item)
    assert line.startswith("YJS202612020000001  企业注销（deregistration）  待补正（awaiting_applicant）")
    assert english_words(line, machine_words(item, MACHINE_KEYS)) == []
    assert line.endswith("受理时间 2026-12-02 17:00:00")  # China time, not the API's UTC


def test_every_time_a_person_reads_is_china_time():
    shown = case_view(sample_case())
    assert "受理时间 2026-12-02 17:00:00  办结时间 2026-12-02 17:07:00" in shown
    assert "时限 2026-12-02 21:01:00" in shown  # the second step's, four hours after it began
    assert "容缺材料须于 2026-12-03 17:" in shown
    assert "    2026-12-02 17:00:00  " in shown  # the timeline
    assert "T09:" not in shown and "+00:00" not in shown
    dead = dead_letters_view([{"dead_letter_id": "D1", "event_type": "tax.x", "case_id": None, "attempts": 3,
                               "failed_at": "2026-12-02T16:30:05.123456Z", "reason": "无法处理"}])
    assert "尝试 3 次  2026-12-03 00:30:05" in dead
    assert log_line("tax", '{"timestamp": "2026-12-02T09:31:00.123456Z", "level": "info", "event": "up"}') \
        .startswith("17:31:00 tax")


def test_a_change_reads_in_chinese_too():
    changed = {"uscc": USCC, "licence_number": "330402000000001", "enterprise_name": "嘉兴新禾餐饮管理有限公司",
               "changed_fields": [
                   {"field": "name", "old": "嘉兴红船数字科技有限公司", "new": "嘉兴新禾餐饮管理有限公司"},
                   {"field": "legal_representative", "old": "张伟", "new": "陈静"},
                   {"field": "officers", "old": [{"role": "executive_director", "name": "张伟"}],
                    "new": [{"role": "executive_director", "name": "陈静"}, {"role": "supervisor", "name": "李娜"}]}],
               "legal_representative": "陈静", "domicile": {"address": "浙江省嘉兴市南湖区广益路1号", "division_code": "330402"},
               "business_scope": ["餐饮服务"], "changed_at": AT.isoformat()}
    steps = [
        ("registration.change", "completed", [], changed),
        ("seal_carving.recarve", "completed", ["registration.change"], {"seals": [
            {"type": "official", "name": "嘉兴新禾餐饮管理有限公司", "filing_code": "3304020000011",
             "replaces": "3304020000001"}], "cancelled": [{"type": "official", "filing_code": "3304020000001"}],
            "fee": "0.00"}),
        ("tax.update", "completed", ["registration.change"], {
            "uscc": USCC, "taxpayer": True, "enterprise_name": "嘉兴新禾餐饮管理有限公司",
            "tax_authority": "国家税务总局嘉兴市南湖区税务局", "previous_tax_authority": None,
            "updated": ["name", "legal_representative", "officers"], "updated_at": AT.isoformat()}),
    ]
    case = {"case_id": "YJS202612020000002", "matter": "change", "status": "completed", "submitted_at": AT.isoformat(),
            "finished_at": AT.isoformat(), "reasons": [],
            "steps": [{"step": step, "department": step.split(".")[0], "status": status, "after": after,
                       "deadline": None, "outputs": outputs, "reasons": []} for step, status, after, outputs in steps],
            "outputs": record.combined_outputs((step, status, outputs) for step, status, _, outputs in steps),
            "timeline": [{"at": AT.isoformat(), "event_type": "seal_carving.seals_recarved",
                          "summary": record.summary("seal_carving.recarve", "completed", steps[1][3], [])}]}
    assert english_in(case) == [], case_view(case)
    assert "印章重刻已办结：重刻印章 1 枚" in case_view(case)


def test_the_figures_read_in_chinese():
    from yjs_cli.view import report_view

    ratings = {"count": 2, "average": 3.5, "levels": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}}
    figures = {"median_working_hours": 4.5, "p90_working_hours": 13.0, "pauses": 1, "paused_working_hours": 7.0,
               "steps_past_legal_limit": 1, "ratings": ratings, "open_follow_ups": 2}
    report = {"from": "2026-12-01", "to": "2026-12-02", "matters": [{
        "matter": "establishment", "title": "企业开办", "promised_days": 1.0, "cases_finished": 4, "withdrawn": 1,
        "outcomes": {"completed": 4}, "within_promised_limit": 0.75, **figures,
        "departments": [{"department": "tax", "steps_decided": 2, "within_promised_limit": None, **figures,
                         "median_working_hours": None, "ratings": {**ratings, "count": 0, "average": None}}]}]}
    shown = report_view(report)
    assert "企业开办（establishment）  承诺时限 1 个工作日" in shown
    assert "办结 4 件（撤回 1 件）  承诺时限内办结 75.0%" in shown
    assert "用时中位数 4.5 工作小时  90% 分位 13 工作小时" in shown and "评价 2 条，平均 3.5 分" in shown
    assert "税务部门（tax）  办结事项 2 个  承诺时限内 无" in shown and "用时中位数 无" in shown
    assert english_words(shown, machine=["establishment", "tax"]) == []
    assert "期间没有办结的案件" in report_view({"from": "2026-12-01", "to": "2026-12-01", "matters": []})
