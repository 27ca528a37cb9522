"""One logging configuration for every process: structlog and the standard library (nameko,
kombu, werkzeug, eventlet's server) go through the same processors to stdout — JSON lines in
production, readable lines in a terminal. Whatever a line carries, from the message to an
exception's text and a message body's repr: ID numbers, mobile numbers and bank account numbers
are masked, and control and bidi characters are escaped, so a value can never forge a line or
drive the terminal."""

from __future__ import annotations

import logging
import os
import re
import sys
from contextvars import ContextVar
from typing import Any, Callable

import structlog

#: digits-only boundaries: a number glued to letters (a forged path, "id110105…") is still one
ID_NUMBER = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9])")
MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
#: bank account and card numbers: a run of 12 to 30 digits standing on its own (case ids and
#: licence numbers start with letters or are 15 digits of a division and a serial: left alone)
BANK_ACCOUNT = re.compile(r"(?<![0-9A-Za-z])([0-9]{4})[0-9]{4,22}([0-9]{4})(?![0-9A-Za-z])")
#: C0 and C1 controls, DEL, bidi embeddings/overrides/isolates and marks, line/paragraph separators
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
#: what a JSON line still needs escaped: JSON escapes C0 itself (a traceback's newlines stay
#: readable as \n), not DEL, C1, bidi or the Unicode line separators
BEYOND_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_escaping = {"pattern": CONTROL}
#: the event this green thread's worker is applying: its fields join a line only when one is
#: written, so applying an event costs one assignment, not a rebinding of the log context
_EVENT: ContextVar[Any] = ContextVar("yjs_log_event", default=None)


def about_event(event: Any) -> None:
    """Every line written from here on in this green thread says which case and event it is
    about (`event`, an Envelope; None: no event)."""
    _EVENT.set(event)


def add_event_fields(_logger, _name, event_dict):
    event = _EVENT.get()
    if event is not None:
        event_dict.setdefault("case_id", event.case_id)
        event_dict.setdefault("event_id", str(event.event_id))
        event_dict.setdefault("event_type", event.event_type)
        event_dict.setdefault("correlation_id", event.correlation_id)
    return event_dict


def mask(text: str) -> str:
    text = ID_NUMBER.sub(r"\1********\2", text)
    text = MOBILE.sub(r"\1****\2", text)
    return BANK_ACCOUNT.sub(lambda m: m.group(0) if len(m.group(0)) == 15 else f"{m.group(1)}****{m.group(2)}", text)


def escape(text: str) -> str:
    """Control characters as visible escapes (\\n, \\x1b, \\u202e): one value, one line."""
    return _escaping["pattern"].sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def clean(text: str) -> str:
    return escape(mask(text))


def _clean_values(value, key=None):
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {k: _clean_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_values(v) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return clean(repr(value))  # anything else would be rendered by its repr: masked first


def mask_personal_data(_logger, _name, event_dict):
    # "_record" and the like are structlog's own bookkeeping, removed before rendering
    return {key: value if key.startswith("_") else _clean_values(value) for key, value in event_dict.items()}


#: predicates: a worker's exception for which nameko's "error handling worker" line (with its
#: traceback) is dropped, because the entrypoint answered it (a 4xx) and logged it in one line
_QUIET: list[Callable[[BaseException], bool]] = []


def quiet_worker_errors(predicate: Callable[[BaseException], bool]) -> None:
    if predicate not in _QUIET:
        _QUIET.append(predicate)


class _WorkerErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (exc is not None and any(quiet(exc) for quiet in _QUIET))


class StdoutLogger:
    """Writes to whatever sys.stdout is at the time of writing (it is swapped under test runners)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stdout, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


class _StdoutHandler(logging.StreamHandler):
    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value):
        pass


def _renderer(fmt: str | None):
    fmt = fmt or os.environ.get("LOG_FORMAT") or ("console" if sys.stdout.isatty() else "json")
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    return structlog.processors.JSONRenderer(ensure_ascii=False)


def configure(service: str, level: str = "INFO", fmt: str | None = None) -> None:
    """`fmt`: "json" or "console"; by default LOG_FORMAT, else console on a terminal, JSON otherwise."""
    numeric = getattr(logging, level.upper(), logging.INFO)
    def add_service(_logger, _name, event_dict):
        # bound here too: green threads do not all inherit the context bound below
        event_dict.setdefault("service", service)
        return event_dict

    shared = [
        structlog.contextvars.merge_contextvars,
        add_event_fields,
        add_service,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_personal_data,  # after the exception became text: its message is masked too
    ]
    renderer = _renderer(fmt)
    json_lines = isinstance(renderer, structlog.processors.JSONRenderer)
    _escaping["pattern"] = BEYOND_JSON if json_lines else CONTROL
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=lambda *args: StdoutLogger(),
        cache_logger_on_first_use=True,
    )
    handler = _StdoutHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]))
    handler.addFilter(_WorkerErrors())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in ("nameko", "kombu", "amqp", "werkzeug", "eventlet"):
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    logging.captureWarnings(True)
    structlog.contextvars.bind_contextvars(service=service)
