"""Valid sample applications, for the demo, the tests and the benchmark."""

from __future__ import annotations

from datetime import date
from typing import Any

from .codes import make_id_number

_CHARS = "安邦诚达丰和恒华嘉锦俊凯康乐力隆茂明鹏启瑞盛顺泰通伟祥新兴旭雅益永裕远源悦泽正志智众卓"


def unique_trade_name(n: int) -> str:
    """A distinct four-character 字号 for each n (base-len(_CHARS) digits)."""
    base = len(_CHARS)
    digits = []
    for _ in range(4):
        n, r = divmod(n, base)
        digits.append(_CHARS[r])
    if n:
        raise ValueError("n too large for four characters")
    return "".join(reversed(digits))


def person(seq: int, birth: date = date(1985, 6, 15)) -> str:
    return make_id_number("330402", birth, seq % 1000)


#: the legal representative of every sample establishment (张伟): the identity a token needs to
#: act for the enterprise it registers
LEGAL_REPRESENTATIVE_ID = person(11)


def establishment_application(
    trade_name: str = "红船",
    *,
    seals: tuple[str, ...] = ("official", "finance", "invoice", "contract", "legal_representative"),
    bank_account: bool = True,
    social_insurance: bool = True,
    capital: str = "1000000.00",
    scope: tuple[str, ...] = ("软件开发", "信息技术咨询服务"),
    commitments: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`commitments`: the licensed items the applicant signs a 告知承诺 for."""
    legal = LEGAL_REPRESENTATIVE_ID
    supervisor = person(22, date(1990, 2, 28))
    finance = person(33, date(1992, 11, 3))
    return {
        "enterprise": {
            "name": f"嘉兴{trade_name}数字科技有限公司",
            "name_parts": {"region": "嘉兴", "trade_name": trade_name, "industry": "数字科技", "form": "有限公司"},
            "type": "limited_liability_company",
            "domicile": {"address": "浙江省嘉兴市南湖区广益路1号", "division_code": "330402"},
            "registered_capital": capital,
            "business_scope": list(scope),
        },
        "legal_representative": {"name": "张伟", "id_number": legal, "mobile": "13800000000"},
        "shareholders": [{
            "kind": "natural_person", "name": "张伟", "id_number": legal,
            "subscribed_amount": capital, "contribution_form": "currency", "contribution_deadline": "2030-12-31",
        }],
        "officers": [
            {"role": "executive_director", "name": "张伟", "id_number": legal},
            {"role": "supervisor", "name": "李娜", "id_number": supervisor},
        ],
        "contacts": {
            "liaison": {"name": "李娜", "mobile": "13900000000"},
            "finance_officer": {"name": "王芳", "id_number": finance, "mobile": "13700000000"},
            "tax_handler": {"name": "王芳", "id_number": finance, "mobile": "13700000000"},
        },
        "seals": list(seals),
        "bank_account": {"bank": "中国工商银行", "branch": "嘉兴南湖支行"} if bank_account else None,
        "tax": {"taxpayer_type": "small_scale", "invoices": ["ordinary"]},
        "commitments": list(commitments),
        "social_insurance": {"employees": 2} if social_insurance else None,
    }


def deregistration_application(uscc: str, route: str = "simple") -> dict[str, Any]:
    """注销 of the enterprise `uscc`: 简易注销 with both commitments signed, or 一般注销 with a
    liquidation group of one."""
    return {
        "uscc": uscc, "route": route, "reason": "股东会决议解散",
        "commitments": {"debts_settled": route == "simple", "investors_agree": True},
        "liquidation_group": [{"name": "张伟", "id_number": person(11)}] if route == "general" else [],
    }


#: the legal representative a sample change brings in (陈静), a director after the change
NEW_LEGAL_REPRESENTATIVE_ID = person(44, date(1988, 8, 8))


def change_application(uscc: str, trade_name: str | None = None, *, new_legal_representative: bool = True,
                       **changes: Any) -> dict[str, Any]:
    """变更 of a sample enterprise: a new name under `trade_name` (嘉兴<字号>餐饮管理有限公司), and a
    new legal representative 陈静 who becomes the executive director; `changes` adds others."""
    body: dict[str, Any] = dict(changes)
    if trade_name:
        body["name"] = {"name": f"嘉兴{trade_name}餐饮管理有限公司", "name_parts": {
            "region": "嘉兴", "trade_name": trade_name, "industry": "餐饮管理", "form": "有限公司"}}
    if new_legal_representative:
        new = NEW_LEGAL_REPRESENTATIVE_ID
        body["legal_representative"] = {"name": "陈静", "id_number": new, "mobile": "13600000000"}
        body["officers"] = [{"role": "executive_director", "name": "陈静", "id_number": new},
                            {"role": "supervisor", "name": "李娜", "id_number": person(22, date(1990, 2, 28))}]
    return {"uscc": uscc, "changes": body}


def _nanhu_enterprise(trade_name: str, industry: str, form: str, kind: str, address: str, scope: list[str],
                      capital: str | None) -> dict[str, Any]:
    """An entity in 嘉兴市南湖区 named 嘉兴市南湖区<字号><industry><form>; no capital when None."""
    enterprise: dict[str, Any] = {
        "name": f"嘉兴市南湖区{trade_name}{industry}{form}",
        "name_parts": {"region": "嘉兴市南湖区", "trade_name": trade_name, "industry": industry, "form": form},
        "type": kind, "domicile": {"address": address, "division_code": "330402"}, "business_scope": scope,
    }
    if capital is not None:
        enterprise["registered_capital"] = capital
    return enterprise


def individual_business_application(trade_name: str = "禾丰", *, family: bool = False,
                                    seals: tuple[str, ...] = ("official",), bank_account: bool = False,
                                    funds: str | None = "50000.00", employees: int | None = None) -> dict[str, Any]:
    """个体工商户: 嘉兴市南湖区<字号>百货店, run by 张伟 (with his spouse when `family`); seals,
    an account and social insurance (for `employees` hired) only when asked for."""
    operator: dict[str, Any] = {"name": "张伟", "id_number": LEGAL_REPRESENTATIVE_ID, "mobile": "13800000000"}
    if family:
        operator |= {"operation": "family", "family_members": [{"name": "李娜", "id_number": person(22, date(1990, 2, 28))}]}
    enterprise = _nanhu_enterprise(trade_name, "百货", "店", "individual_business", "浙江省嘉兴市南湖区禾兴南路8号",
                                   ["日用百货销售", "办公用品销售"], funds)
    return {
        "enterprise": enterprise, "operator": operator,
        "contacts": {"liaison": {"name": "张伟", "mobile": "13800000000"}},
        "seals": list(seals),
        "bank_account": {"bank": "中国工商银行", "branch": "嘉兴南湖支行"} if bank_account else None,
        "tax": {"taxpayer_type": "small_scale", "invoices": ["ordinary"]},
        "social_insurance": {"employees": employees} if employees is not None else None,
    }


def cooperative_members(count: int = 5, others: int = 0, contribution: str | None = "20000.00") -> list[dict[str, Any]]:
    """`count` members, the first (张伟) the 理事长, the last `others` of them not farmers."""
    members = []
    for i in range(count):
        number = LEGAL_REPRESENTATIVE_ID if i == 0 else person(100 + i, date(1970 + i % 30, 3, 1))
        member: dict[str, Any] = {"name": "张伟" if i == 0 else f"成员{i}", "id_number": number,
                                  "kind": "other" if i >= count - others else "farmer"}
        if contribution is not None:
            member["contribution"] = contribution
        members.append(member)
    return members


def cooperative_application(trade_name: str = "禾丰", *, members: list[dict[str, Any]] | None = None,
                            capital: str | None = "100000.00") -> dict[str, Any]:
    """农民专业合作社: 嘉兴市南湖区<字号>果蔬专业合作社, five farmer members contributing 20,000 each,
    张伟 its 理事长; seals, tax and a bank account as a company's."""
    enterprise = _nanhu_enterprise(trade_name, "果蔬", "专业合作社", "farmers_cooperative", "浙江省嘉兴市南湖区凤桥镇联丰村1号",
                                   ["技术推广", "普通货物仓储服务（不含危险化学品等需许可审批的项目）"], capital)
    return {
        "enterprise": enterprise,
        "legal_representative": {"name": "张伟", "id_number": LEGAL_REPRESENTATIVE_ID, "mobile": "13800000000"},
        "members": cooperative_members() if members is None else members,
        "contacts": {"liaison": {"name": "张伟", "mobile": "13800000000"},
                     "finance_officer": {"name": "王芳", "id_number": person(33, date(1992, 11, 3)), "mobile": "13700000000"}},
        "seals": ["official", "finance", "legal_representative"],
        "bank_account": {"bank": "中国农业银行", "branch": "嘉兴南湖支行"},
        "tax": {"taxpayer_type": "small_scale", "invoices": ["ordinary"]},
    }
