"""/readyz: ready while submissions can be taken and cases read; a department down is named."""

from yjs_gateway.readiness import readiness


def test_every_service_answering_is_ready():
    assert readiness({"case": "ok", "tax": "ok"}) == (200, "ok")


def test_a_department_down_is_degraded_not_unready():
    assert readiness({"case": "ok", "tax": "unavailable: Timeout", "registration": "ok"}) == (200, "degraded")


def test_the_case_service_down_or_unchecked_is_unready():
    assert readiness({"case": "unavailable: Timeout", "tax": "ok"}) == (503, "unavailable")
    assert readiness({"tax": "ok"}) == (503, "unavailable")
