"""Seal carving's rules, alone: seal types, seal names and filing codes."""

import pytest
from yjs_contracts.api import SealType
from yjs_seal_carving import rules

NAME = "嘉兴红船数字科技有限公司"
USCC = "91350100M000100Y43"


def test_the_five_seal_types_pass():
    assert rules.seal_type_reasons([t.value for t in SealType]) == []
    assert rules.seal_type_reasons([]) == rules.seal_type_reasons(None) == []


def test_every_unknown_seal_type_is_named_with_its_position():
    reasons = rules.seal_type_reasons(["official", "customs", None, "Official"])
    assert [(r.code, r.field) for r in reasons] == [
        ("unknown_seal_type", "application.seals.1"),
        ("unknown_seal_type", "application.seals.2"),
        ("unknown_seal_type", "application.seals.3"),
    ]
    assert "customs" in reasons[0].message


def test_a_type_asked_twice_is_one_seal_in_the_order_asked():
    assert rules.seal_types(["finance", "official", "finance"]) == [SealType.finance, SealType.official]


@pytest.mark.parametrize("seal_type, expected", [
    (SealType.official, NAME),
    (SealType.finance, f"{NAME}财务专用章"),
    (SealType.invoice, f"{NAME}发票专用章（{USCC}）"),
    (SealType.contract, f"{NAME}合同专用章"),
    (SealType.legal_representative, "张伟"),
])
def test_each_seal_says_what_its_type_requires(seal_type, expected):
    assert rules.seal_name(seal_type, NAME, USCC, "张伟") == expected


def test_a_filing_code_is_the_division_and_a_seven_digit_serial():
    assert rules.filing_code("330402", 1) == "3304020000001"
    assert rules.filing_code("330402", 9_999_999) == "3304029999999"
    assert rules.is_filing_code(rules.filing_code("110105", 42))
    assert not rules.is_filing_code("330402000001")  # 12 digits
    assert not rules.is_filing_code("3304020000000")  # serial 0 is never issued


@pytest.mark.parametrize("division, serial", [("330402", 0), ("330402", 10_000_000), ("33040", 1), ("33040A", 1)])
def test_a_filing_code_out_of_shape_is_a_fault(division, serial):
    with pytest.raises(ValueError):
        rules.filing_code(division, serial)


def test_seals_are_free():
    assert rules.FEE == 0 and str(rules.FEE) == "0.00"


def test_a_change_recarves_the_seals_bearing_what_changed_and_only_those_held():
    from yjs_seal_carving.rules import seals_to_recarve
    held = ["official", "finance", "invoice", "contract", "legal_representative"]
    assert seals_to_recarve(held, {"name"}) == [SealType.official, SealType.finance, SealType.invoice,
                                                 SealType.contract]
    assert seals_to_recarve(held, {"legal_representative", "officers"}) == [SealType.legal_representative]
    assert seals_to_recarve(held, {"name", "legal_representative"}) == [SealType(t) for t in held]
    assert seals_to_recarve(["official"], {"legal_representative"}) == []
    assert seals_to_recarve(held, {"domicile", "registered_capital"}) == []
