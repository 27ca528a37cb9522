"""When a 告知承诺 permit's post-issuance check falls due. Production: on the check date the
catalogue sets for the permit (`check_days` working days after issue); tests and demos set
COMMITMENT_CHECK_PERIOD_SECONDS to have every check fall due that many seconds after issue (and
count as overdue twice that long after).

How often each replica looks for rectifications (整改) past their deadline:
COMMITMENT_CHECK_SECONDS (5)."""

from __future__ import annotations

import os
from typing import Mapping


def check_period_seconds(environ: Mapping[str, str] = os.environ) -> float | None:
    raw = environ.get("COMMITMENT_CHECK_PERIOD_SECONDS")
    return float(raw) if raw else None
