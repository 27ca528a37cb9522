"""When licensing issues a permit at once, sends it to staff or refuses, and why. Pure
functions over the catalogue edition a case was planned with: a scope in, a decision out.

- 直接取消审批: nothing to do; the item is listed as not required.
- 审批改为备案: recorded at once.
- 实行告知承诺: issued at once when the applicant signed a commitment for every item the permit
  covers, with a post-issuance check due; without a signature, or for an applicant with a past
  false promise on record, the permit is decided by staff like an approval.
- 优化审批服务: decided by staff.
- 一业一证: the items of an industry present in the scope get ONE comprehensive permit, each of
  its parts decided on its own: the parts that need no staff are issued at once (the permit
  says which items it covers) and a part sent to staff does not hold them back. Approved, the
  permit is issued again covering every part; refused, the refused part is listed with its
  reasons and what was issued stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from yjs_contracts.api import ErrorDetail, Reason
from yjs_contracts.calendar import add_working_days
from yjs_contracts.catalogue import COMPREHENSIVE_PREFIX, Catalogue, Industry, Permit, PermitMode
from yjs_contracts.plans import CHINA


@dataclass(frozen=True)
class Part:
    """A permit within a grant, the scope items that need it, and the mode it is decided in."""

    permit: Permit
    items: tuple[str, ...]
    mode: PermitMode


@dataclass(frozen=True)
class Grant:
    """One permit to issue or to send to staff: a single permit, or an industry's comprehensive
    permit (行业综合许可证) merging several."""

    name: str
    items: tuple[str, ...]
    parts: tuple[Part, ...]
    industry: Industry | None = None
    #: for a comprehensive permit's parts sent to staff: the whole permit, issued once approved
    whole: "Grant | None" = None

    @property
    def comprehensive(self) -> bool:
        return self.industry is not None

    @property
    def needs_review(self) -> bool:
        return any(p.mode == PermitMode.approval for p in self.parts)

    @property
    def mode(self) -> PermitMode:
        modes = {p.mode for p in self.parts}
        for mode in (PermitMode.approval, PermitMode.commitment):
            if mode in modes:
                return mode
        return PermitMode.filing

    @property
    def prefix(self) -> str:
        return COMPREHENSIVE_PREFIX if self.comprehensive else self.parts[0].permit.prefix


@dataclass
class Decision:
    issue: list[Grant] = field(default_factory=list)
    review: list[Grant] = field(default_factory=list)
    not_required: list[tuple[Permit, tuple[str, ...]]] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)  # why each permit in `review` waits for staff


def _field(scope_field: str, scope: list[str], item: str) -> str:
    return f"{scope_field}.{scope.index(item)}"


def unknown_item_reasons(edition: Catalogue, scope: list[str], scope_field: str) -> list[Reason]:
    return [Reason(code="unknown_scope_item",
                   message=f"“{item}”不是经营范围规范表述目录（{edition.version} 版）中的条目",
                   field=f"{scope_field}.{i}")
            for i, item in enumerate(scope) if not edition.is_known(item)]


def enterprise_reasons(uscc: str, status: str | None) -> list[Reason]:
    """行业准营 is for an enterprise on the register: licensing knows it from registration's events."""
    if status is None:
        return [Reason(code="enterprise_unknown", message=f"未查询到统一社会信用代码为 {uscc} 的企业",
                       field="application.uscc")]
    if status == "revoked":
        return [Reason(code="enterprise_revoked", message=f"统一社会信用代码为 {uscc} 的企业已被撤销登记",
                       field="application.uscc")]
    if status != "registered":
        return [Reason(code="enterprise_deregistered", message=f"统一社会信用代码为 {uscc} 的企业已注销",
                       field="application.uscc")]
    return []


def _part(permit: Permit, items: tuple[str, ...], commitments: set[str], barred: bool,
          scope: list[str], scope_field: str) -> tuple[Part, list[Reason]]:
    where = _field(scope_field, scope, items[0])
    if permit.mode == PermitMode.filing:
        return Part(permit, items, PermitMode.filing), []
    if permit.mode == PermitMode.commitment:
        if barred:
            return Part(permit, items, PermitMode.approval), [Reason(
                code="commitment_barred",
                message=f"{permit.name}：企业或签署人有虚假承诺信用记录，期内不适用告知承诺，转由部门审查", field=where)]
        unsigned = [item for item in items if item not in commitments]
        if unsigned:
            return Part(permit, items, PermitMode.approval), [Reason(
                code="commitment_missing",
                message=f"{permit.name}：未就“{'、'.join(unsigned)}”签署告知承诺书，转由部门审查",
                field=_field(scope_field, scope, unsigned[0]))]
        return Part(permit, items, PermitMode.commitment), []
    return Part(permit, items, PermitMode.approval), [Reason(
        code="approval_required", message=f"{permit.name}实行优化审批服务，由{permit.department}审查",
        field=where)]


