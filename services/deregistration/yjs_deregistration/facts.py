"""What deregistration learns from other departments' events, kept in its own tables: the
register and its listings (registration), what enterprises owe (tax, social insurance).
Eligibility reads only these."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from yjs_contracts.envelope import Envelope
from yjs_contracts.events import (ContributionArrears, EnterpriseDeregistered, EnterpriseListings,
                                  EnterpriseRegistered, StepReport, TaxArrears)
from yjs_kit.uow import UnitOfWork

from .models import contribution_arrears, deregistrations, enterprises, listings, tax_arrears
from .rules import Standing

#: what each department announces of an enterprise's arrears, and where it is kept
ARREARS = {"tax.arrears_recorded": (TaxArrears, tax_arrears), "tax.arrears_settled": (TaxArrears, tax_arrears),
           "social_insurance.arrears_recorded": (ContributionArrears, contribution_arrears),
           "social_insurance.arrears_settled": (ContributionArrears, contribution_arrears)}

EVENT_TYPES = frozenset({"registration.enterprise_registered", "registration.enterprise_deregistered",
                         "registration.enterprise_changed", "registration.listings_changed", *ARREARS})


def _insert(uow: UnitOfWork, table):
    return (postgresql if uow.postgres else sqlite).insert(table)


def learn(uow: UnitOfWork, event: Envelope) -> None:
    """Order-tolerant: a registration never undoes a deregistration, and arrears and listings
    keep their highest revision, whatever order the events arrive in."""
    now = datetime.now(timezone.utc)
    if event.event_type == "registration.enterprise_registered":
        registered = EnterpriseRegistered.model_validate(StepReport.model_validate(event.data).outputs)
        uow.session.execute(_insert(uow, enterprises).values(
            uscc=registered.uscc, name=registered.enterprise_name, status="registered", learned_at=now,
        ).on_conflict_do_nothing())
    elif event.event_type == "registration.enterprise_deregistered":
        closed = EnterpriseDeregistered.model_validate(StepReport.model_validate(event.data).outputs)
        statement = _insert(uow, enterprises).values(
            uscc=closed.uscc, name=closed.enterprise_name, status="deregistered", learned_at=now)
        uow.session.execute(statement.on_conflict_do_update(
            index_elements=["uscc"], set_={"status": "deregistered", "learned_at": now}))
    elif event.event_type == "registration.enterprise_changed":
        report = StepReport.model_validate(event.data)
        if report.status == "completed":  # the next notice names the enterprise by its new name
            uow.session.execute(update(enterprises).where(enterprises.c.uscc == report.outputs["uscc"]).values(
                name=report.outputs["enterprise_name"], learned_at=now))
    elif event.event_type == "registration.listings_changed":
        listed = EnterpriseListings.model_validate(event.data)
        _keep_latest(uow, listings, uscc=listed.uscc, kinds=sorted({entry.kind.value for entry in listed.listings}),
                     revision=listed.revision, as_of=listed.as_of)
    elif event.event_type in ARREARS:
        model, table = ARREARS[event.event_type]
        owed = model.model_validate(event.data)
        _keep_latest(uow, table, uscc=owed.uscc, outstanding=owed.outstanding, revision=owed.revision,
                     as_of=owed.as_of)


def _keep_latest(uow: UnitOfWork, table, **values) -> None:
    """One row per USCC: an announcement replaces what is kept only with a higher revision."""
    statement = _insert(uow, table).values(**values)
    uow.session.execute(statement.on_conflict_do_update(
        index_elements=["uscc"], set_={column: statement.excluded[column] for column in values if column != "uscc"},
        where=table.c.revision < statement.excluded.revision))


def standing(session, uscc: str) -> tuple[Standing, str | None]:
    """The enterprise's standing for eligibility, and its registered name when known."""
    enterprise = session.execute(select(enterprises.c.name, enterprises.c.status)
                                 .where(enterprises.c.uscc == uscc)).first()
    owed = session.execute(select(tax_arrears.c.outstanding).where(tax_arrears.c.uscc == uscc)).scalar()
    contributions = session.execute(select(contribution_arrears.c.outstanding).where(
        contribution_arrears.c.uscc == uscc)).scalar()
    listed = session.execute(select(listings.c.kinds).where(listings.c.uscc == uscc)).scalar()
    running = session.execute(select(deregistrations.c.case_id).where(
        (deregistrations.c.uscc == uscc) & deregistrations.c.finished_at.is_(None))).scalar()
    return (Standing(status=enterprise.status if enterprise else None,
                     outstanding_tax=owed or Decimal("0.00"),
                     outstanding_contributions=contributions or Decimal("0.00"), running_case=running,
                     listings=tuple(listed or ())),
            enterprise.name if enterprise else None)
