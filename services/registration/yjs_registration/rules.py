"""When registration approves an establishment, and why it refuses. Pure functions: an
application in, reasons out — each with its code, its text and the field it is about."""

from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal
from typing import Mapping

from yjs_contracts import catalogue
from yjs_contracts.api import EstablishmentApplication, EnterpriseType, OfficerRole, Reason
from yjs_contracts.codes import CodeError, validate_id_number

#: words that need the State Council's approval (refused here) or offend public order
PROHIBITED_WORDS = ("中国", "中华", "全国", "国家", "国际", "赌博", "色情", "邪教", "恐怖")
#: 组织形式 each enterprise type may use
FORMS = {
    EnterpriseType.limited_liability_company: ("有限公司", "有限责任公司"),
    EnterpriseType.joint_stock_company: ("股份有限公司", "股份公司"),
    EnterpriseType.sole_proprietorship: ("商行", "经营部", "中心", "工作室", "店"),
    EnterpriseType.partnership: ("合伙企业", "事务所", "中心", "工作室"),
}
CJK = re.compile(r"^[\u4e00-\u9fff]+$")
PAID_IN_YEARS = 5  # 2024 Company Law: an LLC's subscribed capital is paid within five years
DEFAULT_REVIEW_CAPITAL = Decimal("100000000.00")
REVIEW_CAPITAL_ENV = "REGISTRATION_REVIEW_CAPITAL"
APP = "application"


def _reason(code: str, message: str, field: str) -> Reason:
    return Reason(code=code, message=message, field=f"{APP}.{field}")


def name_reasons(app: EstablishmentApplication) -> list[Reason]:
    enterprise, parts = app.enterprise, app.enterprise.name_parts
    reasons = []
    if enterprise.name != parts.region + parts.trade_name + parts.industry + parts.form:
        reasons.append(_reason("name_structure", "名称应由行政区划、字号、行业表述、组织形式依次组成",
                               "enterprise.name"))
    if len(parts.trade_name) < 2 or not CJK.match(parts.trade_name):
        reasons.append(_reason("trade_name_too_short", "字号应当由两个以上汉字组成",
                               "enterprise.name_parts.trade_name"))
    if not any(parts.form == form for form in FORMS[enterprise.type]):
        reasons.append(_reason("name_form_mismatch", f"组织形式“{parts.form}”与企业类型不符",
                               "enterprise.name_parts.form"))
    for word in PROHIBITED_WORDS:
        if word in enterprise.name:
            reasons.append(_reason("prohibited_word", f"名称含有禁限用字词“{word}”", "enterprise.name"))
    return reasons


def id_number_reasons(app: EstablishmentApplication) -> list[Reason]:
    people = [("legal_representative.id_number", app.legal_representative.id_number)]
    people += [(f"shareholders.{i}.id_number", s.id_number) for i, s in enumerate(app.shareholders) if s.id_number]
    people += [(f"officers.{i}.id_number", o.id_number) for i, o in enumerate(app.officers)]
    for role in ("finance_officer", "tax_handler"):
        contact = getattr(app.contacts, role)
        if contact is not None and contact.id_number:
            people.append((f"contacts.{role}.id_number", contact.id_number))
    reasons = []
    for field, number in people:
        try:
            validate_id_number(number)
        except CodeError as error:
            reasons.append(_reason("invalid_id_number", f"居民身份证号码无效：{error}", field))
    return reasons


def capital_reasons(app: EstablishmentApplication, today: date) -> list[Reason]:
    reasons = []
    subscribed = sum((s.subscribed_amount for s in app.shareholders), Decimal("0"))
    if subscribed != app.enterprise.registered_capital:
        reasons.append(_reason("subscriptions_mismatch",
                               f"股东认缴出资合计 {subscribed} 元，与注册资本 {app.enterprise.registered_capital} 元不符",
                               "shareholders"))
    if app.enterprise.type == EnterpriseType.limited_liability_company:
        latest = today.replace(year=today.year + PAID_IN_YEARS) if not (today.month == 2 and today.day == 29) \
            else date(today.year + PAID_IN_YEARS, 2, 28)
        for i, s in enumerate(app.shareholders):
            if s.contribution_deadline > latest:
                reasons.append(_reason("contribution_deadline_too_late",
                                       f"认缴出资应自成立之日起五年内缴足（最迟 {latest.isoformat()}）",
                                       f"shareholders.{i}.contribution_deadline"))
    return reasons


def officer_reasons(app: EstablishmentApplication) -> list[Reason]:
    roles = {o.role for o in app.officers}
    if not roles & {OfficerRole.executive_director, OfficerRole.director, OfficerRole.chairman} and \
            app.enterprise.type in (EnterpriseType.limited_liability_company, EnterpriseType.joint_stock_company):
        return [_reason("no_director", "公司应设董事会或一名董事（执行董事）", "officers")]
    return []


def scope_reasons(app: EstablishmentApplication) -> list[Reason]:
    return [_reason("unknown_scope_item", f"“{item}”不是经营范围规范表述目录中的条目",
                    f"enterprise.business_scope.{i}")
            for i, item in enumerate(app.enterprise.business_scope) if not catalogue.is_known(item)]


def establishment_reasons(app: EstablishmentApplication, today: date) -> list[Reason]:
    """Every rule that fails, all at once (一次性告知)."""
    return (name_reasons(app) + id_number_reasons(app) + capital_reasons(app, today)
            + officer_reasons(app) + scope_reasons(app))


def review_capital_threshold(environ: Mapping[str, str] = os.environ) -> Decimal:
    """Registered capital above which a registrar looks (env REGISTRATION_REVIEW_CAPITAL, CNY)."""
    raw = environ.get(REVIEW_CAPITAL_ENV, "").strip()
    return Decimal(raw) if raw else DEFAULT_REVIEW_CAPITAL


def review_reasons(app: EstablishmentApplication, capital_threshold: Decimal = DEFAULT_REVIEW_CAPITAL) -> list[Reason]:
    """What a registrar must look at before approval (人工审核): foreign or entity investors,
    large capital. Any of them sends the establishment to the registration staff's review queue."""
    reasons = []
    for i, s in enumerate(app.shareholders):
        if s.nationality != "CHN":
            reasons.append(_reason("foreign_investor", "外商投资，需人工审核", f"shareholders.{i}.nationality"))
        if s.kind == "entity":
            reasons.append(_reason("entity_shareholder", "法人股东，需人工审核", f"shareholders.{i}.uscc"))
    if app.enterprise.registered_capital > capital_threshold:
        reasons.append(_reason("large_capital", f"注册资本超过 {capital_threshold} 元，需人工审核",
                               "enterprise.registered_capital"))
    return reasons


def name_taken_reason() -> Reason:
    return _reason("name_taken", "同一登记机关辖区内已有相同名称的企业", "enterprise.name")


def deregistration_reasons(status: str | None) -> list[Reason]:
    """注销登记 needs an enterprise on the register that is not already struck off; `status` is
    its register status, None when the 统一社会信用代码 is not on the register."""
    if status is None:
        return [_reason("enterprise_unknown", "登记机关未查询到该统一社会信用代码的企业", "uscc")]
    if status != "registered":
        return [_reason("already_deregistered", "该企业已办理注销登记", "uscc")]
    return []


def licence_number(division_code: str, serial: int) -> str:
    """电子营业执照 number: the registering division and a serial, 15 digits like a 注册号."""
    return f"{division_code}{serial:09d}"
