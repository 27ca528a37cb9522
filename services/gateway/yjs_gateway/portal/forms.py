"""The application forms (企业开办, 行业准营, 变更登记, 企业注销): their fields named by the API's own
paths (`application.enterprise.registered_capital`), so the submission body is read straight off
the form and every refusal the API names lands next to the field it names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from yjs_contracts import catalogue
from yjs_contracts.api import (ENTERPRISE_MATTERS, INVESTED_TYPES, ContributionForm, InvoiceKind, OfficerRole, SealType,
                               TaxpayerType)
from yjs_contracts.words import ENTERPRISE_TYPE_TITLES, MATTER_TITLES, OFFICER_ROLE_WORDS, SEAL_TITLES, VALUE_WORDS

CONTRIBUTION_WORDS = {"currency": "货币", "in_kind": "实物", "intellectual_property": "知识产权",
                      "land_use_right": "土地使用权", "equity": "股权", "claim": "债权"}
SHAREHOLDER_KIND_WORDS = {"natural_person": "自然人", "entity": "企业或其他组织"}


def _options(values, words) -> tuple[tuple[str, str], ...]:
    return tuple((str(v), words[str(v)]) for v in values)


@dataclass(frozen=True)
class Field:
    key: str  # the path under its section; "" for the section's own value (a list)
    label: str
    #: text, tel, select, choices (check boxes), lines (one item a line), paragraph (free text),
    #: flag (one check box: true or false), date, count (a whole number)
    kind: str = "text"
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    autocomplete: str = "off"
    #: a few words beside some options (what a scope item needs), by option
    notes: tuple[tuple[str, str], ...] = ()


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


def _permit_words(item: str) -> str:
    permits = [catalogue.CURRENT.permits[code] for code in catalogue.CURRENT.items[item].permits]
    return "需办理" + "、".join(f"{p.name}（{catalogue.MODE_TITLES[p.mode]}）" for p in permits)


def _commitment_words(item: str) -> str:
    permits = [catalogue.CURRENT.permits[code] for code in catalogue.CURRENT.items[item].permits]
    return "承诺已具备" + "、".join(p.name for p in permits if p.mode == catalogue.PermitMode.commitment) + \
        "规定的条件：当场发证，事后核查，承诺不实的予以撤销"


_ITEMS = catalogue.CURRENT.items
#: 经营范围规范表述目录: the general items first, then each licensed one with the permits it needs
SCOPE_OPTIONS = tuple((n, n) for n, i in _ITEMS.items() if not i.licensed) + \
    tuple((n, n) for n, i in _ITEMS.items() if i.licensed)
LICENSED_OPTIONS = tuple((n, n) for n, i in _ITEMS.items() if i.licensed)
SCOPE_NOTES = tuple((n, _permit_words(n)) for n, _ in LICENSED_OPTIONS)
#: the items with a permit issued on a signed 告知承诺
COMMITMENT_OPTIONS = tuple((n, n) for n, i in _ITEMS.items() if any(
    catalogue.CURRENT.permits[code].mode == catalogue.PermitMode.commitment for code in i.permits))
COMMITMENT_NOTES = tuple((n, _commitment_words(n)) for n, _ in COMMITMENT_OPTIONS)
COMMITMENTS = Section("application.commitments", "告知承诺", (
    Field("", "签署告知承诺的项目", "choices", COMMITMENT_OPTIONS, notes=COMMITMENT_NOTES),),
    hint="经营范围中实行告知承诺的许可项目：勾选即签署承诺书，许可当场发放。不含这些项目的不必勾选。")

PERSON = (Field("name", "姓名", autocomplete="name"),
          Field("id_number", "公民身份号码", hint="18 位，末位可为 X"))
MOBILE = Field("mobile", "手机号码", "tel", hint="11 位", autocomplete="tel")
USCC = Section("application.uscc", "企业", (Field("", "统一社会信用代码", hint="18 位，见营业执照"),))
NAME_PARTS = (Field("name_parts.region", "行政区划", hint="如：嘉兴"),
              Field("name_parts.trade_name", "字号", hint="如：红船"),
              Field("name_parts.industry", "行业表述", hint="如：数字科技"),
              Field("name_parts.form", "组织形式", hint="如：有限公司"))
DOMICILE = (Field("domicile.address", "住所", hint="省、市、区、街道门牌号", autocomplete="street-address"),
            Field("domicile.division_code", "住所行政区划代码", hint="6 位，如 330402"))
SHAREHOLDER = (
    Field("kind", "股东类型", "select", _options(("natural_person", "entity"), SHAREHOLDER_KIND_WORDS)),
    Field("name", "姓名或名称"),
    Field("id_number", "公民身份号码", hint="自然人股东填写"),
    Field("uscc", "统一社会信用代码", hint="企业或其他组织股东填写"),
    Field("nationality", "国籍", hint="外方投资者填写 ISO 3166 三字母代码，如 USA；中国投资者留空"),
    Field("subscribed_amount", "认缴出资额（元）"),
    Field("contribution_form", "出资方式", "select", _options(ContributionForm, CONTRIBUTION_WORDS)),
    Field("contribution_deadline", "出资期限", hint="YYYY-MM-DD，如 2030-12-31"),
)
OFFICER = (Field("role", "职务", "select", _options(OfficerRole, OFFICER_ROLE_WORDS)), *PERSON)

SECTIONS: tuple[Section, ...] = (
    Section("application.enterprise", "企业基本信息", (
        *NAME_PARTS,
        # this form asks for investors and officers: the types that have them (a 个体工商户 or a 合作社 applies through the API)
        Field("type", "企业类型", "select", _options(INVESTED_TYPES, ENTERPRISE_TYPE_TITLES)),
        *DOMICILE,
        Field("registered_capital", "注册资本（元）", hint="如：1000000.00"),
        Field("business_scope", "经营范围", "choices", SCOPE_OPTIONS, "按经营范围规范表述目录勾选；许可项目注明须办理的许可",
              notes=SCOPE_NOTES),
    ), hint="企业名称由行政区划、字号、行业表述和组织形式依次组成。"),
    Section("application.legal_representative", "法定代表人", (*PERSON, MOBILE)),
    Section("application.shareholders", "股东（发起人）", SHAREHOLDER, rows=3, hint="至少一位股东；不用的行留空。"),
    Section("application.officers", "董事、监事、经理", OFFICER, rows=3, hint="不用的行留空。"),
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
    COMMITMENTS,
)

LICENSING_SECTIONS: tuple[Section, ...] = (
    USCC,
    Section("application.business_scope", "申请许可的经营项目", (
        Field("", "经营项目", "choices", LICENSED_OPTIONS, notes=SCOPE_NOTES),),
        hint="按经营范围规范表述目录勾选须办理许可的项目；同属一个行业的许可合并为一张行业综合许可证。"),
    COMMITMENTS,
)

ROUTE_WORDS = {"simple": "简易注销", "general": "一般注销"}
DEREGISTRATION_SECTIONS: tuple[Section, ...] = (
    USCC,
    Section("application.route", "注销方式", (Field("", "注销方式", "select", tuple(ROUTE_WORDS.items()),
                                                  "简易注销：未开业或无债权债务，公告 20 日；一般注销：成立清算组清算"),)),
    Section("application.reason", "注销原因", (Field("", "注销原因", "paragraph", hint="如：股东会决议解散"),)),
    Section("application.commitments", "承诺", (
        Field("debts_settled", "本企业债权债务已清算完结", "flag", hint="简易注销须作此承诺"),
        Field("investors_agree", "全体投资人同意注销", "flag"))),
    Section("application.liquidation_group", "清算组成员", PERSON, rows=3,
            hint="一般注销填写；不用的行留空。"),
)

CHANGE_SECTIONS: tuple[Section, ...] = (
    USCC,
    Section("application.changes.name", "名称变更", NAME_PARTS, optional=True, hint="名称不变则留空。"),
    Section("application.changes.domicile", "住所变更", tuple(Field(f.key.partition(".")[2], f.label, hint=f.hint)
                                                        for f in DOMICILE), optional=True, hint="住所不变则留空。"),
    Section("application.changes.legal_representative", "法定代表人变更", (*PERSON, MOBILE), optional=True,
            hint="新的法定代表人须为董事或经理，请一并填写变更后的董事、监事、经理。"),
    Section("application.changes.registered_capital", "注册资本变更", (Field("", "变更后的注册资本（元）", hint="如：2000000.00"),),
            optional=True),
    Section("application.capital_reduction_reason", "减资原因", (Field("", "减资原因", "paragraph", hint="减资须说明理由，公示 45 日"),),
            optional=True),
    Section("application.changes.business_scope", "经营范围变更", (
        Field("", "变更后的经营范围", "choices", SCOPE_OPTIONS, notes=SCOPE_NOTES),), optional=True,
        hint="勾选变更后的全部经营项目；不变则都不勾。"),
    Section("application.changes.shareholders", "股东变更", SHAREHOLDER, rows=3, optional=True,
            hint="填写变更后的全部股东；不变则留空。"),
    Section("application.changes.officers", "董事、监事、经理变更", OFFICER, rows=3, optional=True,
            hint="填写变更后的全部人员；不变则留空。"),
    Section("application.equity_transfers", "股权转让", (
        Field("transferor_kind", "转让方类型", "select", _options(("natural_person", "entity"), SHAREHOLDER_KIND_WORDS)),
        Field("transferor_name", "转让方"), Field("transferor_id_number", "转让方公民身份号码", hint="自然人转让方填写"),
        Field("transferee_name", "受让方"), Field("amount", "转让的认缴出资额（元）"), Field("price", "转让价格（元）"),
        Field("tax_receipt", "完税凭证号", hint="自然人股东转让股权，须先完税"),
    ), rows=2, optional=True, hint="股东变更因股权转让的填写；不用的行留空。"),
    COMMITMENTS,
)


@dataclass(frozen=True)
class MatterForm:
    """One matter's application form, sent as `POST /v1/cases`."""

    matter: str
    title: str
    intro: str
    sections: tuple[Section, ...]
    defaults: Mapping[str, Any]
    #: where the application's enterprise name is composed from the parts the form asks for
    names: tuple[str, ...] = ()
    #: left out of the form, sent as null (the API's word for "none asked for")
    nulls: tuple[str, ...] = ()

    @property
    def aliases(self) -> dict[str, str]:
        """Errors about a value the form composes rather than asks for, shown where it is composed from."""
        return {f"{path}.name": f"{path}.name_parts.trade_name" for path in self.names}


