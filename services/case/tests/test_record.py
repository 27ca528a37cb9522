"""The record's pure rules."""

from yjs_case import record


def test_a_final_step_is_never_changed_by_a_later_report():
    assert record.folds_into("pending", "completed")
    assert record.folds_into("in_progress", "rejected")
    assert not record.folds_into("completed", "rejected")
    assert not record.folds_into("rejected", "completed")
    assert not record.folds_into("completed", "completed")


def test_case_status_follows_its_steps():
    assert record.case_status("submitted", ["pending", "pending"]) == "submitted"
    assert record.case_status("submitted", ["in_progress", "pending"]) == "in_progress"
    assert record.case_status("in_progress", ["completed", "awaiting_applicant"]) == "awaiting_applicant"
    assert record.case_status("in_progress", ["completed", "rejected", "pending"]) == "rejected"
    assert record.case_status("in_progress", ["completed", "not_required"]) == "completed"
    assert record.case_status("withdrawn", ["completed"]) == "withdrawn"


def test_outputs_are_gathered_at_their_places():
    combined = record.combined_outputs([
        ("registration.establish", "completed", {"uscc": "U", "licence_number": "L"}),
        ("seal_carving.carve", "completed", {"seals": [{"type": "official"}], "fee": "0.00"}),
        ("tax.register", "completed", {"tax_authority": "T"}),
        ("tax.grant_invoices", "completed", {"invoice_types": ["ordinary"]}),
        ("bank_account.open", "completed", {"account_number": "A"}),
        ("licensing.issue", "pending", {}),
    ])
    assert combined == {"uscc": "U", "licence_number": "L", "seals": [{"type": "official"}], "fee": "0.00",
                        "tax": {"tax_authority": "T", "invoices": {"invoice_types": ["ordinary"]}},
                        "bank_account": {"account_number": "A"}}


def test_steps_whose_prerequisites_completed_are_in_progress():
    steps = [{"step": "a", "after": []}, {"step": "b", "after": ["a"]}, {"step": "c", "after": ["a", "b"]}]
    assert record.now_in_progress(steps, {"a": "completed", "b": "pending", "c": "pending"}) == ["b"]
