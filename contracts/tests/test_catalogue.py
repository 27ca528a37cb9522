"""The catalogue holds together: every licensed item names permits that exist, every
industry's items exist, and the plan adds a licensing step only when a department must act."""

import pytest
from yjs_contracts import catalogue, samples
from yjs_contracts.catalogue import CURRENT, PermitMode
from yjs_contracts.plans import plan_for


def test_every_licensed_scope_item_names_permits_that_exist():
    licensed = [item for item in CURRENT.items.values() if item.licensed]
    assert licensed
    for item in licensed:
        for code in item.permits:
            assert code in CURRENT.permits, (item.name, code)


def test_every_industrys_items_exist_are_licensed_and_include_its_defining_items():
    assert {"convenience_store", "restaurant", "pharmacy", "hotel", "gym"} <= {i.code for i in CURRENT.industries}
    for industry in CURRENT.industries:
        assert industry.permit_name.endswith("行业综合许可证")
        assert set(industry.defining) <= set(industry.items), industry.code
        for item in industry.items:
            assert item in CURRENT.items and CURRENT.items[item].licensed, (industry.code, item)


def test_the_catalogue_covers_general_and_licensed_items_and_every_mode():
    assert len(CURRENT.items) >= 30
    assert len(catalogue.GENERAL_ITEMS) >= 10 and len(catalogue.LICENSED_ITEMS) >= 10
    assert {p.mode for p in CURRENT.permits.values()} == set(PermitMode)
    for permit in CURRENT.permits.values():
        if permit.mode == PermitMode.commitment:
            assert permit.check_days, permit.code  # a commitment is always checked afterwards
            assert len(permit.conditions) >= 2, permit.code  # its 告知承诺书 says what is promised
        else:
            assert permit.notice() is None and not permit.conditions, permit.code
        if permit.mode in (PermitMode.commitment, PermitMode.approval):
            assert permit.working_days > 0, permit.code
        if permit.mode != PermitMode.cancelled:
            assert len(permit.prefix) == 2 and permit.prefix != catalogue.COMPREHENSIVE_PREFIX
    used = {code for item in CURRENT.items.values() for code in item.permits}
    assert used == set(CURRENT.permits)  # no permit nobody needs


def test_the_catalogue_answer_shows_each_commitment_permits_notice_before_signing():
    answer = CURRENT.described()
    assert answer["version"] == catalogue.VERSION
    permits = {p["code"]: p for p in answer["permits"]}
    food = permits["food_business"]
    assert food["mode"] == "commitment" and food["mode_text"] == "实行告知承诺"
    notice = food["commitment_notice"]
    assert notice["name"] == "食品经营许可证" and notice["check_days"] == 20 and len(notice["conditions"]) == 3
    assert "撤销许可" in notice["liability"] and "信用记录" in notice["liability"]
    assert permits["drug_retail"]["commitment_notice"] is None  # an approval: nothing to sign
    items = {i["name"]: i for i in answer["items"]}
    assert items["餐饮服务"] == {"name": "餐饮服务", "licensed": True, "permits": ["food_business"]}
    assert items["软件开发"]["licensed"] is False
    assert {i["code"] for i in answer["industries"]} >= {"restaurant", "hotel"}


def test_the_callers_of_the_first_edition_keep_working():
    assert catalogue.is_known("软件开发") and catalogue.is_known("餐饮服务") and not catalogue.is_known("炼金术")
    assert catalogue.licensed_items(["软件开发", "餐饮服务", "因私出入境中介服务"]) == ["餐饮服务", "因私出入境中介服务"]
    assert catalogue.LICENSED_ITEMS["餐饮服务"] == "food_business"
    assert catalogue.edition(catalogue.VERSION) is CURRENT
    with pytest.raises(LookupError):
        catalogue.edition("1999.1")


def test_items_whose_approval_was_cancelled_need_no_licensing_step():
    only_cancelled = samples.establishment_application(scope=("软件开发", "因私出入境中介服务"))
    assert "licensing.issue" not in {p.step for p in plan_for("establishment", only_cancelled)}
    mixed = samples.establishment_application(scope=("因私出入境中介服务", "机动车修理和维护"))
    assert "licensing.issue" in {p.step for p in plan_for("establishment", mixed)}
    assert catalogue.items_needing_permits(["药品零售"]) == ["药品零售"]  # one of its two permits remains