def decide(edition: Catalogue, scope: list[str], commitments: list[str], commitment_barred: bool = False,
           scope_field: str = "application.business_scope") -> Decision:
    """The permits a scope needs and how each is handled. Unknown items are ignored here:
    refuse them first with unknown_item_reasons."""
    scope = list(dict.fromkeys(scope))
    signed = set(commitments)
    licensed = edition.licensed_items(scope)
    groups: list[tuple[Industry | None, list[str]]] = []
    taken: set[str] = set()
    for industry in edition.industries:  # in catalogue order: an item joins the first industry that applies
        if all(item in licensed and item not in taken for item in industry.defining):
            items = [item for item in licensed if item in industry.items and item not in taken]
            taken.update(items)
            groups.append((industry, items))
    groups += [(None, [item]) for item in licensed if item not in taken]

    decision = Decision()
    not_required: dict[str, list[str]] = {}
    standalone: dict[str, list[str]] = {}  # permit code -> items, merged across items outside an industry
    for industry, items in groups:
        needs: dict[str, list[str]] = {}
        for item in items:
            for code in edition.items[item].permits:
                target = not_required if edition.permits[code].mode == PermitMode.cancelled else (
                    needs if industry is not None else standalone)
                target.setdefault(code, []).append(item)
        if industry is not None and needs:
            _add(decision, industry.permit_name, items, needs, industry, edition, signed, commitment_barred,
                 scope, scope_field)
    for code, items in standalone.items():
        _add(decision, edition.permits[code].name, items, {code: items}, None, edition, signed, commitment_barred,
             scope, scope_field)
    decision.not_required = [(edition.permits[code], tuple(items)) for code, items in not_required.items()]
    return decision


def _add(decision: Decision, name: str, items: list[str], needs: dict[str, list[str]], industry: Industry | None,
         edition: Catalogue, signed: set[str], barred: bool, scope: list[str], scope_field: str) -> None:
    parts, reasons = [], []
    for code, part_items in needs.items():
        part, why = _part(edition.permits[code], tuple(part_items), signed, barred, scope, scope_field)
        parts.append(part)
        reasons += why
    grant = _grant(name, items, parts, industry)
    if not grant.needs_review:
        decision.issue.append(grant)
        return
    decision.reasons += reasons
    at_once = [p for p in parts if p.mode != PermitMode.approval]
    if industry is None or not at_once:
        decision.review.append(grant)
        return
    # 一业一证, each part on its own: what needs no staff is issued now
    decision.issue.append(_grant(name, items, at_once, industry))
    decision.review.append(_grant(name, items, [p for p in parts if p.mode == PermitMode.approval], industry, grant))


def _grant(name: str, items: list[str], parts: list[Part], industry: Industry | None,
           whole: Grant | None = None) -> Grant:
    covered = tuple(item for item in items if any(item in p.items for p in parts))
    return Grant(name, covered, tuple(parts), industry, whole)


def permit_number(prefix: str, division: str, serial: int) -> str:
    """Two letters, the issuing division, a seven-digit serial and a Luhn check digit: 16
    characters, the shape of a 食品经营许可证 number (JY and 14 digits)."""
    if len(prefix) != 2 or len(division) != 6 or not division.isdigit() or not 0 < serial < 10**7:
        raise ValueError("a permit number needs a two-letter prefix, a 6-digit division and a serial under 10^7")
    body = f"{division}{serial:07d}"
    return f"{prefix}{body}{luhn_digit(body)}"


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def _years_later(start: date, years: int) -> date:
    """The last day of a term of `years` years starting on `start`."""
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28)
    return date.fromordinal(end.toordinal() - 1)


@dataclass(frozen=True)
class Terms:
    valid_from: date
    valid_until: date | None
    check_due: date | None


