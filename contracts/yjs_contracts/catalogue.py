"""经营范围规范表述目录, the part this system knows: each scope item is a general item (一般项目)
or a licensed item (许可项目) naming the permit it needs."""

from __future__ import annotations

VERSION = "2025.1"

GENERAL_ITEMS: frozenset[str] = frozenset({
    "软件开发", "信息技术咨询服务", "信息系统集成服务", "数据处理和存储支持服务", "技术服务",
    "技术开发", "技术咨询", "技术交流", "技术转让", "技术推广", "企业管理咨询", "市场营销策划",
    "广告设计、代理", "会议及展览服务", "日用百货销售", "办公用品销售", "电子产品销售",
    "服装服饰零售", "互联网销售（除销售需要许可的商品）", "货物进出口", "技术进出口",
    "家政服务", "物业管理", "工程管理服务", "租赁服务（不含许可类租赁服务）", "票务代理服务",
})

#: licensed item -> the permit it needs
LICENSED_ITEMS: dict[str, str] = {
    "餐饮服务": "food_business",
    "食品销售": "food_business",
    "烟草制品零售": "tobacco_retail",
    "药品零售": "drug_retail",
    "第二类增值电信业务": "telecom_value_added",
    "道路货物运输（不含危险货物）": "road_freight",
    "出版物零售": "publication_retail",
    "酒类经营": "liquor_retail",
}


def is_known(item: str) -> bool:
    return item in GENERAL_ITEMS or item in LICENSED_ITEMS


def licensed_items(scope: list[str]) -> list[str]:
    return [item for item in scope if item in LICENSED_ITEMS]
