"""When registration registers a change (变更登记), and why it refuses. Pure functions: the
enterprise as registered and the change in; reasons, the changed fields and the state after out.
Each part is checked by the same rules as in an establishment, against the enterprise as it
will stand after the change."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, Mapping

from yjs_contracts import catalogue
from yjs_contracts.api import ChangeApplication, EnterpriseType, Officer, OfficerRole, Reason, Shareholder
from yjs_contracts.events import ChangedField

from . import rules
from .rules import DIRECTOR_ROLES, ROLE_TITLES, _reason


@dataclass(frozen=True)
class Registered:
    """The enterprise as the register holds it (before or after a change)."""

    name: str
    type: EnterpriseType
    domicile: dict[str, Any]
    registered_capital: Decimal | None
    legal_representative: str
    legal_representative_id: str | None
    business_scope: tuple[str, ...]
    shareholders: tuple[dict[str, Any], ...] | None  # None: not kept (registered before they were)
    officers: tuple[dict[str, Any], ...] | None


def registered(row: Mapping[str, Any], legal_representative_id: str | None) -> Registered:
    return Registered(
        name=row["name"], type=EnterpriseType(row["type"]),
        domicile=row["domicile"] or {"division_code": row["division_code"]},
        registered_capital=None if row["registered_capital"] is None else Decimal(str(row["registered_capital"])), legal_representative=row["legal_representative"],
        legal_representative_id=legal_representative_id, business_scope=tuple(row["business_scope"] or ()),
        shareholders=None if row["shareholders"] is None else tuple(row["shareholders"]),
        officers=None if row["officers"] is None else tuple(row["officers"]))


def after(current: Registered, app: ChangeApplication) -> Registered:
    """The enterprise as it stands once the change is registered."""
    c = app.changes
    return replace(
        current,
        name=c.name.name if c.name else current.name,
        domicile=c.domicile.model_dump(mode="json") if c.domicile else current.domicile,
        registered_capital=c.registered_capital if c.registered_capital is not None else current.registered_capital,
        legal_representative=c.legal_representative.name if c.legal_representative else current.legal_representative,
        legal_representative_id=(c.legal_representative.id_number if c.legal_representative
                                 else current.legal_representative_id),
        business_scope=tuple(c.business_scope) if c.business_scope is not None else current.business_scope,
        shareholders=(tuple(s.model_dump(mode="json") for s in c.shareholders) if c.shareholders is not None
                      else current.shareholders),
        officers=tuple(o.model_dump(mode="json") for o in c.officers) if c.officers is not None else current.officers)


def _shown(field: str, state: Registered) -> Any:
    """A field's value as the record shows it: people by name, no ID numbers."""
    if field == "registered_capital":
        return None if state.registered_capital is None else f"{state.registered_capital:.2f}"
    if field == "business_scope":
        return list(state.business_scope)
    if field == "shareholders":
        return [{"name": s["name"], "subscribed_amount": str(s["subscribed_amount"])} for s in state.shareholders or ()]
    if field == "officers":
        return [{"role": o["role"], "name": o["name"]} for o in state.officers or ()]
    if field == "legal_representative":
        return state.legal_representative
    return getattr(state, field)


def _compared(field: str, state: Registered) -> Any:
    if field == "legal_representative":
        return state.legal_representative_id
    if field in ("shareholders", "officers"):
        return getattr(state, field)
    return _shown(field, state)


def changed_fields(current: Registered, app: ChangeApplication) -> list[ChangedField]:
    """Each change that alters something, with its old and new value; one that restates what is
    registered is no change."""
    new = after(current, app)
    return [ChangedField(field=f, old=_shown(f, current), new=_shown(f, new))
            for f in app.changes.fields() if _compared(f, current) != _compared(f, new)]


def enterprise_reasons(status: str | None) -> list[Reason]:
    if status is None:
        return [_reason("enterprise_unknown", "登记机关未查询到该统一社会信用代码的企业", "uscc")]
    if status != "registered":
        return [_reason("enterprise_not_registered", "该企业已注销或被撤销登记，不能办理变更", "uscc")]
    return []


