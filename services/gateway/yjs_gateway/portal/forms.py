"""The 企业开办 form: its fields named by the API's own paths (`application.enterprise.registered_capital`),
so the submission body is read straight off the form and every refusal the API names lands
next to the field it names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yjs_contracts.api import ContributionForm, EnterpriseType, InvoiceKind, OfficerRole, SealType, TaxpayerType
from yjs_contracts.words import OFFICER_ROLE_WORDS, SEAL_TITLES, VALUE_WORDS

ENTERPRISE_TYPE_WORDS = {"limited_liability_company": "有限责任公司", "joint_stock_company": "股份有限公司",
                         "sole_proprietorship": "个人独资企业", "partnership": "合伙企业"}
CONTRIBUTION_WORDS = {"currency": "货币", "in_kind": "实物", "intellectual_property": "知识产权",
                      "land_use_right": "土地使用权", "equity": "股权", "claim": "债权"}
SHAREHOLDER_KIND_WORDS = {"natural_person": "自然人", "entity": "企业或其他组织"}


def _options(values, words) -> tuple[tuple[str, str], ...]:
    return tuple((str(v), words[str(v)]) for v in values)


@dataclass(frozen=True)
class Field:
    key: str  # the path under its section; "" for the section's own value (a list)
    label: str
    kind: str = "text"  # text, tel, select, choices (check boxes), lines (one item a line), count (a whole number)
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    autocomplete: str = "off"


@dataclass(frozen=True)
class Section:
    path: str
    title: str
    fields: tuple[Field, ...]
    rows: int = 0  # a list: this many rows, the blank ones left out
    optional: bool = False  # left out of the application when every field is blank
    hint: str = ""

    def name(self, field: Field, row: int | None = None) -> str:
        base = self.path if row is None else f"{self.path}.{row}"
        return f"{base}.{field.key}" if field.key else base


PERSON = (Field("name", "姓名", autocomplete="name"),
          Field("id_number", "公民身份号码", hint="18 位，末位可为 X"))
MOBILE = Field("mobile", "手机号码", "tel", hint="11 位", autocomplete="tel")

SECTIONS: tuple[Section, ...] = (
    Section("application.enterprise", "企业基本信息", (
        Field("name_parts.region", "行政区划", hint="如：嘉兴"),
        Field("name_parts.trade_name", "字号", hint="如：红船"),
        Field("name_parts.industry", "行业表述", hint="如：数字科技"),
        Field("name_parts.form", "组织形式", hint="如：有限公司"),
        Field("type", "企业类型", "select", _options(EnterpriseType, ENTERPRISE_TYPE_WORDS)),
        Field("domicile.address", "住所", hint="省、市、区、街道门牌号", autocomplete="street-address"),
        Field("domicile.division_code", "住所行政区划代码", hint="6 位，如 330402"),
        Field("registered_capital", "注册资本（元）", hint="如：1000000.00"),
        Field("business_scope", "经营范围", "lines", hint="按经营范围规范表述目录填写，每行一项"),
    ), hint="企业名称由行政区划、字号、行业表述和组织形式依次组成。"),
    Section("application.legal_representative", "法定代表人", (*PERSON, MOBILE)),
    Section("application.shareholders", "股东（发起人）", (
        Field("kind", "股东类型", "select", _options(("natural_person", "entity"), SHAREHOLDER_KIND_WORDS)),
        Field("name", "姓名或名称"),
        Field("id_number", "公民身份号码", hint="自然人股东填写"),
        Field("uscc", "统一社会信用代码", hint="企业或其他组织股东填写"),
        Field("nationality", "国籍", hint="外方投资者填写 ISO 3166 三字母代码，如 USA；中国投资者留空"),
        Field("subscribed_amount", "认缴出资额（元）"),
        Field("contribution_form", "出资方式", "select", _options(ContributionForm, CONTRIBUTION_WORDS)),
        Field("contribution_deadline", "出资期限", hint="YYYY-MM-DD，如 2030-12-31"),
    ), rows=3, hint="至少一位股东；不用的行留空。"),
    Section("application.officers", "董事、监事、经理", (
        Field("role", "职务", "select", _options(OfficerRole, OFFICER_ROLE_WORDS)), *PERSON,
    ), rows=3, hint="不用的行留空。"),
    Section("application.contacts.liaison", "联络员", (PERSON[0], MOBILE)),
    Section("application.contacts.finance_officer", "财务负责人", (*PERSON, MOBILE), optional=True,
            hint="可不填；税务登记时需要实名采集。"),
    Section("application.contacts.tax_handler", "办税人", (*PERSON, MOBILE), optional=True),
    Section("application.seals", "印章刻制", (
        Field("", "需要刻制的印章", "choices", _options(SealType, SEAL_TITLES)),), hint="不选则不刻章。"),
    Section("application.bank_account", "银行开户", (
        Field("bank", "开户银行", hint="如：中国工商银行"), Field("branch", "开户网点", hint="如：嘉兴南湖支行"),
    ), optional=True, hint="开立基本存款账户；不开户则留空。"),
    Section("application.social_insurance", "社保医保登记", (
        Field("employees", "参保人数", "count", hint="开办时参保的职工人数，暂无职工填 0"),
    ), optional=True, hint="单位参保登记和医保登记随企业开办一并办理；不办理则清空此项（招用职工后 30 日内须另行办理）。"),
    Section("application.tax", "税务", (
        Field("taxpayer_type", "纳税人类型", "select", _options(TaxpayerType, VALUE_WORDS)),
        Field("invoices", "申领发票", "choices", _options(InvoiceKind, VALUE_WORDS)),
    )),
)

#: errors about a value the form composes rather than asks for, shown where it is composed from
ALIASES = {"application.enterprise.name": "application.enterprise.name_parts.trade_name"}
#: what a row's select boxes say by default does not make the row filled in
_DEFAULTED = ("select",)

DEFAULTS: dict[str, Any] = {
    "application.enterprise.name_parts.form": "有限公司",
    "application.shareholders.0.contribution_form": "currency",
    "application.officers.0.role": "executive_director",
    "application.officers.1.role": "supervisor",
    "application.officers.2.role": "manager",
    "application.seals": [s.value for s in SealType],
    "application.tax.invoices": ["ordinary"],
    "application.social_insurance.employees": "0",
}


def field_names() -> list[str]:
    names = []
    for section in SECTIONS:
        for row in range(section.rows) if section.rows else (None,):
            names += [section.name(field, row) for field in section.fields]
    return names


def _value(form, section: Section, field: Field, row: int | None) -> Any:
    name = section.name(field, row)
    if field.kind == "choices":
        return [v for v in form.getlist(name) if v]
    text = form.get(name, "")
    if field.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if field.kind == "count" and text.strip().isascii() and text.strip().isdigit():
        return int(text.strip())  # anything else goes to the API as typed, which names what is wrong
    return text.strip()


def _record(form, section: Section, row: int | None) -> dict[str, Any] | None:
    """One section's (or row's) values, nested by their dotted keys; None when left blank."""
    record: dict[str, Any] = {}
    filled = False
    for field in section.fields:
        value = _value(form, section, field, row)
        if value in ("", []):
            continue  # left out: the API names it as 必填 where it is required
        filled = filled or field.kind not in _DEFAULTED
        node = record
        *parents, last = field.key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return record if filled else None


def submission_from_form(form) -> tuple[dict[str, Any], dict[str, str]]:
    """The body of `POST /v1/cases` the form says, and how the application's list rows map back
    to the form's (a blank row left out shifts those after it)."""
    application: dict[str, Any] = {}
    rows: dict[str, str] = {}
    for section in SECTIONS:
        keys = section.path.split(".")[1:]
        if section.rows:
            value = []
            for row in range(section.rows):
                record = _record(form, section, row)
                if record is not None:
                    rows[f"{section.path}.{len(value)}"] = f"{section.path}.{row}"
                    value.append(record)
        elif not section.fields[0].key:
            value = _value(form, section, section.fields[0], None)
        else:
            value = _record(form, section, None)
            if value is None:
                if section.optional:
                    continue
                value = {}
        node = application
        for part in keys[:-1]:
            node = node.setdefault(part, {})
        node[keys[-1]] = value
    enterprise = application.get("enterprise", {})
    parts = enterprise.get("name_parts", {})
    if parts:
        enterprise["name"] = "".join(parts.get(k, "") for k in ("region", "trade_name", "industry", "form"))
    application.setdefault("bank_account", None)  # absent or null: no account
    application.setdefault("social_insurance", None)  # cleared: not registered with the establishment
    return {"matter": "establishment", "application": application}, rows


