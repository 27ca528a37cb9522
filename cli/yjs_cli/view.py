"""Readable views: a case record, a dead letter list, a service's JSON log line."""

from __future__ import annotations

import json
from typing import Any

STATUS_MARKS = {"completed": "✔", "rejected": "✘", "cancelled": "–", "pending": "·", "in_progress": "…",
                "awaiting_review": "?", "awaiting_applicant": "!", "not_required": " "}


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_flat(v) for v in value)
    return str(value)


def case_view(record: dict[str, Any]) -> str:
    lines = [f"case {record['case_id']}  {record['matter']}  {record['status'].upper()}",
             f"  submitted {record['submitted_at']}" + (f"  finished {record['finished_at']}" if record["finished_at"] else ""),
             "", "  steps:"]
    for step in record["steps"]:
        waits = f"  after {', '.join(step['after'])}" if step["after"] else ""
        notes = "".join([f"  decided by {step['decided_by']}" if step.get("decided_by") else "",
                         "  OVERDUE" if step.get("overdue") else "",
                         f"  materials due {step['materials_due']}" if step.get("materials_due") else ""])
        lines.append(f"    {STATUS_MARKS.get(step['status'], '?')} {step['step']:<24} {step['status']:<12}"
                     f" due {step['deadline'] or '-'}{waits}{notes}")
        for reason in step["reasons"]:
            lines.append(f"        {reason['code']}: {reason['message']} ({reason.get('field') or '-'})")
    outputs = record["outputs"]
    if outputs:
        lines += ["", "  outputs (统一出件):"]
        for key, value in outputs.items():
            if key == "seals":
                lines.append("    seals:")
                lines += [f"      {s['type']:<22} {s['filing_code']}  {s['name']}" for s in value]
            else:
                lines.append(f"    {key}: {_flat(value)}")
    lines += ["", "  timeline:"]
    lines += [f"    {t['at']}  {t['event_type']:<40} {t['summary']}" for t in record["timeline"]]
    return "\n".join(lines)


def dead_letters_view(items: list[dict[str, Any]]) -> str:
    if not items:
        return "no dead letters"
    return "\n".join(f"{d['dead_letter_id']:<18} {d['event_type'] or '-':<40} case {d['case_id'] or '-'}  "
                     f"tries {d['attempts']}  {d['failed_at']}\n    {d['reason']}" for d in items)


def log_line(service: str, line: str) -> str:
    """A service's JSON log line as one readable line; anything else as it came."""
    try:
        entry = json.loads(line)
    except ValueError:
        return f"{service:<14} {line}"
    if not isinstance(entry, dict):
        return f"{service:<14} {line}"
    at = str(entry.pop("timestamp", ""))[11:19]
    level = entry.pop("level", "")
    event = entry.pop("event", "")
    entry.pop("service", None)
    rest = " ".join(f"{k}={v}" for k, v in entry.items() if k not in ("correlation_id", "event_id"))
    return f"{at} {service:<14} {level:<7} {event}  {rest}".rstrip()