def change_reasons(current: Registered, app: ChangeApplication, today: date) -> list[Reason]:
    """Every rule the change fails, all at once (一次性告知)."""
    c, new = app.changes, after(current, app)
    reasons: list[Reason] = []
    if c.name:
        reasons += rules.name_rule_reasons(c.name.name, c.name.name_parts, current.type,
                                           new.domicile["division_code"], "changes.name")
    reasons += _id_number_reasons(c.legal_representative, c.shareholders, c.officers)
    if c.registered_capital is not None and current.registered_capital is not None \
            and c.registered_capital < current.registered_capital \
            and not app.capital_reduction_reason:
        reasons.append(_reason("capital_reduction_reason_missing",
                               f"注册资本由 {current.registered_capital:.2f} 元减少至 {c.registered_capital:.2f} 元，"
                               "应说明减资原因", "capital_reduction_reason"))
    if (c.registered_capital is not None or c.shareholders is not None) and new.shareholders is not None:
        subscribed = sum((Decimal(str(s["subscribed_amount"])) for s in new.shareholders), Decimal("0"))
        if subscribed != new.registered_capital:
            reasons.append(_reason("subscriptions_mismatch",
                                   f"变更后股东认缴出资合计 {subscribed:.2f} 元，与注册资本 {new.registered_capital:.2f} 元不符",
                                   "changes.shareholders" if c.shareholders is not None else "changes.registered_capital"))
    if (c.legal_representative or c.officers is not None) and new.officers is not None:
        reasons += _people_reasons(new, current.type)
    if c.business_scope is not None:
        reasons += [_reason("unknown_scope_item", f"“{item}”不是经营范围规范表述目录中的条目",
                            f"changes.business_scope.{i}")
                    for i, item in enumerate(c.business_scope) if not catalogue.is_known(item)]
    if not reasons and not changed_fields(current, app):
        reasons.append(_reason("nothing_changed", "申请变更的事项与登记的内容相同，无需变更", "changes"))
    return reasons


def _id_number_reasons(legal, shareholders: list[Shareholder] | None, officers: list[Officer] | None) -> list[Reason]:
    people = [("changes.legal_representative.id_number", f"法定代表人{legal.name}", legal.id_number)] if legal else []
    people += [(f"changes.shareholders.{i}.id_number", f"股东{s.name}", s.id_number)
               for i, s in enumerate(shareholders or []) if s.id_number]
    people += [(f"changes.officers.{i}.id_number", f"{ROLE_TITLES[o.role]}{o.name}", o.id_number)
               for i, o in enumerate(officers or [])]
    return rules.people_id_number_reasons(people)


def _people_reasons(new: Registered, kind: EnterpriseType) -> list[Reason]:
    """Company Law art. 10 and 76, on the officers after the change: a director, the legal
    representative among the directors or the manager, no director or manager a supervisor."""
    officers = [(OfficerRole(o["role"]), o["name"], o["id_number"]) for o in new.officers or ()]
    reasons = []
    companies = (EnterpriseType.limited_liability_company, EnterpriseType.joint_stock_company)
    if kind in companies and not any(role in DIRECTOR_ROLES for role, _, _ in officers):
        reasons.append(_reason("no_director", "公司应设董事会或一名董事（执行董事）", "changes.officers"))
    runs_it = {number for role, _, number in officers if role in (*DIRECTOR_ROLES, OfficerRole.manager)}
    if kind in companies and new.legal_representative_id not in runs_it:
        reasons.append(_reason("legal_representative_not_director_or_manager",
                               f"变更后的法定代表人{new.legal_representative}应由代表公司执行公司事务的董事或者经理担任",
                               "changes.legal_representative"))
    others = {number: role for role, _, number in officers if role != OfficerRole.supervisor}
    reasons += [_reason("supervisor_also_director_or_manager",
                        f"监事{name}同时担任{ROLE_TITLES[others[number]]}，董事、经理不得兼任监事",
                        f"changes.officers.{i}.id_number")
                for i, (role, name, number) in enumerate(officers)
                if role == OfficerRole.supervisor and number in others]
    return reasons


def objection_reasons(notice: Mapping[str, Any] | None) -> list[Reason]:
    """Creditors objected to a capital reduction while its notice ran: registration staff weigh
    each before the reduction is registered (人工审核)."""
    return [Reason(code="creditor_objection", field="step:deregistration.reduction_notice",
                   message=f"减资公告期内收到异议（异议人：{o['name']}）：{o['reason']}")
            for o in (notice or {}).get("objections", [])]
