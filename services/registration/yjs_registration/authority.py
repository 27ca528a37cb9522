"""Who may act for an enterprise (电子营业执照 practice), and the enterprise as the departments
know it. Pure functions: rows in, answers out.

- The legal representative acts for every matter about the enterprise and alone appoints agents.
- An agent acts for the matters named, from the day of appointment to `valid_until` (at most a
  year), unless withdrawn.
- The record is readable by the legal representative and by anyone holding a current
  authorisation; staff and operators read every enterprise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping

from yjs_contracts import divisions
from yjs_contracts.api import ENTERPRISE_MATTERS, ErrorDetail
from yjs_contracts.events import NOTICE_EVENTS
from yjs_contracts.steps import ENTERPRISE_RECORD, RECORD_SECTIONS, STEP_KINDS, Keep
from yjs_contracts.words import LISTING_TITLES, MATTER_TITLES, STEP_STATUS_WORDS

LEGAL_REPRESENTATIVE = "legal_representative"
INVESTOR = "investor"

#: a department's reports also say a step started or asked for corrections
STATUS_WORDS = {**STEP_STATUS_WORDS, "started": "办理中", "supplement_requested": "待补正"}
ENTERPRISE_STATUS_WORDS = {"registered": "存续", "deregistered": "注销", "revoked": "撤销"}


@dataclass(frozen=True)
class Authorisation:
    agent_id: str
    id_number: str
    matters: tuple[str, ...]
    valid_from: date
    valid_until: date
    withdrawn: bool

    def current(self, today: date) -> bool:
        return not self.withdrawn and self.valid_from <= today <= self.valid_until

    def covers(self, matter: str, today: date) -> bool:
        return self.current(today) and matter in self.matters


def is_legal_representative(id_number: str | None, principals: Iterable[Mapping[str, Any]]) -> bool:
    return id_number is not None and any(
        p["role"] == LEGAL_REPRESENTATIVE and p["id_number"] == id_number for p in principals)


def may_act(id_number: str | None, matter: str, today: date, principals: Iterable[Mapping[str, Any]],
            agents: Iterable[Authorisation]) -> bool:
    """May this verified person submit `matter` about the enterprise today?"""
    if id_number is None:
        return False
    if is_legal_representative(id_number, principals):
        return True
    return any(a.id_number == id_number and a.covers(matter, today) for a in agents)


def may_read(viewer: Mapping[str, Any], today: date, principals: Iterable[Mapping[str, Any]],
             agents: Iterable[Authorisation]) -> bool:
    if viewer.get("role") in ("department", "operator"):
        return True
    id_number = viewer.get("id_number")
    if id_number is None:
        return False
    return is_legal_representative(id_number, principals) or any(
        a.id_number == id_number and a.current(today) for a in agents)


def latest_valid_until(today: date) -> date:
    """An authorisation lasts at most a year."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return date(today.year + 1, 2, 28)


def appointment_details(matters: Iterable[str], valid_until: date, today: date) -> list[ErrorDetail]:
    """What is wrong with an appointment's terms, every field named."""
    details = []
    unknown = [m for m in matters if m not in ENTERPRISE_MATTERS]
    if unknown:
        details.append(ErrorDetail(field="matters", reason=f"not a matter about an existing enterprise: {', '.join(unknown)}"))
    if valid_until < today:
        details.append(ErrorDetail(field="valid_until", reason="already past"))
    elif valid_until > latest_valid_until(today):
        details.append(ErrorDetail(field="valid_until",
                                   reason=f"an authorisation lasts at most a year (until {latest_valid_until(today)})"))
    return details


def mask_id_number(id_number: str) -> str:
    return id_number[:6] + "*" * 8 + id_number[-4:] if len(id_number) == 18 else "*" * len(id_number)


def agent_view(row: Mapping[str, Any], today: date) -> dict[str, Any]:
    authorisation = as_authorisation(row)
    status = "withdrawn" if authorisation.withdrawn else (
        "expired" if today > authorisation.valid_until else "valid")
    return {"agent_id": row["agent_id"], "name": row["name"], "id_number": mask_id_number(row["id_number"]),
            "matters": list(row["matters"]), "valid_from": row["valid_from"].isoformat(),
            "valid_until": row["valid_until"].isoformat(), "status": status,
            "appointed_at": row["appointed_at"].isoformat(),
            "withdrawn_at": row["withdrawn_at"].isoformat() if row["withdrawn_at"] else None}


def as_authorisation(row: Mapping[str, Any]) -> Authorisation:
    return Authorisation(agent_id=row["agent_id"], id_number=row["id_number"], matters=tuple(row["matters"]),
                         valid_from=row["valid_from"], valid_until=row["valid_until"],
                         withdrawn=row["withdrawn_at"] is not None)


def may_list(viewer: Mapping[str, Any]) -> bool:
    """Only registration's own staff list an enterprise or remove a listing."""
    return viewer.get("role") == "department" and viewer.get("department") == "registration"


def listing_authority(division_code: str) -> str:
    """The deciding authority when staff name none: the market regulator of the enterprise's
    division (嘉兴市南湖区市场监督管理局)."""
    return f"{divisions.local_name(division_code) or ''}市场监督管理局"


#: listings about equity, which a 个体工商户 (机构类别 2) does not have
EQUITY_LISTINGS = frozenset({"equity_frozen", "equity_pledged"})