def terms(grant: Grant, issued_at: datetime) -> Terms:
    """Validity and post-check date. A comprehensive permit is valid as long as the shortest of
    the permits it merges; its check is due with the earliest of its commitments' checks."""
    local = issued_at.astimezone(CHINA)
    today = local.date()
    ends = [_years_later(today, p.permit.valid_years) for p in grant.parts if p.permit.valid_years]
    checks = [add_working_days(local, p.permit.check_days).date()
              for p in grant.parts if p.mode == PermitMode.commitment and p.permit.check_days]
    return Terms(today, min(ends) if ends else None, min(checks) if checks else None)


AMEND, CANCEL, KEEP = "amend", "cancel", "keep"


def amendment(permit_number: str, items: list[str], changed: set[str], scope: list[str],
              division: str) -> tuple[str, list[Reason]]:
    """许可变更 of one permit after a change: cancelled when every item it covers left the scope;
    refused when the domicile left the city of the division that issued it (a new permit is
    asked for there); otherwise reissued under the new name or address at once (秒办), or kept
    as it is when neither changed. The issuing division is inside the permit number."""
    if "business_scope" in changed and not set(items) & set(scope):
        return CANCEL, []
    issued_in = permit_number[2:8]
    if "domicile" in changed and division[:4] != issued_in[:4]:
        return AMEND, [Reason(code="permit_outside_jurisdiction", field="application.changes.domicile",
                              message=f"住所迁出发证机关辖区（{issued_in}），许可证 {permit_number} "
                                      "须向新住所地主管部门重新申请")]
    return (AMEND, []) if changed & {"name", "domicile"} else (KEEP, [])


# -- 告知承诺's post-issuance check (事后核查) ------------------------------------------------

OPEN, RECTIFYING, VERIFIED, REVOKED = "open", "rectifying", "verified", "revoked"
VERIFY, RECTIFY, FALSE_COMMITMENT = "verified", "rectify", "false_commitment"


@dataclass(frozen=True)
class CheckTimes:
    due_at: datetime
    overdue_at: datetime


def check_times(check_due: date, issued_at: datetime, period_seconds: float | None = None) -> CheckTimes:
    """When a commitment's check falls due (it joins the department's queue) and when, still
    not done, it is overdue: the start of its check date in China and the day after; with a
    period in seconds (tests, demos), that long after issue and twice that."""
    if period_seconds is not None:
        return CheckTimes(issued_at + timedelta(seconds=period_seconds),
                          issued_at + timedelta(seconds=2 * period_seconds))
    start = datetime.combine(check_due, time.min, CHINA)
    return CheckTimes(start, start + timedelta(days=1))


def next_check_status(status: str, result: str) -> str | None:
    """A check's status after a result; None: the result cannot be recorded now. An open check
    takes any result; a rectifying one is verified once rectified, or found false; a closed one
    (verified or revoked) takes none, and a deadline once set is not moved."""
    if status == OPEN or (status == RECTIFYING and result != RECTIFY):
        return {VERIFY: VERIFIED, RECTIFY: RECTIFYING, FALSE_COMMITMENT: REVOKED}[result]
    return None


def rectify_problems(rectify_by: datetime | None, now: datetime, valid_until: date | None) -> list[ErrorDetail]:
    """整改期限: later than now, and not past the permit's own validity."""
    if rectify_by is None:
        return []
    if rectify_by <= now:
        return [ErrorDetail(field="rectify_by", reason="整改期限须晚于现在")]
    if valid_until is not None and rectify_by.astimezone(CHINA).date() > valid_until:
        return [ErrorDetail(field="rectify_by", reason=f"整改期限不能晚于许可有效期（{valid_until.isoformat()}）")]
    return []


def rectification_lapsed(status: str, rectify_by: datetime | None, now: datetime) -> bool:
    """A rectification not found done by its deadline revokes the permit."""
    return status == RECTIFYING and rectify_by is not None and rectify_by <= now


def check_overdue(status: str, overdue_at: datetime, now: datetime) -> bool:
    return status == OPEN and overdue_at <= now


def barred_by_credit_record(bars: list[tuple[str, str | None, datetime]], uscc: str, signer_id: str | None,
                      now: datetime) -> bool:
    """告知承诺 is barred while a credit record (uscc, signer's ID number, barred until) names the
    enterprise or the person signing, in whichever department the promise was found false."""
    return any(until > now and (bar_uscc == uscc or (signer_id is not None and bar_id == signer_id))
               for bar_uscc, bar_id, until in bars)
