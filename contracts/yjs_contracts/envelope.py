"""The one envelope every event travels in, whoever publishes or consumes it."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Envelope(BaseModel):
    """An event as it crosses the broker: the exchange is `<producer>.events`, the routing key
    the part of `event_type` after the dot (nameko's own convention)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    event_type: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$", examples=["registration.enterprise_registered"])
    schema_version: int = 1
    occurred_at: datetime
    producer: str
    case_id: str | None = None
    correlation_id: str
    causation_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def source(self) -> str:
        return self.event_type.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.event_type.split(".", 1)[1]


def new_event(
    event_type: str,
    data: BaseModel | dict[str, Any],
    *,
    case_id: str | None,
    causation: Envelope | None = None,
    correlation_id: str | None = None,
) -> Envelope:
    """A fresh event; caused by `causation` when it answers another event (and then in its
    correlation), else the start of a new correlation."""
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    event_id = uuid.uuid4()
    correlation = correlation_id or (causation.correlation_id if causation else str(event_id))
    return Envelope(
        event_id=event_id,
        event_type=event_type,
        occurred_at=utcnow(),
        producer=event_type.split(".", 1)[0],
        case_id=case_id,
        correlation_id=correlation,
        causation_id=str(causation.event_id) if causation else None,
        data=payload,
    )
