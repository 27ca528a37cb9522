"""The test helper that completes a step's prerequisites from the plan, without a broker."""

from yjs_contracts import samples
from yjs_contracts.events import STEP_OUTPUTS, StepReport
from yjs_kit.testing import example_of, prerequisites_completed

USCC = "91350100M000100Y43"


def test_every_step_output_contract_has_a_plain_example_it_accepts():
    for step, model in STEP_OUTPUTS.items():
        model.model_validate(example_of(model, {"uscc": USCC}))  # raises when a contract outgrows the helper


def test_a_step_s_prerequisites_come_from_the_plan_with_the_outputs_a_test_gives():
    notice = example_of(STEP_OUTPUTS["deregistration.notice"], {"notice_id": "ZXGG20261129000001"})
    events = prerequisites_completed("D1", "deregistration", samples.deregistration_application(USCC),
                                     "registration.deregister", {"deregistration.notice": notice})
    reports = [StepReport.model_validate(e.data) for e in events]
    assert [r.step for r in reports] == ["deregistration.notice", "tax.clear", "social_insurance.close"]
    assert {e.case_id for e in events} == {"D1"} and all(r.status == "completed" for r in reports)
    assert reports[0].outputs["notice_id"] == "ZXGG20261129000001"
    assert reports[1].outputs["uscc"] == reports[2].outputs["uscc"] == USCC
