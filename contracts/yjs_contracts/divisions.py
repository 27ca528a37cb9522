"""行政区划 names (GB/T 2260): which names of a place an enterprise name may carry for a domicile's
6-digit division code. Every provincial-level division is here; below it, the cities and
counties the project serves so far — add rows as regions come on board."""

from __future__ import annotations

#: provincial-level divisions by their first two digits: (full name, the short form names use)
PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京市", "北京"), "12": ("天津市", "天津"), "13": ("河北省", "河北"), "14": ("山西省", "山西"),
    "15": ("内蒙古自治区", "内蒙古"), "21": ("辽宁省", "辽宁"), "22": ("吉林省", "吉林"),
    "23": ("黑龙江省", "黑龙江"), "31": ("上海市", "上海"), "32": ("江苏省", "江苏"), "33": ("浙江省", "浙江"),
    "34": ("安徽省", "安徽"), "35": ("福建省", "福建"), "36": ("江西省", "江西"), "37": ("山东省", "山东"),
    "41": ("河南省", "河南"), "42": ("湖北省", "湖北"), "43": ("湖南省", "湖南"), "44": ("广东省", "广东"),
    "45": ("广西壮族自治区", "广西"), "46": ("海南省", "海南"), "50": ("重庆市", "重庆"), "51": ("四川省", "四川"),
    "52": ("贵州省", "贵州"), "53": ("云南省", "云南"), "54": ("西藏自治区", "西藏"), "61": ("陕西省", "陕西"),
    "62": ("甘肃省", "甘肃"), "63": ("青海省", "青海"), "64": ("宁夏回族自治区", "宁夏"),
    "65": ("新疆维吾尔自治区", "新疆"), "71": ("台湾省", "台湾"), "81": ("香港特别行政区", "香港"),
    "82": ("澳门特别行政区", "澳门"),
}
#: 直辖市: their districts sit directly under the province-level city
MUNICIPALITIES = frozenset({"11", "12", "31", "50"})

#: cities (xxxx00) and counties or districts below the provincial level, by code
PLACES: dict[str, str] = {
    "110105": "朝阳区", "110107": "石景山区", "110108": "海淀区",
    "310104": "徐汇区", "310115": "浦东新区",
    "330100": "杭州市", "330106": "西湖区", "330108": "滨江区",
    "330400": "嘉兴市", "330402": "南湖区", "330411": "秀洲区", "330421": "嘉善县", "330424": "海盐县",
    "330481": "海宁市", "330482": "平湖市", "330483": "桐乡市",
    "350100": "福州市", "350102": "鼓楼区",
    "440100": "广州市", "440106": "天河区", "440300": "深圳市", "440304": "福田区", "440305": "南山区",
}

_SUFFIXES = ("新区", "市", "区", "县")


def _short(name: str) -> str:
    """嘉兴市 → 嘉兴, 南湖区 → 南湖; a name that would keep one character stays whole (沙县)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _forms(name: str) -> set[str]:
    return {name, _short(name)}


def region_names(division_code: str) -> frozenset[str]:
    """Every name of the domicile's province, city and county an enterprise name may begin with
    (企业名称登记管理规定 art. 7): a district (市辖区) only together with its city (嘉兴市南湖区,
    嘉兴南湖), a county or county-level city on its own (嘉善县, 海宁)."""
    names: set[str] = set()
    province = PROVINCES.get(division_code[:2])
    if province is None:
        return frozenset()
    names |= set(province)
    city = set(province) if division_code[:2] in MUNICIPALITIES else set()
    if division_code[:2] not in MUNICIPALITIES and division_code[:4] + "00" in PLACES:
        city = _forms(PLACES[division_code[:4] + "00"])
        names |= city
    county = PLACES.get(division_code) if division_code[4:] != "00" else None
    if county is not None:
        county_forms = _forms(county)
        if county.endswith("区"):
            names |= {c + k for c in city for k in county_forms}
        else:
            names |= county_forms
    return frozenset(names)


def knows(division_code: str) -> bool:
    """Whether every name the division's places go by is in the table (a province or city code,
    or a county or district listed in PLACES)."""
    if division_code[:2] not in PROVINCES:
        return False
    if division_code[2:] == "0000":
        return True
    return division_code in PLACES


def is_place_name(name: str) -> bool:
    """Whether `name` names a place the table knows, in any of the forms names use."""
    for code in (*(p + "0000" for p in PROVINCES), *PLACES):
        if name in region_names(code):
            return True
    return False


def local_name(division_code: str) -> str | None:
    """The name an authority of exactly this division goes by (国家税务总局{name}税务局): a
    province or city alone, a district with its city (嘉兴市南湖区), a county or county-level city
    alone (嘉善县); None when the table does not know the division."""
    province = PROVINCES.get(division_code[:2])
    if province is None:
        return None
    if division_code[2:] == "0000":
        return province[0]
    name = PLACES.get(division_code)
    if name is None or division_code[4:] == "00" or not name.endswith("区"):
        return name
    city = province[0] if division_code[:2] in MUNICIPALITIES else PLACES.get(division_code[:4] + "00", "")
    return city + name


def nearest_local_name(division_code: str) -> str:
    """The local name of the nearest division the table knows, for an authority that serves it:
    the district's, else its city's, else its province's; the code itself when none is known."""
    for code in (division_code, division_code[:4] + "00", division_code[:2] + "0000"):
        name = local_name(code)
        if name:
            return name
    return division_code


def place_name(division_code: str) -> str:
    """The division as a person reads it, as far as the table knows it: 浙江省嘉兴市南湖区."""
    province = PROVINCES.get(division_code[:2])
    if province is None:
        return ""
    parts = [province[0]]
    for code in (division_code[:4] + "00", division_code):
        if code in PLACES and PLACES[code] not in parts:
            parts.append(PLACES[code])
    return "".join(parts)
