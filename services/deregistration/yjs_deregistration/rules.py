"""When an enterprise may close, and when its notice ends. Pure functions: the application and
what deregistration has learned of the enterprise in; reasons (code, text, field) or times out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Iterable

from yjs_contracts.api import DeregistrationApplication, ListingKind, Reason
from yjs_contracts.calendar import working_day_on_or_after
from yjs_contracts.codes import CodeError, validate_id_number
from yjs_contracts.plans import CHINA

from .config import NoticePeriods

APP = "application"


@dataclass(frozen=True)
class Standing:
    """What deregistration knows of an enterprise, learned from other departments' events."""

    status: str | None  # "registered", "deregistered"; None: not on the register
    outstanding_tax: Decimal = Decimal("0.00")  # 欠税, as tax last announced it
    outstanding_contributions: Decimal = Decimal("0.00")  # 欠缴社会保险费, as social insurance last announced it
    running_case: str | None = None  # a deregistration of it still in progress
    listings: tuple[str, ...] = ()  # the kinds of listing in force (ListingKind), as registration announced them


def _reason(code: str, message: str, field: str) -> Reason:
    return Reason(code=code, message=message, field=f"{APP}.{field}")


def standing_reasons(standing: Standing) -> list[Reason]:
    """The enterprise itself: on the register, not closed, not closing, owing no tax and no
    social insurance contributions."""
    reasons = []
    if standing.status is None:
        reasons.append(_reason("enterprise_unknown", "未查询到该统一社会信用代码的登记企业", "uscc"))
    elif standing.status == "deregistered":
        reasons.append(_reason("already_deregistered", "该企业已办理注销登记", "uscc"))
    # the case that closed it may not have been marked finished yet: closed is what the applicant needs to hear
    if standing.running_case and standing.status != "deregistered":
        reasons.append(_reason("deregistration_in_progress",
                               f"该企业已有注销申请正在办理（受理编号 {standing.running_case}）", "uscc"))
    if standing.outstanding_tax > 0:
        reasons.append(_reason("unpaid_tax", f"税务部门记录该企业尚有欠缴税款 {standing.outstanding_tax} 元，"
                                             "结清后方可申请注销", "uscc"))
    if standing.outstanding_contributions > 0:
        reasons.append(_reason("unpaid_contributions",
                               f"社会保险经办机构记录该企业尚有欠缴社会保险费 {standing.outstanding_contributions} 元，"
                               "缴清后方可申请注销", "uscc"))
    return reasons


def route_reasons(app: DeregistrationApplication) -> list[Reason]:
    """简易注销 needs the applicant's commitments (承诺); 一般注销 needs a liquidation group
    (清算组) to file, each member identified."""
    reasons = []
    if app.route == "simple":
        if not app.commitments.debts_settled:
            reasons.append(_reason("commitment_missing", "简易注销须承诺未发生债权债务或债权债务已清偿完结",
                                   "commitments.debts_settled"))
        if not app.commitments.investors_agree:
            reasons.append(_reason("commitment_missing", "简易注销须全体投资人承诺同意注销",
                                   "commitments.investors_agree"))
        return reasons
    if not app.liquidation_group:
        reasons.append(_reason("liquidation_group_missing", "一般注销须成立清算组并备案其成员", "liquidation_group"))
    for i, member in enumerate(app.liquidation_group):
        try:
            validate_id_number(member.id_number)
        except CodeError as error:
            reasons.append(_reason("invalid_id_number", f"清算组成员{member.name}的{error}",
                                   f"liquidation_group.{i}.id_number"))
    return reasons


#: what each listing is, as a refusal says it, of 该{entity}
LISTING_SITUATIONS = {
    ListingKind.abnormal_operation: "被列入经营异常名录",
    ListingKind.serious_violation: "被列入严重违法失信名单",
    ListingKind.equity_frozen: "存在股权（投资权益）被冻结的情形",
    ListingKind.equity_pledged: "存在股权出质的情形",
    ListingKind.chattel_mortgage: "存在尚未注销的动产抵押",
    ListingKind.under_investigation: "正在被立案调查",
}
#: the entity a 统一社会信用代码 names, by its 机构类别 under authority 9 (GB 32100)
ENTITY_WORDS = {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}


def entity_word(uscc: str) -> str:
    return ENTITY_WORDS.get(uscc[1:2], "企业")
#: the listings that bar each route: 简易注销 is closed to every listed enterprise (市场主体登记
#: 管理条例 第三十三条); frozen equity and an open investigation bar the general route too, since
#: the enterprise may not be struck off while they last
BARRING_LISTINGS = {
    "simple": frozenset(ListingKind),
    "general": frozenset({ListingKind.equity_frozen, ListingKind.under_investigation}),
}


def listing_reasons(route: str, listed: Iterable[str], entity: str = "企业") -> list[Reason]:
    """One reason per kind of listing in force that bars the route; the code is the kind. A
    个体工商户 has no equity to freeze or pledge (registration lists none), so its own exclusions
    from the simple route are the other four."""
    kinds = sorted(set(listed) & BARRING_LISTINGS[route])
    if route == "simple":
        return [_reason(kind, f"该{entity}{LISTING_SITUATIONS[kind]}，不适用简易注销程序", "route") for kind in kinds]
    return [_reason(kind, f"该{entity}{LISTING_SITUATIONS[kind]}，依法不得办理注销登记", "uscc") for kind in kinds]


def eligibility_reasons(app: DeregistrationApplication, standing: Standing) -> list[Reason]:
    """Every reason the application cannot be accepted, all at once (一次性告知)."""
    return (standing_reasons(standing) + listing_reasons(app.route, standing.listings, entity_word(app.uscc))
            + route_reasons(app))


def notice_ends_at(starts_at: datetime, route: str, periods: NoticePeriods) -> datetime:
    """When a notice published at `starts_at` ends. Counted in calendar days as the Civil Code
    counts a period: the day of publication is not counted (第二百零一条), the period ends at
    24:00 of its last day, and a last day that is a statutory day off moves to the next working
    day (第二百零三条). With `periods.seconds` set, simply that many seconds."""
    if periods.seconds is not None:
        return starts_at + timedelta(seconds=periods.seconds)
    last = working_day_on_or_after(starts_at.astimezone(CHINA).date() + timedelta(days=periods.days[route]))
    return datetime.combine(last + timedelta(days=1), time(0), CHINA).astimezone(timezone.utc)


def notice_id(day: date, serial: int, route: str = "simple") -> str:
    """公告编号: ZXGG (注销公告) or JZGG (减资公告), the publication date and its serial that day."""
    return f"{'JZGG' if route == 'reduction' else 'ZXGG'}{day:%Y%m%d}{serial:06d}"



def objection_id(day: date, serial: int) -> str:
    """异议编号: YY, the date and its serial that day."""
    return f"YY{day:%Y%m%d}{serial:06d}"


def objection_reason(name: str, reason: str) -> Reason:
    """An objection ends the simplified route; the case carries it as its reason."""
    return Reason(code="objection_raised", message=f"公示期内收到异议（异议人：{name}）：{reason}", field="notice")


def liquidation_report_required() -> Reason:
    return Reason(code="liquidation_report_required",
                  message="债权申报期已届满，请提交经投资人确认的清算报告", field="liquidation_report")
