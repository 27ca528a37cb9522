"""Whatever the door accepts, every department reads again and decides on without raising: a
malformed application is refused at the door, never dead-lettered in a department."""

from datetime import date

from hypothesis import HealthCheck, given, settings
from yjs_bank_account import rules as bank_rules
from yjs_contracts.api import APPLICATION_MODELS, InvalidApplication, parse_submission
from yjs_contracts.codes import make_uscc
from yjs_contracts.hostile import deregistration_submissions, establishment_submissions
from yjs_registration import rules
from yjs_seal_carving import rules as seal_rules
from yjs_tax import rules as tax_rules

BUDGET = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def accepted(body):
    try:
        matter, application = parse_submission(body)
    except InvalidApplication as error:
        assert error.details and all(d.field for d in error.details)
        return None
    # what the case service stores and every department reads back, without the door's "today"
    stored = application.model_dump(mode="json")
    return APPLICATION_MODELS[matter].model_validate(stored)


@BUDGET
@given(establishment_submissions())
def test_an_accepted_establishment_never_makes_a_department_raise(body):
    app = accepted(body)
    if app is None:
        return
    rules.establishment_reasons(app, date(2026, 12, 2))
    rules.review_reasons(app)
    division = app.enterprise.domicile.division_code
    uscc = make_uscc(division, 1)
    rules.licence_number(division, 1)
    tax_rules.tax_authority(division)
    tax_rules.needs_review(app), tax_rules.real_name_confirmed(app), tax_rules.tax_items(app)
    tax_rules.invoice_types(app)
    if app.bank_account:
        bank_rules.review_reasons(app)
        bank_rules.account_number(app.bank_account.bank, division, 1)
        bank_rules.counter_name(app.bank_account.bank, division)
    for seal in app.seals:
        seal_rules.seal_name(seal, app.enterprise.name, uscc, app.legal_representative.name)
    seal_rules.filing_code(division, 1)


@BUDGET
@given(deregistration_submissions())
def test_an_accepted_deregistration_is_read_again(body):
    accepted(body)
