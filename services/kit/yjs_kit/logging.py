"""structlog JSON lines on stdout, personal data masked (ID numbers, mobile numbers)."""

from __future__ import annotations

import logging
import re
import sys

import structlog

ID_NUMBER = re.compile(r"(?<![0-9A-Z])(\d{6})\d{8}(\d{3}[\dX])(?![0-9A-Z])")
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask(text: str) -> str:
    return MOBILE.sub(r"\1****\2", ID_NUMBER.sub(r"\1********\2", text))


def _mask_values(value):
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: _mask_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_values(v) for v in value]
    return value


def mask_personal_data(_logger, _name, event_dict):
    return {key: _mask_values(value) for key, value in event_dict.items()}


class StdoutLogger:
    """Writes to whatever sys.stdout is at the time of writing (it is swapped under test runners)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stdout, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def configure(service: str, level: str = "INFO") -> None:
    logging.basicConfig(stream=sys.stdout, level=getattr(logging, level.upper(), logging.INFO),
                        format="%(message)s")
    logging.getLogger("nameko").setLevel(logging.WARNING)
    logging.getLogger("kombu").setLevel(logging.WARNING)
    logging.getLogger("amqp").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_personal_data,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=lambda *args: StdoutLogger(),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