ESTABLISHMENT = MatterForm(
    "establishment", "企业开办", "一表填写，设立登记、刻章、税务、开户并联办理；经营范围含许可项目的，一并申领许可。",
    SECTIONS, {
        "application.enterprise.name_parts.form": "有限公司",
        "application.shareholders.0.contribution_form": "currency",
        "application.officers.0.role": "executive_director",
        "application.officers.1.role": "supervisor",
        "application.officers.2.role": "manager",
        "application.seals": [s.value for s in SealType],
        "application.tax.invoices": ["ordinary"],
        "application.social_insurance.employees": "0",
    }, names=("application.enterprise",), nulls=("bank_account", "social_insurance"))
LICENSING = MatterForm(
    "licensing", "行业准营", "已登记企业按经营项目一次申领所需许可；实行告知承诺的，签署承诺即当场发证。",
    LICENSING_SECTIONS, {})
CHANGE = MatterForm(
    "change", "变更登记", "只填写要变更的事项，不变的留空；印章、税务、银行账户和许可随之变更。",
    CHANGE_SECTIONS, {}, names=("application.changes.name",))
DEREGISTRATION = MatterForm(
    "deregistration", "企业注销", "注销登记、清税、销户、印章缴销一并办理；简易注销须先公告。",
    DEREGISTRATION_SECTIONS, {"application.route": "simple"})
