"""经营范围规范表述目录 and the 证照分离 permit list, the part this system knows, as data.

Each scope item is a general item (一般项目) or names the permits it needs; each permit is
handled in one of the four reform modes; the permits one industry needs are merged into one
行业综合许可证 (一业一证). The catalogue is versioned: a case is planned with the edition in force
when it was submitted and keeps it (`CaseSubmitted.catalogue_version`), so a later edition never
changes a case in progress. A region tightens a mode or adds an item by publishing a new edition.

An item that needs a 备案 rather than a 许可 (e.g. 食品销售（仅销售预包装食品）) names its filing
like any other permit: "licensed" here means "names a permit", in whatever mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Iterable, Mapping

VERSION = "2025.1"


class PermitMode(StrEnum):
    """The four modes of 证照分离."""

    cancelled = "cancelled"  # 直接取消审批: no permit any more
    filing = "filing"  # 审批改为备案: recorded at once
    commitment = "commitment"  # 实行告知承诺: issued at once on a signed commitment, checked afterwards
    approval = "approval"  # 优化审批服务: decided by department staff within a shortened limit


MODE_TITLES = {
    PermitMode.cancelled: "直接取消审批",
    PermitMode.filing: "审批改为备案",
    PermitMode.commitment: "实行告知承诺",
    PermitMode.approval: "优化审批服务",
}


@dataclass(frozen=True)
class Permit:
    """A permit item (涉企经营许可事项). `working_days`: the promised limit (承诺时限) when staff
    decide it; `check_days`: for a commitment, the working days within which the post-issuance
    check (事后核查) is due; `valid_years`: None when it does not expire (a filing, for one);
    `prefix`: the two letters its numbers start with; `conditions`: for a commitment, what the
    applicant promises it meets (the 告知承诺书's conditions, shown before it signs)."""

    code: str
    name: str
    department: str
    mode: PermitMode
    working_days: float = 0.0
    check_days: int | None = None
    valid_years: int | None = None
    prefix: str = "XK"
    conditions: tuple[str, ...] = ()

    def notice(self) -> "CommitmentNotice | None":
        """告知承诺书 of a commitment-mode permit; None in any other mode."""
        if self.mode != PermitMode.commitment:
            return None
        return CommitmentNotice(self.code, self.name, self.department, self.conditions, COMMITMENT_LIABILITY,
                                self.check_days)


#: what a false promise costs, the same in every 告知承诺书
COMMITMENT_LIABILITY = ("申请人承诺所填信息真实、符合上述条件；发证后主管部门将在核查期限内进行核查，"
                        "经核查承诺不实的，依法撤销许可，记入信用记录，并在一定期限内不再适用告知承诺。")


@dataclass(frozen=True)
class CommitmentNotice:
    """告知承诺书: the conditions a permit needs and the liability for a false promise, in one
    notice; the applicant signs it by naming the item in `commitments`."""

    permit: str
    name: str
    department: str
    conditions: tuple[str, ...]
    liability: str
    check_days: int | None

    def as_dict(self) -> dict:
        return {"permit": self.permit, "name": self.name, "department": self.department,
                "conditions": list(self.conditions), "liability": self.liability, "check_days": self.check_days}


@dataclass(frozen=True)
class ScopeItem:
    """An item of 经营范围规范表述目录; `permits` empty for a general item (一般项目)."""

    name: str
    permits: tuple[str, ...] = ()

    @property
    def licensed(self) -> bool:
        return bool(self.permits)


@dataclass(frozen=True)
class Industry:
    """一业一证: the scope items of one industry whose permits are issued as ONE comprehensive
    permit. The industry applies to a scope that holds all its `defining` items."""

    code: str
    name: str
    permit_name: str  # the 行业综合许可证's name
    items: tuple[str, ...]
    defining: tuple[str, ...]


COMPREHENSIVE_PREFIX = "ZH"  # 行业综合许可证 numbers


@dataclass(frozen=True)
class Catalogue:
    version: str
    permits: Mapping[str, Permit]
    items: Mapping[str, ScopeItem]
    industries: tuple[Industry, ...] = field(default=())

    def is_known(self, item: str) -> bool:
        return item in self.items

    def licensed_items(self, scope: Iterable[str]) -> list[str]:
        """The items that name a permit, in any mode."""
        return [item for item in scope if item in self.items and self.items[item].licensed]

    def items_needing_permits(self, scope: Iterable[str]) -> list[str]:
        """The items some department still has to act on: a permit not cancelled (直接取消审批
        leaves nothing to do)."""
        return [item for item in self.licensed_items(scope)
                if any(self.permits[code].mode != PermitMode.cancelled for code in self.items[item].permits)]

    def described(self) -> dict:
        """The edition as the API answers it (GET /v1/catalogue): every scope item with the
        permits it needs, every permit with its mode and, for a commitment, its 告知承诺书 — what
        an applicant reads before it signs."""
        return {
            "version": self.version,
            "items": [{"name": item.name, "licensed": item.licensed, "permits": list(item.permits)}
                      for item in self.items.values()],
            "permits": [{"code": p.code, "name": p.name, "department": p.department, "mode": p.mode.value,
                         "mode_text": MODE_TITLES[p.mode], "working_days": p.working_days, "check_days": p.check_days,
                         "valid_years": p.valid_years,
                         "commitment_notice": p.notice().as_dict() if p.notice() else None} for p in self.permits.values()],
            "industries": [{"code": i.code, "name": i.name, "permit_name": i.permit_name, "items": list(i.items),
                            "defining": list(i.defining)} for i in self.industries],
        }


def _catalogue(version: str, permits: Iterable[Permit], general: Iterable[str],
               licensed: Mapping[str, tuple[str, ...]], industries: Iterable[Industry]) -> Catalogue:
    items = {name: ScopeItem(name) for name in general}
    items.update({name: ScopeItem(name, codes) for name, codes in licensed.items()})
    return Catalogue(version, MappingProxyType({p.code: p for p in permits}), MappingProxyType(items),
                     tuple(industries))


_M = PermitMode
_PERMITS = (
    # 市场监管
    Permit("food_business", "食品经营许可证", "市场监督管理局", _M.commitment, 5, 20, 5, "JY",
           ("有与经营的食品品种、数量相适应的经营场所，并与有毒、有害场所保持规定的距离",
            "有相应的设备设施（餐饮服务：油烟净化、洗涤消毒、防蝇防鼠）", "有食品安全管理人员和保证食品安全的规章制度")),
    Permit("prepackaged_food_filing", "仅销售预包装食品备案", "市场监督管理局", _M.filing, prefix="YB"),
    Permit("drug_retail_preparation", "药品零售企业筹建审批", "药品监督管理局", _M.cancelled),
    Permit("drug_retail", "药品经营许可证（零售）", "药品监督管理局", _M.approval, 10, None, 5, "YP"),
    Permit("medical_device_class2", "第二类医疗器械经营备案", "药品监督管理局", _M.filing, prefix="XB"),
    Permit("medical_device_class3", "医疗器械经营许可证", "药品监督管理局", _M.approval, 10, None, 5, "XK"),
    # 专卖、商务、文化、体育、卫生
    Permit("tobacco_retail", "烟草专卖零售许可证", "烟草专卖局", _M.approval, 10, None, 5, "YC"),
    Permit("liquor_retail", "酒类商品零售许可证", "商务主管部门（酒类流通管理）", _M.commitment, 5, 20, 3, "JL",
           ("有固定的经营场所和储存条件", "酒类商品进货查验并留存供货凭证", "不向未成年人销售酒类商品")),
    Permit("publication_retail", "出版物经营许可证", "新闻出版主管部门", _M.commitment, 5, 30, 6, "CB",
           ("有确定的名称和经营场所", "有与出版物零售相适应的设备", "不经营非法出版物")),
    Permit("public_health", "公共场所卫生许可证", "卫生健康委员会", _M.commitment, 5, 20, 4, "WG",
           ("场所布局和卫生设施符合公共场所卫生标准", "从业人员持有效健康合格证明", "有卫生管理制度和卫生管理人员")),
    Permit("high_risk_sports", "高危险性体育项目经营许可证", "体育主管部门", _M.commitment, 5, 20, 5, "TY",
           ("场所、器材和设施符合国家标准", "有取得国家职业资格证书的社会体育指导人员和救助人员", "有安全保障制度和措施")),
    Permit("travel_agency", "旅行社业务经营许可证", "文化和旅游主管部门", _M.commitment, 5, 30, None, "LX",
           ("有固定的经营场所和必要的营业设施", "有不少于3名与旅行社业务相适应的专职经理人员", "已按规定缴存旅游服务质量保证金")),
    # 公安
    Permit("hotel_special_trade", "特种行业许可证（旅馆业）", "公安机关", _M.approval, 10, None, None, "TH"),
    Permit("exit_entry_agency", "因私出入境中介机构资格认定", "公安机关出入境管理部门", _M.cancelled),
    # 人社
    Permit("human_resources", "人力资源服务许可证", "人力资源和社会保障局", _M.commitment, 5, 30, None, "RL",
           ("有与开展业务相适应的固定场所、办公设施", "有5名以上具备相应职业资格的专职工作人员", "有健全可行的工作规则和规章制度")),
    Permit("labour_dispatch", "劳务派遣经营许可证", "人力资源和社会保障局", _M.approval, 10, None, 3, "LP"),
    # 交通、粮食、通信
    Permit("road_freight", "道路运输经营许可证（道路货物运输）", "交通运输主管部门", _M.approval, 10, None, 4, "DY"),
    Permit("light_freight", "道路运输经营许可（总质量4500千克及以下普通货运车辆）", "交通运输主管部门", _M.cancelled),
    Permit("vehicle_repair_filing", "机动车维修经营备案", "交通运输主管部门", _M.filing, prefix="JX"),
    Permit("grain_purchase_filing", "粮食收购备案", "粮食和物资储备部门", _M.filing, prefix="LS"),
    Permit("telecom_value_added", "增值电信业务经营许可证", "通信管理局", _M.approval, 10, None, 5, "DX"),
)

_GENERAL = (
    "软件开发", "信息技术咨询服务", "信息系统集成服务", "数据处理和存储支持服务", "技术服务",
    "技术开发", "技术咨询", "技术交流", "技术转让", "技术推广", "企业管理咨询", "市场营销策划",
    "广告设计、代理", "会议及展览服务", "日用百货销售", "办公用品销售", "电子产品销售",
    "服装服饰零售", "互联网销售（除销售需要许可的商品）", "货物进出口", "技术进出口",
    "家政服务", "物业管理", "工程管理服务", "租赁服务（不含许可类租赁服务）", "票务代理服务",
    "餐饮管理", "酒店管理", "健身休闲活动", "体育场地设施经营（不含高危险性体育运动）",
    "体育用品及器材零售", "化妆品零售", "第一类医疗器械销售", "停车场服务",
    "普通货物仓储服务（不含危险化学品等需许可审批的项目）", "洗染服务",
)

_LICENSED: dict[str, tuple[str, ...]] = {
    "餐饮服务": ("food_business",),
    "食品销售": ("food_business",),
    "食品销售（仅销售预包装食品）": ("prepackaged_food_filing",),
    "酒类经营": ("liquor_retail",),
    "烟草制品零售": ("tobacco_retail",),
    "出版物零售": ("publication_retail",),
    "药品零售": ("drug_retail_preparation", "drug_retail"),
    "第二类医疗器械销售": ("medical_device_class2",),
    "第三类医疗器械经营": ("medical_device_class3",),
    "住宿服务": ("hotel_special_trade", "public_health"),
    "洗浴服务": ("public_health",),
    "高危险性体育运动（游泳）": ("high_risk_sports", "public_health"),
    "旅游业务": ("travel_agency",),
    "职业中介活动": ("human_resources",),
    "劳务派遣服务": ("labour_dispatch",),
    "道路货物运输（不含危险货物）": ("road_freight",),
    "道路普通货物运输（仅使用总质量4500千克及以下普通货运车辆）": ("light_freight",),
    "机动车修理和维护": ("vehicle_repair_filing",),
    "粮食收购": ("grain_purchase_filing",),
    "因私出入境中介服务": ("exit_entry_agency",),
    "第二类增值电信业务": ("telecom_value_added",),
}

# tried in this order; an item joins the first industry that applies
_INDUSTRIES = (
    Industry("hotel", "旅馆", "旅馆行业综合许可证",
             ("住宿服务", "餐饮服务", "食品销售", "洗浴服务", "食品销售（仅销售预包装食品）"), ("住宿服务",)),
    Industry("pharmacy", "药店", "药店行业综合许可证",
             ("药品零售", "第二类医疗器械销售", "第三类医疗器械经营", "食品销售（仅销售预包装食品）"), ("药品零售",)),
    Industry("gym", "健身房（游泳馆）", "健身房行业综合许可证",
             ("高危险性体育运动（游泳）", "洗浴服务", "食品销售（仅销售预包装食品）"), ("高危险性体育运动（游泳）",)),
    Industry("restaurant", "饭店", "饭店行业综合许可证", ("餐饮服务", "食品销售", "酒类经营"), ("餐饮服务",)),
    Industry("convenience_store", "便利店", "便利店行业综合许可证",
             ("食品销售", "食品销售（仅销售预包装食品）", "烟草制品零售", "酒类经营", "出版物零售"),
             ("食品销售", "烟草制品零售")),
)

CURRENT = _catalogue(VERSION, _PERMITS, _GENERAL, _LICENSED, _INDUSTRIES)

#: every edition still referenced by a case; an edition is never changed once published
EDITIONS: dict[str, Catalogue] = {CURRENT.version: CURRENT}


def edition(version: str) -> Catalogue:
    try:
        return EDITIONS[version]
    except KeyError:
        raise LookupError(f"no catalogue edition {version!r}; known: {', '.join(sorted(EDITIONS))}") from None


# the current edition, as the callers that predate editions know it
GENERAL_ITEMS: frozenset[str] = frozenset(name for name, item in CURRENT.items.items() if not item.licensed)
#: licensed item -> the first permit it names
LICENSED_ITEMS: dict[str, str] = {name: item.permits[0] for name, item in CURRENT.items.items() if item.licensed}


def is_known(item: str) -> bool:
    return CURRENT.is_known(item)


def licensed_items(scope: list[str]) -> list[str]:
    return CURRENT.licensed_items(scope)


def items_needing_permits(scope: list[str]) -> list[str]:
    return CURRENT.items_needing_permits(scope)
