"""The Chinese a person reads for each machine word: matters, statuses, departments, the keys
and values of a case's outputs. Records and views speak Chinese; the API's machine fields
(`step`, `status`, `code`, …) stay the words clients are written against."""

from __future__ import annotations

import re
from typing import Any, Iterable

MATTER_TITLES = {"establishment": "企业开办", "licensing": "行业准营", "deregistration": "企业注销",
                 "change": "变更登记"}

CASE_STATUS_WORDS = {
    "submitted": "已受理", "in_progress": "办理中", "awaiting_applicant": "待补正", "completed": "已办结",
    "partially_completed": "部分办结", "rejected": "未通过", "withdrawn": "已撤回",
}

STEP_STATUS_WORDS = {
    "pending": "待办理", "in_progress": "办理中", "awaiting_review": "待人工审核", "awaiting_applicant": "待补正",
    "completed": "已办结", "rejected": "未通过", "cancelled": "已撤销", "not_required": "无需办理",
}

DEPARTMENT_TITLES = {
    "registration": "市场监管部门", "seal_carving": "公安机关", "tax": "税务部门", "bank_account": "开户银行",
    "licensing": "行业主管部门", "deregistration": "注销受理", "case": "受理中心",
}

#: each listing kind as the register names it
LISTING_TITLES = {"abnormal_operation": "经营异常名录", "serious_violation": "严重违法失信名单",
                  "equity_frozen": "股权冻结", "equity_pledged": "股权出质", "chattel_mortgage": "动产抵押",
                  "under_investigation": "立案调查"}

#: each seal type as the public security filing names it
SEAL_TITLES = {"official": "公章", "finance": "财务专用章", "invoice": "发票专用章", "contract": "合同专用章",
               "legal_representative": "法定代表人名章"}

#: output keys as a licence, a certificate or a form labels them
OUTPUT_LABELS = {
    "uscc": "统一社会信用代码", "licence_number": "营业执照编号", "enterprise_name": "企业名称",
    "registered_at": "登记时间", "seals": "印章", "fee": "刻章费用（元）", "type": "类型", "name": "名称",
    "filing_code": "印章编码", "tax": "税务", "tax_authority": "主管税务机关", "taxpayer_type": "纳税人类型",
    "tax_items": "税费种", "real_name_confirmed": "实名采集", "invoices": "发票", "invoice_types": "票种",
    "monthly_credit": "月授信额度（元）", "uses_invoice_seal": "使用发票专用章", "bank_account": "基本存款账户",
    "account_number": "账号", "bank": "开户银行", "branch": "开户网点", "account_type": "账户类型",
    "specimen_seals": "预留印鉴", "licences": "许可", "catalogue_version": "目录版本", "permits": "许可证",
    "permit_number": "许可证编号", "mode": "办理方式", "items": "经营项目", "comprehensive": "行业综合许可证",
    "industry": "行业", "parts": "所含许可", "code": "编码", "department": "审批部门", "valid_from": "有效期自",
    "valid_until": "有效期至", "check_due": "核查期限", "status": "状态", "revoked_at": "撤销时间",
    "revocation_reason": "撤销原因", "not_required": "无需许可", "awaiting_review": "待审查",
    "refused": "未获许可", "issued": "已发许可", "reasons": "理由", "message": "说明", "field": "字段",
    "deregistration_application": "注销受理", "route": "注销方式", "accepted_at": "受理时间", "notice": "公告",
    "notice_id": "公告编号", "starts_at": "公告开始", "ends_at": "公告结束", "ended_at": "公告期满",
    "liquidation_group_filed_at": "清算组备案时间", "liquidation_report": "清算报告", "approved_on": "确认日期",
    "submitted_at": "提交时间", "tax_clearance": "清税", "certificate_number": "清税证明编号",
    "cleared_at": "清税时间", "deregistration": "注销登记", "deregistered_at": "注销时间",
    "bank_account_closure": "销户", "closed_at": "销户时间", "seal_cancellation": "印章缴销",
    "cancelled_at": "缴销时间", "licence_revocation": "许可注销", "revoked_permits": "注销的许可",
    "change": "变更登记", "changed_fields": "变更事项", "old": "变更前", "new": "变更后",
    "legal_representative": "法定代表人", "domicile": "住所", "address": "地址", "division_code": "行政区划代码",
    "business_scope": "经营范围", "registered_capital": "注册资本（元）", "shareholders": "股东",
    "officers": "主要人员", "changed_at": "变更时间", "seal_recarving": "印章重刻", "replaces": "替换印章编码",
    "cancelled": "注销的印章", "tax_update": "税务信息变更", "taxpayer": "纳税人",
    "previous_tax_authority": "原主管税务机关", "updated": "变更内容", "updated_at": "变更时间",
    "bank_account_update": "账户信息变更", "account_name": "账户名称", "licence_amendment": "许可变更",
    "amended_at": "变更时间", "subscribed_amount": "认缴出资额（元）", "role": "职务",
    "equity_transfer_tax": "股权转让完税确认", "transfers": "股权转让", "transferor_name": "转让人",
    "amount": "转让出资额（元）", "price": "转让价格（元）", "tax_receipt": "完税凭证号", "confirmed_at": "确认时间",
    "reduction_notice": "减资公告", "objections": "异议", "objection_id": "异议编号",
    "commitment_notice": "告知承诺书", "conditions": "承诺的条件", "liability": "承诺不实的责任",
    "check_days": "核查期限（工作日）",
}