MATTER_FORMS = {form.matter: form for form in (ESTABLISHMENT, LICENSING, CHANGE, DEREGISTRATION)}
#: the establishment form's first values, as before the forms of other matters
DEFAULTS = ESTABLISHMENT.defaults
#: what a row's select boxes say by default, and an unticked box, do not make the row filled in
_DEFAULTED = ("select", "flag")


def _rows(section: Section) -> range | tuple[None]:
    return range(section.rows) if section.rows else (None,)


def field_names(sections: tuple[Section, ...] = SECTIONS) -> list[str]:
    return [section.name(field, row) for section in sections for row in _rows(section) for field in section.fields]


def _value(form, section: Section, field: Field, row: int | None) -> Any:
    name = section.name(field, row)
    if field.kind == "choices":
        return [v for v in form.getlist(name) if v]
    if field.kind == "flag":
        return form.get(name) == "true"  # a signed commitment is a real true, an unticked box false
    text = form.get(name, "")
    if field.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if field.kind == "count" and text.strip().isascii() and text.strip().isdigit():
        return int(text.strip())  # anything else goes to the API as typed, which names what is wrong
    return text.strip()


def _record(form, section: Section, row: int | None) -> tuple[dict[str, Any], bool]:
    """One section's (or row's) values, nested by their dotted keys, and whether anything was filled in."""
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
    return record, filled


