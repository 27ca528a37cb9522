"""When an enterprise may close, and when its notice ends. Pure functions: the application and
what deregistration has learned of the enterprise in; reasons (code, text, field) or times out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from yjs_contracts.api import DeregistrationApplication, Reason
from yjs_contracts.calendar import is_working_day
from yjs_contracts.codes import CodeError, validate_id_number
from yjs_contracts.plans import CHINA

from .config import NoticePeriods

APP = "application"


@dataclass(frozen=True)
class Standing:
    """What deregistration knows of an enterprise, learned from other departments' events."""

    status: str | None  # "registered", "deregistered"; None: not on the register
    outstanding_tax: Decimal = Decimal("0.00")  # 欠税, as tax last announced it
    running_case: str | None = None  # a deregistration of it still in progress


def _reason(code: str, message: str, field: str) -> Reason:
    return Reason(code=code, message=message, field=f"{APP}.{field}")


def standing_reasons(standing: Standing) -> list[Reason]:
    """The enterprise itself: on the register, not closed, not closing, owing no tax."""
    reasons = []
    if standing.status is None:
        reasons.append(_reason("enterprise_unknown", "未查询到该统一社会信用代码的登记企业", "uscc"))
    elif standing.status == "deregistered":
        reasons.append(_reason("already_deregistered", "该企业已办理注销登记", "uscc"))
    if standing.running_case:
        reasons.append(_reason("deregistration_in_progress",
                               f"该企业已有注销申请正在办理（受理编号 {standing.running_case}）", "uscc"))
    if standing.outstanding_tax > 0:
        reasons.append(_reason("unpaid_tax", f"税务部门记录该企业尚有欠缴税款 {standing.outstanding_tax} 元，"
                                             "结清后方可申请注销", "uscc"))
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


def eligibility_reasons(app: DeregistrationApplication, standing: Standing) -> list[Reason]:
    """Every reason the application cannot be accepted, all at once (一次性告知)."""
    return standing_reasons(standing) + route_reasons(app)


def notice_ends_at(starts_at: datetime, route: str, periods: NoticePeriods) -> datetime:
    """When a notice published at `starts_at` ends. Counted in calendar days as the Civil Code
    counts a period: the day of publication is not counted (第二百零一条), the period ends at
    24:00 of its last day, and a last day that is a statutory day off moves to the next working
    day (第二百零三条). With `periods.seconds` set, simply that many seconds."""
    if periods.seconds is not None:
        return starts_at + timedelta(seconds=periods.seconds)
    last = starts_at.astimezone(CHINA).date() + timedelta(days=periods.days[route])
    while not is_working_day(last):
        last += timedelta(days=1)
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