def place_errors(details, rows: dict[str, str]) -> tuple[dict[str, list[str]], list[str]]:
    """Each refusal by the form field it names (the nearest one, for a refusal of a whole row or
    list); what names no field of the form is said at the top."""
    names = set(field_names()) | {s.path for s in SECTIONS} | {
        f"{s.path}.{row}" for s in SECTIONS for row in range(s.rows)}
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for detail in details:
        field = ALIASES.get(detail["field"], detail["field"])
        for api_row, form_row in sorted(rows.items(), key=lambda r: -len(r[0])):
            if field == api_row or field.startswith(api_row + "."):
                field = form_row + field[len(api_row):]
                break
        target = field
        while target and target not in names:
            target = target.rpartition(".")[0]
        if target:
            by_field.setdefault(target, []).append(detail["reason"])
        else:
            general.append(detail["reason"])
    return by_field, general


def form_values(form) -> dict[str, Any]:
    """What the person typed, to fill the form again."""
    values: dict[str, Any] = {}
    for section in SECTIONS:
        for row in range(section.rows) if section.rows else (None,):
            for field in section.fields:
                name = section.name(field, row)
                values[name] = form.getlist(name) if field.kind == "choices" else form.get(name, "")
    return values


def form_from_application(application: dict[str, Any]) -> dict[str, Any]:
    """The form's fields filled from an application (the inverse of `submission_from_form`)."""
    values: dict[str, Any] = {}
    for section in SECTIONS:
        node: Any = {"application": application}
        for part in section.path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        records = (list(enumerate(node or []))[:section.rows] if section.rows else [(None, node)])
        for row, record in records:
            for field in section.fields:
                value: Any = record
                for part in filter(None, field.key.split(".")):
                    value = value.get(part) if isinstance(value, dict) else None
                if value is None:
                    continue
                name = section.name(field, row)
                values[name] = "\n".join(value) if field.kind == "lines" else \
                    str(value) if field.kind == "count" else value
    return values