def submission_from_form(form, spec: MatterForm = ESTABLISHMENT) -> tuple[dict[str, Any], dict[str, str]]:
    """The body of `POST /v1/cases` the form says, and how the application's list rows map back
    to the form's (a blank row left out shifts those after it)."""
    application: dict[str, Any] = {}
    rows: dict[str, str] = {}
    for section in spec.sections:
        keys = section.path.split(".")[1:]
        if section.rows:
            value = []
            for row in range(section.rows):
                record, filled = _record(form, section, row)
                if filled:
                    rows[f"{section.path}.{len(value)}"] = f"{section.path}.{row}"
                    value.append(record)
            if not value and section.optional:
                continue
        elif not section.fields[0].key:
            value = _value(form, section, section.fields[0], None)
            if section.optional and value in ("", []):
                continue
        else:
            value, filled = _record(form, section, None)
            if not filled and section.optional:
                continue
        node = application
        for part in keys[:-1]:
            node = node.setdefault(part, {})
        node[keys[-1]] = value
    for path in spec.names:
        node = _at(application, path.split(".")[1:])
        parts = node.get("name_parts") if isinstance(node, dict) else None
        if parts:
            node["name"] = "".join(parts.get(k, "") for k in ("region", "trade_name", "industry", "form"))
    for key in spec.nulls:
        application.setdefault(key, None)
    return {"matter": spec.matter, "application": application}, rows


def _at(node: Any, keys: list[str]) -> Any:
    for part in keys:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def place_errors(details, rows: dict[str, str], spec: MatterForm = ESTABLISHMENT) -> tuple[dict[str, list[str]], list[str]]:
    """Each refusal by the form field it names (the nearest one, for a refusal of a whole row or
    list); what names no field of the form is said at the top."""
    names = set(field_names(spec.sections)) | {s.path for s in spec.sections} | {
        f"{s.path}.{row}" for s in spec.sections for row in range(s.rows)}
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for detail in details:
        field = spec.aliases.get(detail["field"], detail["field"])
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


def form_values(form, sections: tuple[Section, ...] = SECTIONS) -> dict[str, Any]:
    """What the person typed, to fill the form again."""
    values: dict[str, Any] = {}
    for section in sections:
        for row in _rows(section):
            for field in section.fields:
                name = section.name(field, row)
                values[name] = form.getlist(name) if field.kind == "choices" else form.get(name, "")
    return values


