"""The register's people and record over a unit of work: who may act for an enterprise (the
gateway asks before it accepts a matter), the agents its legal representative appoints and
withdraws, and the enterprise record built from every department's reports."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Mapping

from sqlalchemy import delete, select, update
from yjs_contracts.api import ChangeApplication, ENTERPRISE_MATTERS, EstablishmentApplication, InvalidApplication
from yjs_contracts.codes import CodeError, validate_id_number
from yjs_contracts.api import ErrorDetail
from yjs_contracts.envelope import Envelope, new_event
from yjs_contracts.events import NOTICE_EVENTS, EnterpriseListings, ListedEntry, StepReport
from yjs_contracts.plans import CHINA
from yjs_contracts.steps import REPORT_EVENTS
from yjs_kit.caller import CallerForbidden
from yjs_kit.uow import UnitOfWork

from . import authority, credit
from .models import agents, department_reports, enterprise_cases, enterprises, listings, principals


class EnterpriseNotFound(LookupError):
    """No such enterprise, or not one the caller may see."""


class NotAuthorizedForEnterprise(Exception):
    """The caller may not do this for the enterprise."""


class AgentNotFound(LookupError):
    pass


class ListingNotFound(LookupError):
    pass


class EnterpriseNotActive(Exception):
    """The enterprise is no longer on the register: nobody can be authorised for it."""


def today() -> date:
    return datetime.now(CHINA).date()


def _insert_ignoring_duplicates(uow: UnitOfWork, table, keys: list[str], **values) -> None:
    uow.upsert_later(table, keys, update=False, **values)


def keep_principals(uow: UnitOfWork, uscc: str, case_id: str, app: EstablishmentApplication, now: datetime) -> None:
    """At registration: the legal representative (a 个体工商户's operator, who holds its licence)
    and the natural-person investors, and the establishment as the enterprise's first case."""
    people = [(authority.LEGAL_REPRESENTATIVE, app.signatory.name, app.signatory.id_number)]
    people += [(authority.INVESTOR, s.name, s.id_number) for s in app.shareholders or []
               if s.kind == "natural_person" and s.id_number]
    for role, name, id_number in people:
        _insert_ignoring_duplicates(uow, principals, ["uscc", "role", "id_number"], uscc=uscc, role=role,
                                    id_number=id_number, name=name, since=now)
    _insert_ignoring_duplicates(uow, enterprise_cases, ["case_id"], case_id=case_id, uscc=uscc,
                                matter="establishment", at=now)


def legal_representative_id(uow: UnitOfWork, uscc: str) -> str | None:
    return uow.session.execute(select(principals.c.id_number).where(
        (principals.c.uscc == uscc) & (principals.c.role == authority.LEGAL_REPRESENTATIVE))).scalar()


def move_authority(uow: UnitOfWork, uscc: str, app: ChangeApplication, now: datetime) -> None:
    """A change registered: a new legal representative takes the old one's place, and every
    authorisation the old one gave ends then (they must be given again); new investors replace
    the old ones."""
    people = []
    if app.changes.legal_representative:
        legal = app.changes.legal_representative
        people.append((authority.LEGAL_REPRESENTATIVE, [(legal.name, legal.id_number)]))
        uow.session.execute(update(agents).where((agents.c.uscc == uscc) & agents.c.withdrawn_at.is_(None)).values(
            withdrawn_at=now))
    if app.changes.shareholders is not None:
        people.append((authority.INVESTOR, [(s.name, s.id_number) for s in app.changes.shareholders
                                            if s.kind == "natural_person" and s.id_number]))
    for role, holders in people:
        uow.session.execute(delete(principals).where((principals.c.uscc == uscc) & (principals.c.role == role)))
        for name, id_number in holders:
            _insert_ignoring_duplicates(uow, principals, ["uscc", "role", "id_number"], uscc=uscc, role=role,
                                        id_number=id_number, name=name, since=now)


def keep_report(uow: UnitOfWork, event: Envelope) -> None:
    """A department's report (or notice) about a case: kept as it came; a case about an existing
    enterprise is tied to it by the application's USCC or by any report naming one."""
    if event.case_id is None:
        return
    if event.event_type == "case.submitted":
        uscc = (event.data.get("application") or {}).get("uscc")
        if uscc:
            _insert_ignoring_duplicates(uow, enterprise_cases, ["case_id"], case_id=event.case_id, uscc=uscc,
                                        matter=event.data["matter"], at=event.occurred_at)
        return
    if event.event_type in NOTICE_EVENTS:
        step, status, outputs = event.event_type, "notice", dict(event.data)
    elif event.event_type in REPORT_EVENTS:
        report = StepReport.model_validate(event.data)
        step, status, outputs = report.step, report.status.value, report.outputs
    else:
        return
    # nothing reads the reports while events are applied: kept with the others at the commit
    uow.append(department_reports, ("event_id",), event_id=str(event.event_id), case_id=event.case_id,
               event_type=event.event_type, step=step, status=status, outputs=outputs, occurred_at=event.occurred_at)


def _enterprise(uow: UnitOfWork, uscc: str):
    return uow.session.execute(select(enterprises).where(enterprises.c.uscc == uscc)).mappings().first()


def _principals(uow: UnitOfWork, uscc: str):
    return uow.session.execute(select(principals).where(principals.c.uscc == uscc)).mappings().all()


def _agents(uow: UnitOfWork, uscc: str):
    return uow.session.execute(select(agents).where(agents.c.uscc == uscc).order_by(agents.c.agent_id)
                               ).mappings().all()


def authority_for(uow: UnitOfWork, uscc: str, matter: str, id_number: str | None,
                  on: date | None = None) -> dict[str, Any]:
    """May this verified person submit `matter` about the enterprise today? `decision`:
    `allowed`, `not_authorized`, `unknown` (not on the register) or `deregistered`."""
    enterprise = _enterprise(uow, uscc)
    if enterprise is None:
        return {"decision": "unknown"}
    if enterprise["status"] != "registered":
        return {"decision": "deregistered", "status": enterprise["status"]}
    allowed = matter in ENTERPRISE_MATTERS and authority.may_act(
        id_number, matter, on or today(), _principals(uow, uscc),
        [authority.as_authorisation(a) for a in _agents(uow, uscc)])
    return {"decision": "allowed" if allowed else "not_authorized"}


def _as_legal_representative(uow: UnitOfWork, uscc: str, caller: Mapping[str, Any]):
    enterprise = _enterprise(uow, uscc)
    if enterprise is None:
        raise EnterpriseNotFound(f"no such enterprise {uscc}")
    if not authority.is_legal_representative(caller.get("id_number"), _principals(uow, uscc)):
        raise NotAuthorizedForEnterprise("only the enterprise's legal representative manages its agents")
    return enterprise


def appoint_agent(uow: UnitOfWork, uscc: str, caller: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    uow.lock(f"enterprise:{uscc}")
    enterprise = _as_legal_representative(uow, uscc, caller)
    if enterprise["status"] != "registered":
        raise EnterpriseNotActive(f"enterprise {uscc} is {enterprise['status']}")
    day = today()
    valid_until = date.fromisoformat(str(body["valid_until"]))
    details = authority.appointment_details(body["matters"], valid_until, day)
    try:
        validate_id_number(body["id_number"])
    except CodeError as error:
        details.append(ErrorDetail(field="id_number", reason=f"被授权人的{error}"))
    if details:
        raise InvalidApplication(details)
    now = datetime.now(timezone.utc)
    agent_id = f"A{uow.next_number('agent'):08d}"
    uow.session.execute(agents.insert().values(
        agent_id=agent_id, uscc=uscc, name=body["name"], id_number=body["id_number"],
        matters=sorted(set(body["matters"])), valid_from=day, valid_until=valid_until,
        appointed_by=caller["id_number"], appointed_at=now))
    row = uow.session.execute(select(agents).where(agents.c.agent_id == agent_id)).mappings().one()
    return {"uscc": uscc, **authority.agent_view(row, day)}


def list_agents(uow: UnitOfWork, uscc: str, caller: Mapping[str, Any]) -> dict[str, Any]:
    if caller.get("role") == "applicant":
        _as_legal_representative(uow, uscc, caller)
    elif _enterprise(uow, uscc) is None:
        raise EnterpriseNotFound(f"no such enterprise {uscc}")
    day = today()
    return {"items": [authority.agent_view(a, day) for a in _agents(uow, uscc)]}


def withdraw_agent(uow: UnitOfWork, uscc: str, agent_id: str, caller: Mapping[str, Any]) -> None:
    uow.lock(f"enterprise:{uscc}")
    _as_legal_representative(uow, uscc, caller)
    done = uow.session.execute(update(agents).where(
        (agents.c.uscc == uscc) & (agents.c.agent_id == agent_id)).values(
        withdrawn_at=datetime.now(timezone.utc)).returning(agents.c.agent_id))
    if done.first() is None:
        raise AgentNotFound(f"no such agent {agent_id}")


def _listings(uow: UnitOfWork, uscc: str):
    return uow.session.execute(select(listings).where(listings.c.uscc == uscc).order_by(listings.c.listing_id)
                               ).mappings().all()


def _announce_listings(uow: UnitOfWork, uscc: str, now: datetime) -> None:
    """Every change announces the listings in force, whole: deregistration keeps the latest."""
    current = [ListedEntry(listing_id=row["listing_id"], kind=row["kind"])
               for row in _listings(uow, uscc) if row["removed_at"] is None]
    state = EnterpriseListings(uscc=uscc, listings=current, revision=uow.next_number(f"listings:{uscc}"), as_of=now)
    uow.announce(new_event("registration.listings_changed", state, case_id=None))


def _as_registration_staff(caller: Mapping[str, Any]) -> None:
    if not authority.may_list(caller):
        raise CallerForbidden("only registration staff list an enterprise or remove a listing")


def add_listing(uow: UnitOfWork, uscc: str, caller: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """列入: registration staff list an enterprise on the register."""
    _as_registration_staff(caller)
    uow.lock(f"enterprise:{uscc}")
    enterprise = _enterprise(uow, uscc)
    if enterprise is None:
        raise EnterpriseNotFound(f"no such enterprise {uscc}")
    if enterprise["status"] != "registered":
        raise EnterpriseNotActive(f"enterprise {uscc} is {enterprise['status']}")
    day = today()
    decided_on = date.fromisoformat(str(body["decided_on"])) if body.get("decided_on") else day
    details = authority.listing_problems(decided_on, day, str(body["kind"]), enterprise["type"])
    if details:
        raise InvalidApplication(details)
    now = datetime.now(timezone.utc)
    listing_id = f"L{uow.next_number('listing'):08d}"
    uow.session.execute(listings.insert().values(
        listing_id=listing_id, uscc=uscc, kind=str(body["kind"]),
        authority=body.get("authority") or authority.listing_authority(enterprise["division_code"]),
        decided_on=decided_on, reason=body["reason"], listed_by=caller["sub"], listed_at=now))
    _announce_listings(uow, uscc, now)
    row = uow.session.execute(select(listings).where(listings.c.listing_id == listing_id)).mappings().one()
    return {"uscc": uscc, **authority.listing_view(row)}


def remove_listing(uow: UnitOfWork, uscc: str, listing_id: str, caller: Mapping[str, Any]) -> None:
    """移出: the listing no longer counts; its row stays for the record's history."""
    _as_registration_staff(caller)
    uow.lock(f"enterprise:{uscc}")
    now = datetime.now(timezone.utc)
    done = uow.session.execute(update(listings).where(
        (listings.c.uscc == uscc) & (listings.c.listing_id == listing_id) & listings.c.removed_at.is_(None)).values(
        removed_at=now, removed_by=caller["sub"]).returning(listings.c.listing_id))
    if done.first() is None:
        raise ListingNotFound(f"no such listing {listing_id}")
    _announce_listings(uow, uscc, now)


def enterprise_record(uow: UnitOfWork, uscc: str, viewer: Mapping[str, Any]) -> dict[str, Any]:
    """The record, for its legal representative, its agents, staff and operators; for anyone
    else the enterprise does not exist."""
    enterprise = _enterprise(uow, uscc)
    day = today()
    if enterprise is None:
        raise EnterpriseNotFound(f"no such enterprise {uscc}")
    agent_rows = _agents(uow, uscc)
    if not authority.may_read(viewer, day, _principals(uow, uscc), [authority.as_authorisation(a) for a in agent_rows]):
        raise EnterpriseNotFound(f"no such enterprise {uscc}")
    cases = uow.session.execute(select(enterprise_cases).where(enterprise_cases.c.uscc == uscc)).mappings().all()
    case_ids = [c["case_id"] for c in cases]
    reports = uow.session.execute(select(department_reports).where(
        department_reports.c.case_id.in_(case_ids))).mappings().all() if case_ids else []
    view = authority.enterprise_view(enterprise, list(cases), [_aware(r) for r in reports], list(agent_rows), day,
                                     _listings(uow, uscc))
    now = datetime.now(timezone.utc)
    return {**view, "credit_records": [credit.view(row, now) for row in credit.of_enterprise(uow, uscc)]}


def _aware(row) -> dict[str, Any]:
    # SQLite drops the zone; everything is stored in UTC
    row = dict(row)
    if row["occurred_at"].tzinfo is None:
        row["occurred_at"] = row["occurred_at"].replace(tzinfo=timezone.utc)
    return row