#: each change a 变更登记 may register, as the form names it
CHANGE_FIELD_TITLES = {"name": "名称", "domicile": "住所", "legal_representative": "法定代表人",
                       "registered_capital": "注册资本", "business_scope": "经营范围", "shareholders": "股东",
                       "officers": "主要人员"}

#: enumerated values in outputs
VALUE_WORDS = {
    "official": "公章", "finance": "财务专用章", "invoice": "发票专用章", "contract": "合同专用章",
    "legal_representative": "法定代表人", "finance_officer": "财务负责人", "tax_handler": "办税人",
    "small_scale": "小规模纳税人", "general": "一般纳税人", "ordinary": "普票", "special": "专票",
    "basic_deposit": "基本存款账户", "simple": "简易注销", "filing": "备案", "commitment": "告知承诺",
    "approval": "审批", "valid": "有效", "revoked": "已撤销", "superseded": "已换发",
    "cancelled": "已注销", "reduction": "减资公告",
    # what a change (变更登记) changed, and the officers' roles
    "name": "名称", "domicile": "住所", "registered_capital": "注册资本", "business_scope": "经营范围",
    "shareholders": "股东", "officers": "主要人员", "tax_authority": "主管税务机关",
    "executive_director": "执行董事", "director": "董事", "chairman": "董事长", "supervisor": "监事", "manager": "经理",
}

OFFICER_ROLE_WORDS = {"executive_director": "执行董事", "director": "董事", "chairman": "董事长",
                      "supervisor": "监事", "manager": "经理"}

#: 好差评's five levels
RATING_WORDS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

DECISION_WORDS = {"approve": "通过", "refuse": "不予通过", "request_corrections": "要求补正"}


def _choices(expected: str) -> str:
    return expected.replace("' or '", "'、'").replace(", ", "、")