def form_from_application(application: dict[str, Any], sections: tuple[Section, ...] = SECTIONS) -> dict[str, Any]:
    """The form's fields filled from an application (the inverse of `submission_from_form`)."""
    values: dict[str, Any] = {}
    for section in sections:
        node = _at({"application": application}, section.path.split("."))
        records = (list(enumerate(node or []))[:section.rows] if section.rows else [(None, node)])
        for row, record in records:
            for field in section.fields:
                value = _at(record, list(filter(None, field.key.split("."))))
                if value is None:
                    continue
                name = section.name(field, row)
                if field.kind == "flag":
                    value = "true" if value is True else ""
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


MISSING_ROWS = 2
_CHINA_MINUTE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[ T]([0-9]{2}:[0-9]{2})")


def china_minute_to_iso(text: str) -> str:
    """A due time typed as staff read times (`2026-12-04 17:00`, Beijing time) in ISO 8601 with
    its offset; anything else is sent as typed, for the API to name."""
    found = _CHINA_MINUTE.fullmatch(text)
    return f"{found.group(1)}T{found.group(2)}:00+08:00" if found else text


def decision_from_form(form) -> dict[str, Any]:
    """The body of `POST /v1/departments/{department}/reviews/{review_id}/decision`; a reason row
    with neither message nor field is left out, so is a 容缺 row with neither material nor message."""
    decision = form.get("decision", "")
    reasons = []
    for row in range(REASON_ROWS):
        message, field = form.get(f"reasons.{row}.message", "").strip(), form.get(f"reasons.{row}.field", "").strip()
        if message or field:
            reasons.append({"code": REASON_CODES.get(decision, "staff"), "message": message, "field": field or None})
    body: dict[str, Any] = {"decision": decision, "reasons": reasons}
    missing = []
    for row in range(MISSING_ROWS):
        material = form.get(f"missing_materials.{row}.material", "").strip()
        message = form.get(f"missing_materials.{row}.message", "").strip()
        if material or message:
            missing.append({k: v for k, v in (("material", material), ("message", message)) if v})
    if missing:
        body["missing_materials"] = missing
    due = form.get("materials_due", "").strip()
    if due:
        body["materials_due"] = china_minute_to_iso(due)
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


# -- 授权经办: an agent for some matters of an enterprise ---------------------------------------

#: the matters an agent may be authorised for: those about an existing enterprise
AGENT_MATTERS = tuple((m, MATTER_TITLES[m]) for m in ENTERPRISE_MATTERS)
#: the fields of a form whose values are lists (check boxes)
LIST_FIELDS = ("matters",)


def body_of(form, fields: tuple[str, ...]) -> dict[str, Any]:
    """A small form's body: a field left empty is left out, so the API names it as 必填."""
    body: dict[str, Any] = {}
    for name in fields:
        value: Any = [v for v in form.getlist(name) if v] if name in LIST_FIELDS else form.get(name, "").strip()
        if value:
            body[name] = value
    return body


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


# -- 事后核查 of a 告知承诺 permit, and what follows a bad rating (差评督办) ----------------------

CHECK_REASON_ROWS = 2
#: the code a staff member's finding carries, by result
CHECK_REASON_CODES = {"rectify": "rectification_ordered", "false_commitment": "false_commitment"}
#: the small forms after a decision: a field left empty is left out, so the API names it as 必填
FOLLOW_UP_ANSWER = ("response",)
RATING_APPEAL = ("reason",)
FOLLOW_UP_VERDICT = ("verdict", "comment")
APPEAL_DECISION = ("decision", "reason")


def check_result_from_form(form) -> dict[str, Any]:
    """The body of `POST /v1/departments/{department}/checks/{check_id}/result`: the findings typed
    (a blank row left out), the rectification deadline typed in Beijing time."""
    result = form.get("result", "")
    body: dict[str, Any] = {"result": result}
    reasons = [{"code": CHECK_REASON_CODES.get(result, "check_finding"), "message": message}
               for message in (form.get(f"reasons.{row}.message", "").strip() for row in range(CHECK_REASON_ROWS))
               if message]
    if reasons:
        body["reasons"] = reasons
    rectify_by = form.get("rectify_by", "").strip()
    if rectify_by:
        body["rectify_by"] = china_minute_to_iso(rectify_by)
    return body
