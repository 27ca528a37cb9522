"""What operators call on every service over RPC: health, dead letters, replay. Dead letters
hold people's data and replay changes state: both need a verified operator as the caller."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from sqlalchemy import select, update

from .caller import CallerIdentity
from .consumer import ATTEMPTS_HEADER, find_database
from .db import ping


class DeadLetterNotFound(LookupError):
    pass


class ContainerRef(DependencyProvider):
    """The service's own container, for entrypoints that work on the kit's machinery."""

    def get_dependency(self, worker_ctx):
        return self.container


class OperatorRpc:
    """Mixed into every service class that has a Database."""

    container_ref = ContainerRef()
    rpc_caller = CallerIdentity()

    @rpc
    def health(self) -> dict:
        ping(find_database(self.container_ref).engine)
        return {"service": self.name, "database": "ok"}

    @rpc
    def dead_letters(self, include_replayed: bool = False) -> list[dict]:
        self.rpc_caller.require("operator")
        database = find_database(self.container_ref)
        table = database.metadata.tables["kit_dead_letters"]
        query = select(table).order_by(table.c.id)
        if not include_replayed:
            query = query.where(table.c.replayed_at.is_(None))
        with database.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [{
            "dead_letter_id": f"{self.name}:{row['id']}", "service": self.name, "queue": row["queue"],
            "event_type": row["event_type"], "event_id": row["event_id"], "case_id": row["case_id"],
            "reason": row["reason"], "attempts": row["attempts"],
            "failed_at": row["failed_at"].isoformat(),
            "replayed_at": row["replayed_at"].isoformat() if row["replayed_at"] else None,
        } for row in rows]

    @rpc
    def replay_dead_letter(self, number: int) -> dict:
        """Put the message back on its queue for a fresh round of tries; the inbox makes sure
        it is applied at most once."""
        self.rpc_caller.require("operator")
        database = find_database(self.container_ref)
        table = database.metadata.tables["kit_dead_letters"]
        with database.engine.begin() as connection:
            row = connection.execute(select(table).where(table.c.id == int(number)).with_for_update()).mappings().first()
            if row is None:
                raise DeadLetterNotFound(f"{self.name}:{number}")
            consumer = next(e for e in self.container_ref.entrypoints if hasattr(e, "publisher"))
            consumer.publisher.publish(json.loads(row["body"]), routing_key=row["queue"],
                                       headers={ATTEMPTS_HEADER: 0})
            connection.execute(update(table).where(table.c.id == row["id"]).values(replayed_at=datetime.now(timezone.utc)))
        return {"dead_letter_id": f"{self.name}:{number}", "replayed": True}
