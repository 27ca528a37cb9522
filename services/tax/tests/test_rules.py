"""Tax's rules, without broker or database."""

from decimal import Decimal

import pytest
from yjs_contracts import samples
from yjs_contracts.api import EstablishmentApplication, TaxpayerType
from yjs_tax import rules


def application(**tax) -> EstablishmentApplication:
    raw = samples.establishment_application("红船")
    raw["tax"].update(tax)
    return EstablishmentApplication.model_validate(raw)


def test_the_competent_bureau_is_named_from_the_division_up_to_a_generic_fallback():
    assert rules.tax_authority("330402") == "国家税务总局嘉兴市南湖区税务局"
    assert rules.tax_authority("330421") == "国家税务总局嘉善县税务局"
    assert rules.tax_authority("330499") == "国家税务总局嘉兴市税务局"  # unknown district: its city
    assert rules.tax_authority("339999") == "国家税务总局浙江省税务局"  # unknown city: its province
    assert rules.tax_authority("650102") == "国家税务总局新疆维吾尔自治区税务局"  # every province is known
    assert rules.tax_authority("110105") == "国家税务总局北京市朝阳区税务局"
    assert rules.tax_authority("990102") == "国家税务总局990102税务局"


def test_small_scale_is_the_default_and_needs_no_review():
    raw = samples.establishment_application("红船")
    del raw["tax"]
    app = EstablishmentApplication.model_validate(raw)
    assert rules.taxpayer_type(app) == TaxpayerType.small_scale
    assert rules.needs_review(app) == []


def test_a_general_taxpayer_needs_staff_review():
    app = application(taxpayer_type="general")
    assert rules.taxpayer_type(app) == TaxpayerType.general
    [reason] = rules.needs_review(app)
    assert reason.code == "general_taxpayer_review"
    assert reason.field == "application.tax.taxpayer_type"
    assert "一般纳税人" in reason.message


def test_real_name_confirmation_covers_the_people_named_with_an_identity():
    raw = samples.establishment_application("红船")
    assert rules.real_name_confirmed(EstablishmentApplication.model_validate(raw)) == [
        "legal_representative", "finance_officer", "tax_handler"]
    raw["contacts"]["finance_officer"] = None
    del raw["contacts"]["tax_handler"]["id_number"]
    assert rules.real_name_confirmed(EstablishmentApplication.model_validate(raw)) == ["legal_representative"]


def test_companies_pay_enterprise_income_tax_other_forms_through_their_owners():
    company = rules.tax_items(application())
    assert company[:4] == ["增值税", "城市维护建设税", "教育费附加", "地方教育附加"]
    assert "企业所得税" in company and "个人所得税（代扣代缴）" in company
    raw = samples.establishment_application("红船")
    raw["enterprise"]["type"] = "sole_proprietorship"
    sole = rules.tax_items(EstablishmentApplication.model_validate(raw))
    assert "企业所得税" not in sole and "个人所得税（经营所得）" in sole
    individual = rules.tax_items(EstablishmentApplication.model_validate(samples.individual_business_application()))
    assert "企业所得税" not in individual and "个人所得税（经营所得）" in individual
    cooperative = rules.tax_items(EstablishmentApplication.model_validate(samples.cooperative_application()))
    assert "企业所得税" in cooperative and "个人所得税（经营所得）" not in cooperative


def test_an_individual_business_operator_is_confirmed_in_the_legal_representatives_place():
    app = EstablishmentApplication.model_validate(samples.individual_business_application())
    assert rules.real_name_confirmed(app) == ["operator"]
    assert rules.taxpayer_type(app) == TaxpayerType.small_scale and rules.needs_review(app) == []


def test_invoice_types_are_each_listed_once_in_a_fixed_order():
    assert rules.invoice_types(application(invoices=["special", "ordinary", "special"])) == ["ordinary", "special"]
    assert rules.invoice_types(application(invoices=[])) == []


def test_the_initial_credit_starts_low_and_rises_with_special_invoices_and_general_taxpayers():
    small_ordinary = rules.initial_monthly_credit(TaxpayerType.small_scale, ["ordinary"])
    small_special = rules.initial_monthly_credit(TaxpayerType.small_scale, ["ordinary", "special"])
    general_special = rules.initial_monthly_credit(TaxpayerType.general, ["special"])
    assert small_ordinary == Decimal("100000.00")
    assert small_ordinary < small_special < general_special
    assert rules.initial_monthly_credit(TaxpayerType.small_scale, []) == Decimal("0.00")


def test_clearance_is_refused_while_anything_is_owed():
    [reason] = rules.clearance_reasons(Decimal("0.01"))
    assert reason.code == "unpaid_tax" and "0.01" in reason.message
    assert rules.clearance_reasons(Decimal("0.00")) == []
    assert rules.clearance_reasons(Decimal("-5.00")) == []  # overpaid: nothing owed
    assert rules.clearance_certificate_number("330402", 2026, 17) == "330402税企清〔2026〕17号"


def test_arrears_add_up_and_only_a_positive_amount_is_recorded():
    assert rules.arrears_after(Decimal("100.00"), Decimal("0.5")) == Decimal("100.50")
    for amount in (Decimal("0"), Decimal("-3")):
        with pytest.raises(ValueError, match="positive"):
            rules.arrears_after(Decimal("0"), amount)


def test_a_change_moves_the_taxpayer_only_when_the_domicile_leaves_its_bureau():
    here = rules.tax_authority("330402")
    assert rules.authority_after_change(here, False, "330106") == here
    assert rules.authority_after_change(here, True, "330402") == here  # moved within its district
    assert rules.authority_after_change(here, True, "330106") == rules.tax_authority("330106") != here
    assert rules.updated_items(["name", "domicile"], True) == ["name", "domicile", "tax_authority"]
    assert rules.updated_items(["registered_capital"], False) == ["registered_capital"]


def test_a_natural_persons_equity_transfer_waits_for_its_income_tax_and_an_entitys_does_not():
    from yjs_contracts.api import EquityTransfer
    person = dict(transferor_kind="natural_person", transferor_name="张伟", transferor_id_number=samples.person(11),
                  transferee_name="陈静", amount="500000.00", price="600000.00")
    entity = dict(transferor_kind="entity", transferor_name="某某投资有限公司", transferee_name="陈静",
                  amount="100000.00", price="100000.00")
    unsettled = [EquityTransfer.model_validate(entity), EquityTransfer.model_validate(person)]
    [reason] = rules.equity_transfer_reasons(unsettled)
    assert (reason.code, reason.field) == ("equity_transfer_tax_unsettled", "application.equity_transfers.1.tax_receipt")
    settled = EquityTransfer.model_validate({**person, "tax_receipt": "(2026)浙税完0001"})
    assert rules.equity_transfer_reasons([settled]) == []
