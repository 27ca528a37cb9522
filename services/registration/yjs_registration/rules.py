"""When registration approves an establishment, and why it refuses. Pure functions: an
application in, reasons out — each with its code, its text and the field it is about."""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Mapping

from yjs_contracts import catalogue, divisions
from yjs_contracts.api import EstablishmentApplication, EnterpriseType, NameParts, OfficerRole, Reason
from yjs_contracts.codes import CodeError, birth_date_of, validate_id_number

#: words that need the State Council's approval (refused here) or offend public order
PROHIBITED_WORDS = ("中国", "中华", "全国", "国家", "国际", "赌博", "色情", "邪教", "恐怖")
#: 组织形式 each enterprise type may use
FORMS = {
    EnterpriseType.limited_liability_company: ("有限公司", "有限责任公司"),
    EnterpriseType.joint_stock_company: ("股份有限公司", "股份公司"),
    EnterpriseType.sole_proprietorship: ("商行", "经营部", "中心", "工作室", "店"),
    EnterpriseType.partnership: ("合伙企业", "事务所", "中心", "工作室"),
    # 个体工商户名称登记管理办法: 厂、店、馆、部、行、中心 and the like
    EnterpriseType.individual_business: ("店", "馆", "部", "行", "中心", "坊", "厂", "社", "室", "厅", "园"),
    EnterpriseType.farmers_cooperative: ("专业合作社", "股份合作社"),
}
#: GB 32100 机构类别 under registration authority 9 (市场监管): the code each type is issued
ORG_TYPES = {EnterpriseType.individual_business: "2", EnterpriseType.farmers_cooperative: "3"}  # else 1, 企业
#: 农民专业合作社法 art. 19-20: at least five members, farmers at least 80 % of them; of twenty or
#: fewer members one may be an enterprise, institution or organisation, of more at most 5 %
COOPERATIVE_MIN_MEMBERS = 5
COOPERATIVE_FARMER_SHARE = Decimal("0.8")
COOPERATIVE_ENTITY_SHARE = Decimal("0.05")
#: a partnership's name says which kind it is after its form: 嘉兴红船投资合伙企业（有限合伙）
PARTNERSHIP_KINDS = ("特殊普通合伙", "普通合伙", "有限合伙")
_PARTNERSHIP_KIND_SUFFIX = re.compile(r"[（(](特殊普通合伙|普通合伙|有限合伙)[）)]$")
#: 组织形式 the Company Law lets a company use either way (art. 7): one name, whichever is written
EQUIVALENT_FORMS = (("有限责任公司", "有限公司"), ("股份有限公司", "股份公司"))
DIRECTOR_ROLES = (OfficerRole.executive_director, OfficerRole.director, OfficerRole.chairman)
COMPANY_TYPES = (EnterpriseType.limited_liability_company, EnterpriseType.joint_stock_company)
ADULT_AGE = 18
ROLE_TITLES = {OfficerRole.executive_director: "执行董事", OfficerRole.director: "董事",
               OfficerRole.chairman: "董事长", OfficerRole.supervisor: "监事", OfficerRole.manager: "经理"}
CJK = re.compile(r"^[\u4e00-\u9fff]+$")
PAID_IN_YEARS = 5  # 2024 Company Law: an LLC's subscribed capital is paid within five years
DEFAULT_REVIEW_CAPITAL = Decimal("100000000.00")
REVIEW_CAPITAL_ENV = "REGISTRATION_REVIEW_CAPITAL"
APP = "application"


def _reason(code: str, message: str, field: str) -> Reason:
    return Reason(code=code, message=message, field=f"{APP}.{field}")


def name_reasons(app: EstablishmentApplication) -> list[Reason]:
    enterprise = app.enterprise
    return name_rule_reasons(enterprise.name, enterprise.name_parts, enterprise.type,
                             enterprise.domicile.division_code, "enterprise")


def region_reasons(app: EstablishmentApplication) -> list[Reason]:
    return _region_reasons(app.enterprise.name_parts.region, app.enterprise.domicile.division_code, "enterprise")


