"""Matters as plans, and the one function that turns an application into its plan.

A matter is a small graph of steps declared as data: each step names the steps it waits for
and, where it is optional, the predicate that puts it in the plan. Every service imports this
module, so the case service and the departments always agree on the plan."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from . import catalogue
from .calendar import add_working_days
from .steps import STEP_KINDS

CHINA = ZoneInfo("Asia/Shanghai")


class PlanOptions(BaseModel):
    """Regional switches. 数电发票 makes the 发票专用章 unnecessary for the invoice grant where a
    region says so."""

    invoice_grant_needs_invoice_seal: bool = True


Condition = Callable[[dict[str, Any], PlanOptions], bool]


def always(application: dict[str, Any], options: PlanOptions) -> bool:
    return True


def seals_requested(application: dict[str, Any], options: PlanOptions) -> bool:
    return bool(application.get("seals"))


def invoice_seal_required(application: dict[str, Any], options: PlanOptions) -> bool:
    return options.invoice_grant_needs_invoice_seal and "invoice" in (application.get("seals") or [])


def account_requested(application: dict[str, Any], options: PlanOptions) -> bool:
    return application.get("bank_account") is not None


def social_insurance_requested(application: dict[str, Any], options: PlanOptions) -> bool:
    """Registered with the establishment unless the applicant opted out (`"social_insurance": null`)."""
    return application.get("social_insurance", {}) is not None


def scope_needs_permits(application: dict[str, Any], options: PlanOptions) -> bool:
    """A licensing step when some scope item needs a filing, a commitment or an approval; items
    whose approval was cancelled (直接取消审批) need nothing, so a scope of only those needs no step."""
    scope = application.get("business_scope") or application.get("enterprise", {}).get("business_scope", [])
    return bool(catalogue.items_needing_permits(scope))


def general_route(application: dict[str, Any], options: PlanOptions) -> bool:
    return application.get("route") == "general"


def _changes(application: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (application.get("changes") or {}).items() if v is not None}


def name_or_legal_representative_changes(application: dict[str, Any], options: PlanOptions) -> bool:
    """The seals bear the name (公章, 专用章) or the person (法定代表人名章); the bank keeps both."""
    return bool(_changes(application).keys() & {"name", "legal_representative"})


def permit_holder_changes(application: dict[str, Any], options: PlanOptions) -> bool:
    """Permits name the enterprise and its premises, and cover scope items."""
    return bool(_changes(application).keys() & {"name", "domicile", "business_scope"})


def natural_person_transfers(application: dict[str, Any], options: PlanOptions) -> bool:
    """个人股东股权转让: tax confirms the income tax on it before registration records it."""
    return any(t.get("transferor_kind") == "natural_person" for t in application.get("equity_transfers") or [])


def capital_reduction(application: dict[str, Any], options: PlanOptions) -> bool:
    """减资: announced to creditors (45 days, 公司法 art. 224) before registration records it; a
    reduction is one that says why (registration refuses one that does not)."""
    return bool(application.get("capital_reduction_reason")) and "registered_capital" in _changes(application)


@dataclass(frozen=True)
class After:
    step: str
    when: Condition = always


@dataclass(frozen=True)
class StepRule:
    step: str
    after: tuple[After, ...] = ()
    when: Condition = always
    working_days: float = 0.5  # 承诺时限, the promised limit
    #: 法定时限, the legal limit in working days from when the step could start, 补正 excluded;
    #: a law counting calendar days is taken at five working days a week
    legal_days: float = 20.0


@dataclass(frozen=True)
class Matter:
    name: str
    title: str
    steps: tuple[StepRule, ...]
    #: the matter's promised limit end to end (企业开办: 一日办结), 补正 excluded; MATTER_LIMITS overrides it
    working_days: float = 1.0
    #: the step that is the matter itself: once it took effect the case is at least partly done
    #: (企业开办: the company exists even if a permit is refused, 证照分离); refused, nothing is
    essential: str = ""
    #: the point of no return: once this step completed the case can no longer be withdrawn, and
    #: its department (not the case service's lagging copy) decides each withdrawal request.
    #: Empty: no step is past undoing, and a withdrawal takes effect at once
    pivot: str = ""


def _after(*steps: str | After) -> tuple[After, ...]:
    return tuple(s if isinstance(s, After) else After(s) for s in steps)


MATTERS: dict[str, Matter] = {
    matter.name: matter
    for matter in (
        Matter("establishment", "企业开办", (
            # 市场主体登记管理条例 第十九条: 3 working days
            StepRule("registration.establish", working_days=0.5, legal_days=3.0),
            StepRule("seal_carving.carve", _after("registration.establish"), seals_requested, 0.5, legal_days=1.0),
            # 税务登记管理办法: 30 days
            StepRule("tax.register", _after("registration.establish"), working_days=0.5, legal_days=20.0),
            StepRule("tax.grant_invoices",
                     _after("tax.register", After("seal_carving.carve", invoice_seal_required)), working_days=0.5,
                     legal_days=5.0),
            StepRule("bank_account.open", _after("registration.establish", "seal_carving.carve"),
                     account_requested, 1.0, legal_days=2.0),
            # 行政许可法 第四十二条: 20 working days (the default)
            StepRule("licensing.issue", _after("registration.establish"), scope_needs_permits, 5.0),
            # 单位参保登记 and 医保登记 under the new 统一社会信用代码
            StepRule("social_insurance.register", _after("registration.establish"), social_insurance_requested, 0.5),
        ), working_days=1.0, essential="registration.establish",
            pivot="registration.establish"),  # a registered company is closed by deregistration
        Matter("licensing", "行业准营", (
            StepRule("licensing.issue", working_days=5.0),
        ), working_days=5.0, essential="licensing.issue",
            pivot="licensing.issue"),  # a permit issued is taken back by revocation, not withdrawal
        Matter("deregistration", "企业注销", (
            # eligibility first, so nothing is cleared or published for an enterprise that may not close
            StepRule("deregistration.accept", working_days=0.5, legal_days=3.0),
            # the notice runs 20 (简易) or 45 (一般) calendar days inside its limit
            StepRule("deregistration.notice", _after("deregistration.accept"), working_days=35.0, legal_days=40.0),
            StepRule("tax.clear", _after("deregistration.accept"), working_days=1.0, legal_days=20.0),
            # 社保、医保注销, alongside 清税: refused while contributions are owed
            StepRule("social_insurance.close", _after("deregistration.accept"), working_days=1.0),
            # 一般注销: the liquidation report, once the creditors' claim period is over
            StepRule("deregistration.liquidation_report", _after("deregistration.notice"), general_route, 1.0),
            StepRule("registration.deregister",
                     _after("deregistration.notice", "tax.clear", "social_insurance.close",
                            "deregistration.liquidation_report"), working_days=3.0,
                     legal_days=3.0),
            StepRule("bank_account.close", _after("registration.deregister"), working_days=1.0, legal_days=2.0),
            StepRule("seal_carving.cancel", _after("registration.deregister"), working_days=1.0, legal_days=1.0),
            StepRule("licensing.revoke", _after("registration.deregister"), working_days=1.0),
        ), working_days=40.0, essential="registration.deregister",
            pivot="registration.deregister"),  # an enterprise struck off is not revived by withdrawal
        Matter("change", "变更登记", (
            StepRule("tax.equity_transfer", when=natural_person_transfers, working_days=0.5, legal_days=5.0),
            # the notice runs 45 calendar days inside its limit
            StepRule("deregistration.reduction_notice", when=capital_reduction, working_days=35.0, legal_days=40.0),
            StepRule("registration.change", _after("tax.equity_transfer", "deregistration.reduction_notice"),
                     working_days=0.5, legal_days=3.0),
            # the departments follow what the register now says, each only where it holds something changed
            StepRule("seal_carving.recarve", _after("registration.change"), name_or_legal_representative_changes, 0.5,
                     legal_days=1.0),
            StepRule("tax.update", _after("registration.change"), working_days=0.5, legal_days=20.0),  # 企业变更纳入税务环节
            # the specimen seals (预留印鉴) are the re-carved ones
            StepRule("bank_account.update", _after("registration.change", "seal_carving.recarve"),
                     name_or_legal_representative_changes, 1.0, legal_days=2.0),
            StepRule("licensing.amend", _after("registration.change"), permit_holder_changes, 0.5),  # 许可变更秒办
        ), working_days=1.0, essential="registration.change",
            pivot="registration.change"),  # a change registered is changed back by another change
    )
}


class PlanStep(BaseModel):
    step: str
    department: str
    after: list[str]
    deadline: datetime | None = None


def plan_for(matter: str, application: dict[str, Any], options: PlanOptions | None = None) -> list[PlanStep]:
    """The steps this application needs, each with the steps it waits for. A step that is not
    needed is left out, and so is any wait on it."""
    options = options or PlanOptions()
    rules = [rule for rule in MATTERS[matter].steps if rule.when(application, options)]
    included = {rule.step for rule in rules}
    return [
        PlanStep(
            step=rule.step,
            department=STEP_KINDS[rule.step].department,
            after=[a.step for a in rule.after if a.step in included and a.when(application, options)],
        )
        for rule in rules
    ]


def _parse_limits(text: str | None, setting: str, known, kind: str) -> dict[str, float]:
    """`setting`'s JSON object of name -> a positive number of working days; every name one of `known`."""
    if not text or not text.strip():
        return {}
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise ValueError(f"{setting} must be a JSON object of {kind} -> working days")
    limits = {}
    for name, days in raw.items():
        if name not in known:
            raise ValueError(f"{setting} names an unknown {kind} {name!r}")
        if isinstance(days, bool) or not isinstance(days, (int, float)) or days <= 0:
            raise ValueError(f"{setting}[{name!r}] must be a positive number of working days")
        limits[name] = float(days)
    return limits


