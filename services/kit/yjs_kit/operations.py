"""What operators call on every service over RPC: health, dead letters, replay. Dead letters
hold people's data and replay changes state: both need a verified operator as the caller."""

from __future__ import annotations

from datetime import datetime, timezone

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from sqlalchemy import select, update

from .caller import CallerIdentity
from .consumer import (ATTEMPTS_HEADER, EXCHANGE_HEADER, PUBLISHER_HEADER, REPLAY_HEADER, body_for_listing,
                       find_database)
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
        """The database answers; the outbox relay's loop runs (`relay`: alive or stalled) and how
        old the oldest event it has not published yet is."""
        database = find_database(self.container_ref)
        ping(database.engine)
        outbox = database.relay.measure()
        return {"service": self.name, "database": "ok", "relay": "alive" if database.relay.alive else "stalled",
                **outbox}

    @rpc
    def release_parked_events(self) -> dict:
        """Parked events (the broker kept refusing or returning them) are published again."""
        self.rpc_caller.require("operator")
        released = find_database(self.container_ref).relay.release_parked()
        find_database(self.container_ref).relay.wake()
        return {"service": self.name, "released": released}

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
        return [self._dead_letter(row) for row in rows]

    def _dead_letter(self, row) -> dict:
        payload = row["payload"] if row["payload"] is not None else (row["body"] or "").encode("utf-8")
        body, encoding = body_for_listing(payload, row["content_type"])
        return {
            "dead_letter_id": f"{self.name}:{row['id']}", "service": self.name, "queue": row["queue"],
            "kind": row["kind"], "event_type": row["event_type"], "event_id": row["event_id"],
            "case_id": row["case_id"], "reason": row["reason"], "attempts": row["attempts"],
            "failed_at": row["failed_at"].isoformat(),
            "replayed_at": row["replayed_at"].isoformat() if row["replayed_at"] else None,
            "content_type": row["content_type"], "publisher": row["publisher"], "body": body,
            "body_encoding": encoding,
        }

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
            consumer = next(e for e in self.container_ref.entrypoints if hasattr(e, "republish"))
            payload = row["payload"] if row["payload"] is not None else (row["body"] or "").encode("utf-8")
            # judged again by where it first arrived; rows stored before that was kept held only
            # events that had passed as their producer's
            exchange = row["exchange"] or (f"{row['event_type'].split('.', 1)[0]}.events" if row["event_type"] else None)
            headers = {ATTEMPTS_HEADER: 0, REPLAY_HEADER: int(row["id"])}
            if exchange:
                headers[EXCHANGE_HEADER] = exchange
            if row["publisher"]:  # the replay goes out as this service's user; its first sender is judged
                headers[PUBLISHER_HEADER] = row["publisher"]
            consumer.republish(payload, row["queue"], headers, row["content_type"] or "application/json",
                               "utf-8" if row["payload"] is None else "binary")
            connection.execute(update(table).where(table.c.id == row["id"]).values(replayed_at=datetime.now(timezone.utc)))
        return {"dead_letter_id": f"{self.name}:{number}", "replayed": True}
