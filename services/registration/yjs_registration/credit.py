"""信用记录 kept by registration: a 告知承诺 promise found false in any department (its
licensing.permit_revoked, ground false_commitment) is recorded against the enterprise and the
person who signed, and announced (registration.credit_recorded) so every department bars
告知承诺 for them until the record runs out: COMMITMENT_BAR_DAYS (365) calendar days."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from sqlalchemy import select
from yjs_contracts.envelope import Envelope, new_event
from yjs_contracts.events import CreditRecorded, PermitRevoked
from yjs_kit.uow import UnitOfWork

from . import authority
from .models import credit_records, enterprises

REVOCATION_EVENT = "licensing.permit_revoked"


def bar_days(environ: Mapping[str, str] = os.environ) -> int:
    days = int(environ.get("COMMITMENT_BAR_DAYS", "365"))
    if days < 1:
        raise ValueError("COMMITMENT_BAR_DAYS must be at least 1")
    return days


def barred_until(found_at: datetime, days: int) -> datetime:
    return found_at + timedelta(days=days)


def record_false_commitment(uow: UnitOfWork, event: Envelope) -> str | None:
    """Once per permit, whatever the redeliveries: the record and its announcement."""
    revoked = PermitRevoked.model_validate(event.data)
    if revoked.ground != "false_commitment":
        return None  # a rectification not done in time is no false promise
    record_id = f"CR{uow.next_number('credit_record'):08d}"
    record = CreditRecorded(
        record_id=record_id, uscc=revoked.uscc, signer=revoked.signer, permit_number=revoked.permit_number,
        finding=revoked.finding, recorded_at=revoked.revoked_at,
        enterprise_name=uow.session.execute(select(enterprises.c.name).where(
            enterprises.c.uscc == revoked.uscc)).scalar(),
        barred_until=barred_until(revoked.revoked_at, bar_days()))
    written = uow.upsert(credit_records, ["permit_number"], update=False, record_id=record_id, uscc=record.uscc,
                         permit_number=record.permit_number, case_id=event.case_id,
                         signer_name=record.signer.name if record.signer else None,
                         signer_id_number=record.signer.id_number if record.signer else None,
                         finding=record.finding[:1000], found_by=revoked.actor[:200], recorded_at=record.recorded_at,
                         barred_until=record.barred_until)
    if not written:
        return None  # recorded when this revocation first came
    uow.announce(new_event("registration.credit_recorded", record, case_id=event.case_id))
    return record_id


def of_enterprise(uow: UnitOfWork, uscc: str) -> list[Mapping[str, Any]]:
    return uow.session.execute(select(credit_records).where(credit_records.c.uscc == uscc)
                               .order_by(credit_records.c.recorded_at)).mappings().all()


def view(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    until = row["barred_until"] if row["barred_until"].tzinfo else row["barred_until"].replace(tzinfo=timezone.utc)
    return {"record_id": row["record_id"], "kind": "false_commitment", "kind_text": "告知承诺不实",
            "permit_number": row["permit_number"], "case_id": row["case_id"], "finding": row["finding"],
            "signer": {"name": row["signer_name"],
                       "id_number": authority.mask_id_number(row["signer_id_number"]) if row["signer_id_number"] else None},
            "recorded_at": row["recorded_at"].isoformat(), "barred_until": until.isoformat(),
            "in_force": until > now}