def name_rule_reasons(name: str, parts: NameParts, kind: EnterpriseType, division: str, at: str) -> list[Reason]:
    """The name rules, wherever a name is asked for: `at` is where the form holds it
    (`enterprise` in an establishment, `changes.name` in a change)."""
    reasons = []
    if name != parts.region + parts.trade_name + parts.industry + parts.form:
        reasons.append(_reason("name_structure", "名称应由行政区划、字号、行业表述、组织形式依次组成", f"{at}.name"))
    if len(parts.trade_name) < 2 or not CJK.match(parts.trade_name):
        reasons.append(_reason("trade_name_too_short", "字号应当由两个以上汉字组成", f"{at}.name_parts.trade_name"))
    form = _PARTNERSHIP_KIND_SUFFIX.sub("", parts.form) if kind == EnterpriseType.partnership else parts.form
    if form not in FORMS[kind]:
        reasons.append(_reason("name_form_mismatch", f"组织形式“{parts.form}”与企业类型不符", f"{at}.name_parts.form"))
    if kind == EnterpriseType.partnership and not any(k in name for k in PARTNERSHIP_KINDS):
        reasons.append(_reason("partnership_kind_missing",
                               "合伙企业名称应在组织形式后标明“普通合伙”“有限合伙”或“特殊普通合伙”字样", f"{at}.name"))
    for word in PROHIBITED_WORDS:
        if word in name:
            reasons.append(_reason("prohibited_word", f"名称含有禁限用字词“{word}”", f"{at}.name"))
    return reasons + _region_reasons(parts.region, division, at)


def _region_reasons(region: str, division: str, at: str) -> list[Reason]:
    """The name's 行政区划 is the domicile's province, city or county (a district with its city).
    A name may not leave it out here: the form has no route for the names that may (those the
    State Administration registers). A region the table cannot place, for a domicile it does not
    fully know, is let through: only what the table knows is refused."""
    if region in divisions.region_names(division):
        return []
    if not (divisions.knows(division) or divisions.is_place_name(region)):
        return []
    place = divisions.place_name(division)
    return [_reason("name_region_mismatch",
                    f"名称中的行政区划“{region}”不是住所所在地（{division}{' ' + place if place else ''}）的行政区划",
                    f"{at}.name_parts.region")]


def name_key(name: str) -> str:
    """The name as the register compares it (名称相同): full-width and half-width alike, no
    punctuation or spaces, and 有限责任公司 the same as 有限公司 (股份有限公司 as 股份公司), so two
    names that differ only there collide."""
    key = "".join(c for c in unicodedata.normalize("NFKC", name) if unicodedata.category(c)[0] not in "PZ")
    for long, short in EQUIVALENT_FORMS:
        if key.endswith(long):
            return key[: -len(long)] + short
    return key


def id_number_reasons(app: EstablishmentApplication) -> list[Reason]:
    """Every invalid 公民身份号码, each told with whose it is: 法定代表人张伟的公民身份号码校验位…"""
    legal = app.legal_representative
    people = [("legal_representative.id_number", f"法定代表人{legal.name}", legal.id_number)] if legal else []
    if app.operator:
        people.append(("operator.id_number", f"经营者{app.operator.name}", app.operator.id_number))
        people += [(f"operator.family_members.{i}.id_number", f"家庭成员{m.name}", m.id_number)
                   for i, m in enumerate(app.operator.family_members)]
    people += [(f"shareholders.{i}.id_number", f"股东{s.name}", s.id_number)
               for i, s in enumerate(app.shareholders or []) if s.id_number]
    people += [(f"members.{i}.id_number", f"成员{m.name}", m.id_number)
               for i, m in enumerate(app.members or []) if m.id_number]
    people += [(f"officers.{i}.id_number", f"{ROLE_TITLES[o.role]}{o.name}", o.id_number)
               for i, o in enumerate(app.officers or [])]
    for role, title in (("finance_officer", "财务负责人"), ("tax_handler", "办税人")):
        contact = getattr(app.contacts, role)
        if contact is not None and contact.id_number:
            people.append((f"contacts.{role}.id_number", f"{title}{contact.name}", contact.id_number))
    return people_id_number_reasons(people)


def people_id_number_reasons(people: list[tuple[str, str, str]]) -> list[Reason]:
    """(field, who, number) -> a reason for each number that is not a valid 公民身份号码."""
    reasons = []
    for field, who, number in people:
        try:
            validate_id_number(number)
        except CodeError as error:
            reasons.append(_reason("invalid_id_number", f"{who}的{error}", field))
    return reasons


def capital_reasons(app: EstablishmentApplication, today: date) -> list[Reason]:
    if app.shareholders is None:
        return contribution_reasons(app)
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


