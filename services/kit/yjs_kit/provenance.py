"""Reading a delivered message and deciding whether to trust it, as pure rules: the body must be
a JSON envelope, its producer the exchange it arrived on, its publisher (when each service has
its own broker user) that producer's user, a step report's step one of that producer's
department, and a completed step's outputs what the contracts say they are."""

from __future__ import annotations

from typing import Callable

from pydantic import ValidationError
from yjs_contracts.envelope import Envelope
from yjs_contracts.events import EVENT_MODELS, STEP_OUTPUTS, StepReport
from yjs_contracts.steps import STEP_KINDS, StepStatus

JSON_CONTENT_TYPE = "application/json"


class Refused(Exception):
    """A message that no retry can make acceptable; `kind` is the dead letter's reason code:
    `unreadable`, `provenance` or `invalid`."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{'unreadable envelope' if kind == 'unreadable' else kind}: {detail}")
        self.kind = kind
        self.detail = detail


def read(body: bytes, content_type: str | None, content_encoding: str | None = None) -> Envelope:
    """The envelope in a raw message body, or Refused("unreadable")."""
    if (content_type or "").split(";", 1)[0].strip().lower() != JSON_CONTENT_TYPE:
        raise Refused("unreadable", f"content type {content_type or 'none'!r}, not {JSON_CONTENT_TYPE}")
    if content_encoding and content_encoding.lower().replace("-", "") not in ("utf8", "binary"):
        raise Refused("unreadable", f"content encoding {content_encoding!r}")
    try:
        # parsed and validated in one pass, without the intermediate dicts of json.loads
        return Envelope.model_validate_json(body.decode("utf-8") if isinstance(body, bytes) else body)
    except UnicodeDecodeError as error:
        raise Refused("unreadable", f"not UTF-8: {error}") from None
    except ValidationError as error:
        if any(detail["type"] == "json_invalid" for detail in error.errors()):
            raise Refused("unreadable", f"not JSON: {error}") from None
        raise Refused("unreadable", f"not an envelope: {error}") from None


def producer_of_exchange(exchange: str | None) -> str | None:
    if exchange and exchange.endswith(".events"):
        return exchange[: -len(".events")]
    return None


def check(event: Envelope, exchange: str | None, publisher: str | None = None,
          user_of: Callable[[str], str] | None = None) -> None:
    """Raises Refused("provenance") unless the event came from where it says it did — and, given
    `user_of` (a producer's broker user), unless `publisher`, the broker user that published it
    first, is its producer's — and Refused("invalid") unless a completed step's outputs are what
    its contract defines."""
    producer = producer_of_exchange(exchange)
    if producer is None:
        raise Refused("provenance", f"arrived on {exchange or 'the default exchange'!r}, not a producer's exchange")
    if event.producer != producer or event.source != producer:
        raise Refused("provenance", f"{event.event_type} from producer {event.producer!r} arrived on {exchange!r}")
    if user_of is not None and publisher != user_of(producer):
        raise Refused("provenance", f"{event.event_type} on {exchange!r} published by "
                                    f"{publisher or 'an unnamed user'!r}, not {user_of(producer)!r}")
    if EVENT_MODELS.get(event.event_type) is not StepReport or "step" not in event.data:
        return  # a body that is no report at all fails in its handler, which validates it
    step = event.data.get("step")
    kind = STEP_KINDS.get(step) if isinstance(step, str) else None
    if kind is None or kind.department != producer:
        raise Refused("provenance", f"{producer} reported step {step!r}, not one of its department's")
    try:
        report = StepReport.model_validate(event.data)
        model = STEP_OUTPUTS.get(report.step)
        if report.status == StepStatus.completed and model is not None:
            model.model_validate(report.outputs)
    except ValidationError as error:
        raise Refused("invalid", f"{event.event_type} does not match its contract: {error}") from None
