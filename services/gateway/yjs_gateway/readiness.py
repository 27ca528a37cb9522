"""When the gateway is ready: it can take submissions and read cases while the case service
answers. A department that is down delays only its own steps (their events wait in its queue):
it shows in `/readyz`'s checks and in alerts, and does not take the API out of its load balancer."""

from __future__ import annotations

#: what submitting and reading cases cannot do without
ESSENTIAL = ("case",)


def readiness(checks: dict[str, str]) -> tuple[int, str]:
    """(HTTP status, status) of `/readyz` from each service's check ("ok" or why not): 200 "ok"
    when all answer, 200 "degraded" when only departments do not, 503 "unavailable" when an
    essential service does not."""
    if any(checks.get(name) != "ok" for name in ESSENTIAL):
        return 503, "unavailable"
    return 200, "ok" if all(check == "ok" for check in checks.values()) else "degraded"