def contribution_reasons(app: EstablishmentApplication) -> list[Reason]:
    """A 合作社's 成员出资总额, when given together with its members' contributions, is their sum."""
    capital, given = app.enterprise.registered_capital, [m.contribution for m in app.members or [] if m.contribution]
    if capital is None or not given:
        return []
    total = sum(given, Decimal("0"))
    if total != capital:
        return [_reason("contributions_mismatch", f"成员出资合计 {total} 元，与成员出资总额 {capital} 元不符",
                        "members")]
    return []


def cooperative_member_reasons(app: EstablishmentApplication) -> list[Reason]:
    """农民专业合作社法 art. 19-20: five members or more, farmers at least 80 % of them; twenty or
    fewer may include one enterprise, institution or organisation (a member with a 统一社会信用代码),
    more may include such members up to 5 % of all."""
    if app.enterprise.type != EnterpriseType.farmers_cooperative or app.members is None:
        return []
    members = app.members
    reasons = []
    if len(members) < COOPERATIVE_MIN_MEMBERS:
        reasons.append(_reason("cooperative_too_few_members",
                               f"农民专业合作社应有五名以上成员，申报了 {len(members)} 名", "members"))
    farmers = sum(m.kind == "farmer" for m in members)
    if farmers < COOPERATIVE_FARMER_SHARE * len(members):
        reasons.append(_reason("cooperative_farmer_share",
                               f"农民至少应当占成员总数的百分之八十，{len(members)} 名成员中农民 {farmers} 名", "members"))
    entities = sum(m.uscc is not None for m in members)
    allowed = 1 if len(members) <= 20 else int(COOPERATIVE_ENTITY_SHARE * len(members))
    if entities > allowed:
        reasons.append(_reason("cooperative_entity_members",
                               f"{len(members)} 名成员中企业、事业单位或社会组织成员至多 {allowed} 名，申报了 {entities} 名",
                               "members"))
    return reasons


def officer_reasons(app: EstablishmentApplication) -> list[Reason]:
    roles = {o.role for o in app.officers or []}
    if not roles & set(DIRECTOR_ROLES) and app.enterprise.type in COMPANY_TYPES:
        return [_reason("no_director", "公司应设董事会或一名董事（执行董事）", "officers")]
    return []


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def legal_representative_reasons(app: EstablishmentApplication, today: date) -> list[Reason]:
    """Company Law art. 10: a company's legal representative is the director or the manager who
    runs its affairs, so one of its officers by ID number; a 合作社's (理事长) is one of its members
    (农民专业合作社法 art. 33); and anyone's — a 个体工商户's operator's too — is of full age (18)
    on the day of application. An ID number that is itself invalid is id_number_reasons' to name."""
    legal = app.signatory
    title, field = ("经营者", "operator") if app.legal_representative is None else ("法定代表人", "legal_representative")
    reasons = []
    runs_it = {o.id_number for o in app.officers or [] if o.role in (*DIRECTOR_ROLES, OfficerRole.manager)}
    if app.enterprise.type in COMPANY_TYPES and legal.id_number not in runs_it:
        reasons.append(_reason("legal_representative_not_director_or_manager",
                               f"法定代表人{legal.name}应由代表公司执行公司事务的董事或者经理担任",
                               "legal_representative.id_number"))
    if app.members is not None and legal.id_number not in {m.id_number for m in app.members}:
        reasons.append(_reason("legal_representative_not_member",
                               f"法定代表人（理事长）{legal.name}应为本社成员", "legal_representative.id_number"))
    try:
        birth = birth_date_of(legal.id_number)
    except CodeError:
        return reasons
    if _age_on(birth, today) < ADULT_AGE:
        reasons.append(_reason("legal_representative_under_age",
                               f"{title}{legal.name}申请之日（{today.isoformat()}）未满十八周岁"
                               f"（出生于 {birth.isoformat()}）", f"{field}.id_number"))
    return reasons


def supervisor_reasons(app: EstablishmentApplication) -> list[Reason]:
    """Company Law art. 76: directors and senior managers may not be supervisors."""
    officers = app.officers or []
    others = {o.id_number: o.role for o in officers if o.role != OfficerRole.supervisor}
    return [_reason("supervisor_also_director_or_manager",
                    f"监事{o.name}同时担任{ROLE_TITLES[others[o.id_number]]}，董事、经理不得兼任监事",
                    f"officers.{i}.id_number")
            for i, o in enumerate(officers) if o.role == OfficerRole.supervisor and o.id_number in others]