def listing_problems(decided_on: date, today: date, kind: str = "", enterprise_type: str = "") -> list[ErrorDetail]:
    problems = []
    if decided_on > today:
        problems.append(ErrorDetail(field="decided_on", reason="决定日期不能晚于今天"))
    if enterprise_type == "individual_business" and kind in EQUITY_LISTINGS:
        problems.append(ErrorDetail(field="kind", reason=f"个体工商户没有股权，不能列入{LISTING_TITLES[kind]}"))
    return problems


def listing_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"listing_id": row["listing_id"], "kind": row["kind"], "kind_text": LISTING_TITLES[row["kind"]],
            "authority": row["authority"], "decided_on": row["decided_on"].isoformat(), "reason": row["reason"],
            "listed_by": row["listed_by"], "listed_at": row["listed_at"].isoformat()}


def latest_reports(reports: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Per case and step, the report that came last (an undo follows what it undoes)."""
    latest: dict[tuple[str, str], Mapping[str, Any]] = {}
    for report in sorted(reports, key=lambda r: r["occurred_at"]):
        if report["event_type"] in NOTICE_TYPES:
            continue
        latest[(report["case_id"], report["step"])] = report
    return latest


#: notices about a case after its steps reported (a permit revoked, a check's result): never a step's latest report
NOTICE_TYPES = frozenset(NOTICE_EVENTS)


def fold_record(completed: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Each department's section of the record, from its completed reports in the order they
    came, by the contracts' table of what each step keeps: per section, its entries by name (a
    section of one entry names it "")."""
    kept: dict[str, dict[str, dict[str, Any]]] = {section: {} for section in RECORD_SECTIONS}
    for report in completed:
        for keep in ENTERPRISE_RECORD.get(report["step"], ()):
            _apply(kept[keep.section], keep, report["outputs"], report["case_id"])
    return kept


def _apply(entries: dict[str, dict[str, Any]], keep: Keep, outputs: Mapping[str, Any], case_id: str) -> None:
    if keep.when and not outputs.get(keep.when):
        return
    for item in (outputs.get(keep.items) or []) if keep.items else [outputs]:
        name = item.get(keep.key) if keep.key else None
        if keep.action == "add":
            entries[(name or case_id) if keep.key else ""] = {**item, **({"status": keep.status} if keep.status else {})}
            continue
        # a name picks its entry; none (or a section of one entry) means every kept one
        targets = [entries[name]] if name in entries else ([] if name else list(entries.values()))
        for entry in targets:
            if keep.action == "mark":
                entry["status"] = keep.status
            else:
                entry.update({keep.into: dict(outputs)} if keep.into else
                             {f: item[f] for f in keep.fields} if keep.fields else dict(item))


def enterprise_view(enterprise: Mapping[str, Any], cases: list[Mapping[str, Any]],
                    reports: list[Mapping[str, Any]], agents: list[Mapping[str, Any]], today: date,
                    listings: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The enterprise as the departments know it, folded from their reports about its cases."""
    latest = latest_reports(reports)
    completed = sorted((r for r in latest.values() if r["status"] == "completed"), key=lambda r: r["occurred_at"])
    kept = fold_record(completed)
    permits = kept.get("permits", {})
    for notice in sorted((r for r in reports if r["event_type"] in NOTICE_TYPES), key=lambda r: r["occurred_at"]):
        permit = permits.get(notice["outputs"].get("permit_number"))
        if permit is None:
            continue
        if notice["event_type"] == "licensing.permit_revoked":
            permit.update(status="revoked", revoked_at=notice["outputs"].get("revoked_at"),
                          revocation_reason=notice["outputs"].get("finding"))
        else:  # a post-issuance check's result: verified, or 整改 by a deadline
            permit.update(check_result=notice["outputs"].get("result"), rectify_by=notice["outputs"].get("rectify_by"))
    return {
        "uscc": enterprise["uscc"], "name": enterprise["name"], "type": enterprise["type"],
        "status": enterprise["status"], "status_text": ENTERPRISE_STATUS_WORDS.get(enterprise["status"], enterprise["status"]),
        "licence_number": enterprise["licence_number"],
        "legal_representative": {"name": enterprise["legal_representative"]},
        "domicile": enterprise["domicile"] or {"division_code": enterprise["division_code"]},
        "registered_capital": None if enterprise["registered_capital"] is None else str(enterprise["registered_capital"]),
        "business_scope": enterprise["business_scope"] or [],
        "established_on": enterprise["established_on"].isoformat(),
        "deregistered_at": enterprise["deregistered_at"].isoformat() if enterprise["deregistered_at"] else None,
        **{section: list(kept[section].values()) if many else next(iter(kept[section].values()), None)
           for section, many in RECORD_SECTIONS.items()},
        "agents": [agent_view(a, today) for a in agents],
        "listings": [listing_view(row) for row in listings if row["removed_at"] is None],
        "history": history(cases, latest),
    }


def history(cases: list[Mapping[str, Any]], latest: Mapping[tuple[str, str], Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per case that touched the enterprise, what each department did in it, in Chinese."""
    entries = []
    for case in sorted(cases, key=lambda c: c["at"]):
        steps = sorted((r for (case_id, _), r in latest.items() if case_id == case["case_id"]),
                       key=lambda r: r["occurred_at"])
        parts = [f"{STEP_KINDS[r['step']].title if r['step'] in STEP_KINDS else r['step']}"
                 f"{STATUS_WORDS.get(r['status'], r['status'])}" for r in steps]
        title = MATTER_TITLES.get(case["matter"], case["matter"])
        entries.append({"at": case["at"].isoformat(), "case_id": case["case_id"], "matter": case["matter"],
                        "summary": f"{title}：{'，'.join(parts)}" if parts else f"{title}：已受理"})
    return entries