# -- a department's decision on a review (人工审核) ----------------------------------------------

REASON_ROWS = 3
#: the fields of an application a reason may name, as the 企业开办 form labels them
REASON_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (section.name(field, 0 if section.rows else None), f"{section.title}·{field.label}")
    for section in SECTIONS for field in section.fields)
#: the code a staff member's own reason carries, by decision
REASON_CODES = {"refuse": "refused_by_staff", "request_corrections": "correction_requested",
                "approve": "noted_by_staff"}


def decision_from_form(form) -> dict[str, Any]:
    """The body of `POST /v1/departments/{department}/reviews/{review_id}/decision`; a reason row
    with neither message nor field is left out."""
    decision = form.get("decision", "")
    reasons = []
    for row in range(REASON_ROWS):
        message, field = form.get(f"reasons.{row}.message", "").strip(), form.get(f"reasons.{row}.field", "").strip()
        if message or field:
            reasons.append({"code": REASON_CODES.get(decision, "staff"), "message": message, "field": field or None})
    body: dict[str, Any] = {"decision": decision, "reasons": reasons}
    comment = form.get("comment", "").strip()
    if comment:
        body["comment"] = comment
    return body


def application_rows(application: dict[str, Any]) -> list[tuple[str, str]]:
    """An establishment application as staff read it: (label, value) for every field filled in,
    the enumerated values in words."""
    values = form_from_application(application)
    rows = []
    for section in SECTIONS:
        for row in range(section.rows) if section.rows else (None,):
            for field in section.fields:
                value = values.get(section.name(field, row))
                if value in (None, "", []):
                    continue
                words = dict(field.options)
                text = "、".join(words.get(v, v) for v in value) if isinstance(value, list) else words.get(value, value)
                where = section.title if row is None else f"{section.title} 第 {row + 1} 位"
                rows.append((f"{where}·{field.label}", text))
    return rows


# -- 补正: only what the notice named ------------------------------------------------------------

def _field_at(path: str) -> tuple[Section, Field, int | None] | None:
    for section in SECTIONS:
        for field in section.fields:
            for row in range(section.rows) if section.rows else (None,):
                if section.name(field, row) == path:
                    return section, field, row
    return None


def field_label(path: str) -> str:
    """A field of the application as the form labels it (`application.shareholders.0.nationality`:
    股东（发起人） 第 1 位·国籍); the path itself where the form has no such field."""
    found = _field_at(path)
    if found is None:
        return path
    section, field, row = found
    return f"{section.title}{'' if row is None else f' 第 {row + 1} 位'}·{field.label}"


def requested(record: dict[str, Any]) -> list[dict[str, str]]:
    """What the notices of the steps waiting for the applicant name (一次性告知): each field or
    material once, with every reason given for it."""
    wanted: dict[str, dict[str, str]] = {}
    for step in record.get("steps", []):
        if step["status"] != "awaiting_applicant":
            continue
        for reason in step.get("reasons", []):
            target = reason.get("field") or ""
            if target.startswith("material:"):
                item = wanted.setdefault(target, {"name": target, "label": f"{target[9:]}（材料编号）", "why": ""})
            elif target.startswith("application."):
                item = wanted.setdefault(target, {"name": f"field:{target}", "label": field_label(target), "why": ""})
            else:
                continue
            item["why"] = "；".join(filter(None, (item["why"], reason["message"])))
    return list(wanted.values())


def supplements_from_form(form) -> dict[str, Any]:
    """The body of `POST /v1/cases/{case_id}/supplements`: each value typed as its field is (a
    list field one item a line), each material by its document's id."""
    items: list[dict[str, Any]] = []
    for key in form.keys():
        value = form.get(key, "").strip()
        if not value:
            continue
        if key.startswith("field:"):
            path = key[6:]
            found = _field_at(path)
            typed: Any = [line.strip() for line in value.splitlines() if line.strip()] \
                if found and found[1].kind in ("lines", "choices") else value
            items.append({"field": path, "value": typed})
        elif key.startswith("material:"):
            items.append({"material": key[9:], "document_id": value})
    return {"items": items}