#: pydantic's error types as a clerk would say them; the placeholders are the error's context
_VALIDATION_WORDS = {
    "missing": "必填",
    "extra_forbidden": "不是可填写的字段",
    "string_type": "应为文本", "string_sub_type": "应为文本", "string_unicode": "应为有效的文本",
    "string_too_short": "至少 {min_length} 个字符", "string_too_long": "至多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符",
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "float_type": "应为数字", "float_parsing": "应为数字", "decimal_type": "应为数字", "decimal_parsing": "应为数字",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "dict_type": "应为 JSON 对象", "model_type": "应为 JSON 对象", "model_attributes_type": "应为 JSON 对象",
    "list_type": "应为数组", "tuple_type": "应为数组", "set_type": "应为数组",
    "too_short": "至少 {min_length} 项", "too_long": "至多 {max_length} 项",
    "literal_error": "应为以下之一：{expected}", "enum": "应为以下之一：{expected}",
    "date_type": "应为 YYYY-MM-DD 格式的日期", "date_parsing": "应为 YYYY-MM-DD 格式的日期",
    "date_from_datetime_parsing": "应为 YYYY-MM-DD 格式的日期", "date_from_datetime_inexact": "应为日期，不带时间",
    "datetime_type": "应为 ISO 8601 格式的时间", "datetime_parsing": "应为 ISO 8601 格式的时间",
    "datetime_from_date_parsing": "应为 ISO 8601 格式的时间", "timezone_aware": "须带时区",
    "greater_than": "应大于 {gt}", "greater_than_equal": "应不小于 {ge}", "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}", "multiple_of": "应为 {multiple_of} 的倍数",
    "uuid_type": "应为 UUID", "uuid_parsing": "应为 UUID", "json_invalid": "不是有效的 JSON",
    "union_tag_invalid": "类型应为以下之一：{expected_tags}", "union_tag_not_found": "须写明类型（{discriminator}）",
}


def validation_reason(error: dict[str, Any], shapes: dict[str, str] | None = None) -> str:
    """One pydantic error as the reason a person reads: the project's own validators already
    speak Chinese (their message is kept); pydantic's own checks are said here, and a text that
    does not match its pattern as `shapes` describes that pattern."""
    context = error.get("ctx") or {}
    if error["type"] in ("value_error", "assertion_error") and "error" in context:
        return str(context["error"])
    if error["type"] == "string_pattern_mismatch" and context.get("pattern") in (shapes or {}):
        return (shapes or {})[context["pattern"]]
    words = _VALIDATION_WORDS.get(error["type"])
    if words is None:
        return f"不符合要求（{error['type']}）"
    values = {key: _choices(str(value)) for key, value in context.items()}
    try:
        return words.format(**values)
    except (KeyError, IndexError):
        return words.split("{", 1)[0].rstrip("：（ ") or "不符合要求"


_ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


def english_words(text: str, machine: Iterable[str] = ()) -> list[str]:
    """ASCII words in `text` a person would read, once the `machine` words the API fixes (step
    names, statuses, codes, identifiers) are taken out: what a Chinese record must not hold."""
    for word in sorted(set(machine), key=len, reverse=True):
        if word:
            text = text.replace(word, " ")
    return _ENGLISH_WORD.findall(text)


def readable(value: Any) -> str:
    """An output value as a person reads it: enumerated words in Chinese, yes and no, lists
    with 、 and nested records as 标签：值."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return "，".join(f"{OUTPUT_LABELS.get(k, k)}：{readable(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "；".join(readable(v) for v in value) if any(isinstance(v, dict) for v in value) \
            else "、".join(readable(v) for v in value)
    if value is None:
        return "无"
    return VALUE_WORDS.get(str(value), str(value))


def readable_outputs(outputs: dict[str, Any]) -> list[tuple[str, str | list[tuple[str, str, str]]]]:
    """统一出件 as a person reads it, in the record's order: (label, text) for each output, and for
    the seals (label, [(seal title, filing code, name on the seal), …])."""
    entries: list[tuple[str, str | list[tuple[str, str, str]]]] = []
    for key, value in outputs.items():
        if key == "seals":
            entries.append((OUTPUT_LABELS[key], [(SEAL_TITLES.get(s["type"], s["type"]), s["filing_code"], s["name"])
                                                 for s in value]))
        else:
            entries.append((OUTPUT_LABELS.get(key, key), readable(value)))
    return entries
