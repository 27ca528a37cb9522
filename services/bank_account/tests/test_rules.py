"""The bank's rules, pure: account numbers, specimen seals, the watch list."""

import pytest
from yjs_bank_account import rules
from yjs_contracts import samples
from yjs_contracts.api import EstablishmentApplication


def application(**changes) -> EstablishmentApplication:
    return EstablishmentApplication.model_validate({**samples.establishment_application(), **changes})


@pytest.mark.parametrize("bank, prefix", [("中国工商银行", "1204"), ("中国建设银行", "3305"), ("中国农业银行", "1936"),
                                          ("中国银行", "3601"), ("招商银行", "6222"), (" 中国工商银行 ", "1204")])
def test_an_account_number_is_the_bank_prefix_the_division_and_a_serial(bank, prefix):
    number = rules.account_number(bank, "330402", 7)
    assert number == f"{prefix}330402000000007"
    assert len(number) == rules.ACCOUNT_NUMBER_LENGTH == 19 and number.isdigit()


def test_banks_sharing_a_prefix_draw_from_one_counter():
    assert rules.counter_name("招商银行", "330402") == rules.counter_name("交通银行", "330402") == "account:6222330402"
    assert rules.counter_name("中国银行", "330402") != rules.counter_name("中国银行", "330106")


@pytest.mark.parametrize("division, serial", [("33040", 1), ("3304021", 1), ("33040A", 1), ("330402", 0), ("330402", 10 ** 9)])
def test_a_number_outside_the_shape_is_never_issued(division, serial):
    with pytest.raises(ValueError):
        rules.account_number("中国银行", division, serial)


def test_the_largest_serial_still_fits_nineteen_digits():
    assert rules.account_number("中国银行", "330402", 10 ** 9 - 1) == "3601330402999999999"


def carved(*types: str) -> dict:
    return {"seals": [{"type": t, "name": t, "filing_code": f"33040200000{i:02d}"} for i, t in enumerate(types)],
            "fee": "0.00"}


def test_specimen_seals_are_the_finance_seal_then_the_legal_representative_seal():
    outputs = carved("official", "legal_representative", "invoice", "finance", "contract")
    assert rules.specimen_seals(outputs) == ["3304020000003", "3304020000001"]


@pytest.mark.parametrize("outputs", [None, {}, carved(), carved("official", "contract")])
def test_no_specimen_seals_without_those_seals(outputs):
    assert rules.specimen_seals(outputs) == []


def test_the_watch_list_is_empty_by_default_and_read_from_the_environment():
    assert rules.watch_list({}) == frozenset()
    assert rules.watch_list({"BANK_WATCH_LIST": ""}) == frozenset()
    assert rules.watch_list({"BANK_WATCH_LIST": " 11010519491231002x, ,440524188001010014"}) == {
        "11010519491231002X", "440524188001010014"}


def test_a_watch_listed_legal_representative_is_for_staff_to_review():
    app = application()
    [reason] = rules.review_reasons(app, {app.legal_representative.id_number})
    assert reason.code == "watch_list"
    assert reason.field == "application.legal_representative.id_number"
    assert "名单" in reason.message


def test_a_watch_listed_operator_of_an_individual_business_is_for_staff_to_review():
    app = EstablishmentApplication.model_validate(samples.individual_business_application(bank_account=True))
    [reason] = rules.review_reasons(app, {app.operator.id_number})
    assert (reason.code, reason.field) == ("watch_list", "application.operator.id_number")
    assert reason.message == "经营者在风险监控名单中，需人工审核"


def test_no_review_when_the_legal_representative_is_not_watched():
    assert rules.review_reasons(application()) == []
    assert rules.review_reasons(application(), {"11010519491231002X"}) == []


def test_the_specimen_seals_follow_the_recarved_ones_and_keep_their_order():
    recarved = {"seals": [{"type": "legal_representative", "name": "陈静", "filing_code": "3304020000009",
                           "replaces": "3304020000005"}], "cancelled": [], "fee": "0.00"}
    assert rules.specimen_seals_after(["3304020000002", "3304020000005"], recarved) == [
        "3304020000002", "3304020000009"]
    assert rules.specimen_seals_after(["3304020000002"], None) == ["3304020000002"]