def parse_step_limits(text: str | None) -> dict[str, float]:
    """Promised limits configured per step (env STEP_LIMITS), as JSON: {"tax.register": 1.5}
    in working days; a region tightens or loosens a step without a code change."""
    return _parse_limits(text, "STEP_LIMITS", STEP_KINDS, "step")


def parse_matter_limits(text: str | None) -> dict[str, float]:
    """The matters' promised limits end to end configured per region (env MATTER_LIMITS), as
    JSON of matter -> working days: {"establishment": 0.5}."""
    return _parse_limits(text, "MATTER_LIMITS", MATTERS, "matter")


def step_limits(matter: str, limits: dict[str, float] | None = None) -> dict[str, tuple[float, float]]:
    """Each step's (promised, legal) limits in working days: the plan's, the promised ones
    overridden by `limits` (STEP_LIMITS)."""
    limits = limits or {}
    return {rule.step: (limits.get(rule.step, rule.working_days), rule.legal_days) for rule in MATTERS[matter].steps}


def with_deadlines(matter: str, plan: list[PlanStep], submitted_at: datetime,
                   limits: dict[str, float] | None = None) -> list[PlanStep]:
    """Each step's deadline: its promised working days after everything it waits for is due,
    on China's working calendar. `limits` overrides the declared working days of some steps."""
    limits = {rule.step: rule.working_days for rule in MATTERS[matter].steps} | dict(limits or {})
    local_start = submitted_at.astimezone(CHINA)
    due: dict[str, datetime] = {}
    out = []
    for step in plan:  # plans are declared in dependency order
        start = max([due[s] for s in step.after] or [local_start])
        due[step.step] = add_working_days(start, limits[step.step])
        out.append(step.model_copy(update={"deadline": due[step.step]}))
    return out


def steps_after(plan: list[PlanStep], step: str) -> list[PlanStep]:
    return [p for p in plan if step in p.after]