def investor_reasons(app: EstablishmentApplication, today: date) -> list[Reason]:
    """个人独资企业法 art. 2: one natural person invests; Company Law art. 98: a 股份有限公司's
    promoters pay for their shares in full before the company is established."""
    reasons = []
    shareholders = app.shareholders or []
    if app.enterprise.type == EnterpriseType.sole_proprietorship:
        if len(shareholders) != 1:
            reasons.append(_reason("sole_proprietorship_investors",
                                   f"个人独资企业的投资人应为一个自然人，申报了 {len(shareholders)} 个投资人",
                                   "shareholders"))
        reasons += [_reason("sole_proprietorship_investors",
                            f"个人独资企业的投资人应为自然人，“{s.name}”不是自然人", f"shareholders.{i}.kind")
                    for i, s in enumerate(shareholders) if s.kind != "natural_person"]
    if app.enterprise.type == EnterpriseType.joint_stock_company:
        reasons += [_reason("promoter_shares_unpaid",
                            f"股份有限公司发起人{s.name}应在公司成立前足额缴纳股款，缴付期限 "
                            f"{s.contribution_deadline.isoformat()} 晚于申请之日 {today.isoformat()}",
                            f"shareholders.{i}.contribution_deadline")
                    for i, s in enumerate(shareholders) if s.contribution_deadline > today]
    return reasons


def scope_reasons(app: EstablishmentApplication) -> list[Reason]:
    return [_reason("unknown_scope_item", f"“{item}”不是经营范围规范表述目录中的条目",
                    f"enterprise.business_scope.{i}")
            for i, item in enumerate(app.enterprise.business_scope) if not catalogue.is_known(item)]


def establishment_reasons(app: EstablishmentApplication, today: date) -> list[Reason]:
    """Every rule that fails, all at once (一次性告知)."""
    return (name_reasons(app) + id_number_reasons(app) + capital_reasons(app, today)
            + officer_reasons(app) + legal_representative_reasons(app, today) + supervisor_reasons(app)
            + investor_reasons(app, today) + cooperative_member_reasons(app) + scope_reasons(app))


def review_capital_threshold(environ: Mapping[str, str] = os.environ) -> Decimal:
    """Registered capital above which a registrar looks (env REGISTRATION_REVIEW_CAPITAL, CNY)."""
    raw = environ.get(REVIEW_CAPITAL_ENV, "").strip()
    return Decimal(raw) if raw else DEFAULT_REVIEW_CAPITAL


def review_reasons(app: EstablishmentApplication, capital_threshold: Decimal = DEFAULT_REVIEW_CAPITAL) -> list[Reason]:
    """What a registrar must look at before approval (人工审核): foreign or entity investors,
    large capital. Any of them sends the establishment to the registration staff's review queue."""
    reasons = []
    for i, s in enumerate(app.shareholders or []):
        if s.nationality != "CHN":
            reasons.append(_reason("foreign_investor", "外商投资，需人工审核", f"shareholders.{i}.nationality"))
        if s.kind == "entity":
            reasons.append(_reason("entity_shareholder", "法人股东，需人工审核", f"shareholders.{i}.uscc"))
    reasons += [_reason("entity_member", "企业、事业单位或社会组织成员，需人工审核", f"members.{i}.uscc")
                for i, m in enumerate(app.members or []) if m.uscc]
    capital = app.enterprise.registered_capital
    if capital is not None and capital > capital_threshold:
        reasons.append(_reason("large_capital", f"注册资本超过 {capital_threshold} 元，需人工审核",
                               "enterprise.registered_capital"))
    return reasons


def name_taken_reason(field: str = "enterprise.name") -> Reason:
    return _reason("name_taken", "同一登记机关辖区内已有相同名称的企业", field)


def deregistration_reasons(status: str | None) -> list[Reason]:
    """注销登记 needs an enterprise on the register that is not already struck off; `status` is
    its register status, None when the 统一社会信用代码 is not on the register."""
    if status is None:
        return [_reason("enterprise_unknown", "登记机关未查询到该统一社会信用代码的企业", "uscc")]
    if status != "registered":
        return [_reason("already_deregistered", "该企业已办理注销登记", "uscc")]
    return []


def org_type(kind: EnterpriseType) -> str:
    """The 机构类别 the 统一社会信用代码 carries: 1 企业, 2 个体工商户, 3 农民专业合作社."""
    return ORG_TYPES.get(kind, "1")


def licence_number(division_code: str, serial: int) -> str:
    """电子营业执照 number: the registering division and a serial, 15 digits like a 注册号."""
    return f"{division_code}{serial:09d}"
