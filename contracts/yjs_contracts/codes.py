"""Chinese official identification codes: validation, construction and masking.

Pure functions (apart from reading today's date for the "birth date not in the
future" rule, which can be overridden with ``today=``) for:

* 统一社会信用代码 / Unified Social Credit Code (GB 32100-2015), 18 characters:
  registration authority (1), organisation type (1), administrative division
  (6 digits), organisation code (8 characters + GB 11714 check character) and a
  final mod-31 check character.  Only the 31-symbol alphabet ``USCC_ALPHABET``
  (no I, O, S, V, Z) is accepted; lowercase letters are rejected.
* 组织机构代码 check character (GB 11714-1997), mod 11.
* 居民身份证号码 / resident identity card number (GB 11643-1999), 18
  characters: 17 digits (division, birth date YYYYMMDD, sequence) plus a mod-11
  check character.  The check character ``X`` must be uppercase here; a lowercase
  ``x`` is rejected (the API's door upper-cases it before it gets here).
* Display masking of identity numbers and mainland mobile numbers.

Validation failures raise :class:`CodeError` (a ``ValueError``) whose
``reason`` attribute is a short machine-readable string and whose message is the Chinese a
registrar would write.  Whatever occupies the
final (check) position of a code is only ever compared against the computed
check character, so a wrong or out-of-alphabet character there is reported as
``"check_character"``.
"""

from __future__ import annotations

import datetime
import re
from types import MappingProxyType
from typing import Mapping

__all__ = [
    "USCC_ALPHABET",
    "USCC_WEIGHTS",
    "AUTHORITY_TYPES",
    "ORG_CODE_WEIGHTS",
    "ID_WEIGHTS",
    "MOBILE_PATTERN",
    "CodeError",
    "uscc_check_character",
    "org_code_check_character",
    "validate_uscc",
    "is_valid_uscc",
    "make_uscc",
    "id_check_character",
    "validate_id_number",
    "is_valid_id_number",
    "birth_date_of",
    "make_id_number",
    "mask_id_number",
    "mask_mobile",
]

#: GB 32100 character set; a character's value is its index (0..30).
USCC_ALPHABET: str = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}

#: Weights for positions 1..17: 3**(i-1) mod 31.
USCC_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))

#: Registration authority code -> permitted organisation type codes (GB 32100-2015, table 1).
AUTHORITY_TYPES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "1": frozenset("1239"),  # 机构编制: 机关, 事业单位, 编办直接管理机构编制的群众团体, 其他
        "2": frozenset("19"),  # 外交: 外国常驻新闻机构, 其他
        # 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
        "3": frozenset("123459"),
        "4": frozenset("19"),  # 文化: 外国在华文化中心, 其他
        "5": frozenset("1239"),  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
        "6": frozenset("129"),  # 旅游: 外国旅游部门常驻代表机构, 港澳台地区旅游部门常驻内地代表机构, 其他
        "7": frozenset("129"),  # 宗教: 宗教活动场所, 宗教院校, 其他
        "8": frozenset("19"),  # 工会: 基层工会, 其他
        "9": frozenset("123"),  # 工商/市场监管: 企业, 个体工商户, 农民专业合作社
        "A": frozenset("19"),  # 中央军委改革和编制办公室: 军队事业单位, 其他
        "N": frozenset("1239"),  # 农业: 组级、村级、乡镇级集体经济组织, 其他
        "Y": frozenset("1"),  # 其他
    }
)

#: 主体标识码 the national code centre assigns to a new entity: MA, six characters, the check
NEW_ENTITY_PREFIX = "MA"
_NEW_ENTITY_SPACE = 31**6
#: make_uscc spreads registration's counter over the six characters (serial × a multiplier prime
#: to 31, plus an offset, modulo 31**6: a permutation), so consecutive serials give unrelated
#: codes instead of a zero-padded count; the code stays unique and the same on a retry.
_SPREAD_MULTIPLIER, _SPREAD_OFFSET = 387_420_489, 104_729

#: GB 11714 weights for the 8 body characters of an organisation code.
ORG_CODE_WEIGHTS: tuple[int, ...] = (3, 7, 9, 10, 5, 8, 4, 2)

#: GB 11643 weights for the first 17 digits of an identity number.
ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

MOBILE_PATTERN: str = r"^1[3-9][0-9]{9}$"  # ASCII digits: a full-width mobile is not one
_MOBILE_RE = re.compile(MOBILE_PATTERN, re.ASCII)

_DIGITS = frozenset("0123456789")
_ORG_BODY_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_MIN_BIRTH_YEAR = 1800


class CodeError(ValueError):
    """An invalid code.  ``reason`` is a short machine-readable string."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.message


def _require_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise CodeError("type", f"{what}应为文本，实为 {type(value).__name__}")
    return value


def _require_length(value: str, length: int, what: str) -> None:
    if len(value) != length:
        raise CodeError("length", f"{what}应为 {length} 位，实为 {len(value)} 位")


def _is_ascii_digits(value: str) -> bool:
    return all(c in _DIGITS for c in value)


# --------------------------------------------------------------------------
# GB 11714 organisation code
# --------------------------------------------------------------------------


def org_code_check_character(first8: str) -> str:
    """GB 11714 check character for an 8-character organisation code body.

    Body characters are ASCII digits or uppercase letters (A=10 ... Z=35).
    The result is ``'0'``-``'9'`` or ``'X'`` (check 10); check 11 becomes ``'0'``.
    """
    _require_str(first8, "主体标识码本体")
    _require_length(first8, 8, "主体标识码本体")
    total = 0
    for i, (char, weight) in enumerate(zip(first8, ORG_CODE_WEIGHTS), start=1):
        if char not in _ORG_BODY_CHARS:
            raise CodeError(
                "alphabet",
                f"主体标识码第 {i} 位（{char}）应为数字或大写字母",
            )
        value = int(char) if char in _DIGITS else ord(char) - 55
        total += value * weight
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


# --------------------------------------------------------------------------
# GB 32100 unified social credit code
# --------------------------------------------------------------------------


def _check_uscc_alphabet(chars: str, offset: int = 0) -> None:
    for i, char in enumerate(chars, start=1 + offset):
        if char not in _USCC_VALUE:
            raise CodeError(
                "alphabet",
                f"统一社会信用代码第 {i} 位（{char}）应为数字或大写字母，且不用 I、O、S、V、Z",
            )


def uscc_check_character(first17: str) -> str:
    """GB 32100 check character for the first 17 characters of a credit code."""
    _require_str(first17, "统一社会信用代码前 17 位")
    _require_length(first17, 17, "统一社会信用代码前 17 位")
    _check_uscc_alphabet(first17)
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _check_authority_type(authority: str, org_type: str) -> None:
    if org_type not in AUTHORITY_TYPES.get(authority, frozenset()):
        raise CodeError(
            "authority_type",
            f"登记管理部门代码 {authority} 与机构类别代码 {org_type} 不是有效组合",
        )


def _check_division(division: str) -> None:
    if not (len(division) == 6 and _is_ascii_digits(division)):
        raise CodeError(
            "division", f"行政区划码 {division} 应为 6 位数字"
        )


def validate_uscc(code: str) -> None:
    """Raise :class:`CodeError` unless ``code`` is a valid credit code.

    Checked in order: type, length, alphabet of positions 1-17, final check
    character, authority/type pair, division, GB 11714 organisation code.
    """
    _require_str(code, "统一社会信用代码")
    _require_length(code, 18, "统一社会信用代码")
    _check_uscc_alphabet(code[:17])
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise CodeError(
            "check_character",
            f"统一社会信用代码校验码应为 {expected}，实为 {code[17]}",
        )
    _check_authority_type(code[0], code[1])
    _check_division(code[2:8])
    org_expected = org_code_check_character(code[8:16])
    if code[16] != org_expected:
        raise CodeError(
            "organisation_code",
            f"主体标识码 {code[8:17]} 的校验码应为 {org_expected}，实为 {code[16]}",
        )


def is_valid_uscc(code: str) -> bool:
    """True if ``code`` is a valid credit code (never raises)."""
    try:
        validate_uscc(code)
    except CodeError:
        return False
    return True


def make_uscc(
    division_code: str, serial: int, authority: str = "9", org_type: str = "1"
) -> str:
    """The credit code of the ``serial``-th entity registered in a division, deterministically.

    Its 主体标识码 is shaped like the national code centre's for a new entity: ``MA``, six
    characters of ``USCC_ALPHABET`` and the GB 11714 check character. Distinct serials
    (``0 <= serial < 31**6``) give distinct codes.
    """
    _require_str(division_code, "行政区划码")
    _check_division(division_code)
    _require_str(authority, "登记管理部门代码")
    _require_str(org_type, "机构类别代码")
    _check_authority_type(authority, org_type)
    if isinstance(serial, bool) or not isinstance(serial, int):
        raise TypeError(f"serial must be an int, got {type(serial).__name__}")
    if not 0 <= serial < _NEW_ENTITY_SPACE:
        raise ValueError(f"serial must be in range 0 <= serial < 31**6, got {serial}")
    rest = (serial * _SPREAD_MULTIPLIER + _SPREAD_OFFSET) % _NEW_ENTITY_SPACE
    body = []
    for _ in range(6):
        rest, digit = divmod(rest, 31)
        body.append(USCC_ALPHABET[digit])
    org_body = NEW_ENTITY_PREFIX + "".join(reversed(body))
    first17 = (
        authority + org_type + division_code + org_body
        + org_code_check_character(org_body)
    )
    return first17 + uscc_check_character(first17)


# --------------------------------------------------------------------------
# GB 11643 resident identity number
# --------------------------------------------------------------------------


def id_check_character(first17: str) -> str:
    """GB 11643 check character ('0'-'9' or uppercase 'X') for 17 digits."""
    _require_str(first17, "公民身份号码前 17 位")
    _require_length(first17, 17, "公民身份号码前 17 位")
    if not _is_ascii_digits(first17):
        raise CodeError("digits", "公民身份号码前 17 位应为数字")
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def _check_birth(birth: datetime.date, today: datetime.date | None) -> None:
    if today is None:
        today = datetime.date.today()
    if birth.year < _MIN_BIRTH_YEAR:
        raise CodeError(
            "birth_date", f"出生日期 {birth.isoformat()} 早于 {_MIN_BIRTH_YEAR} 年"
        )
    if birth > today:
        raise CodeError("birth_date", f"出生日期 {birth.isoformat()} 晚于今天")


def _parse_birth(digits8: str) -> datetime.date:
    try:
        return datetime.date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        raise CodeError(
            "birth_date", f"出生日期 {digits8} 不是真实的日期"
        ) from None


def validate_id_number(number: str, *, today: datetime.date | None = None) -> None:
    """Raise :class:`CodeError` unless ``number`` is a valid identity number.

    Checked in order: type, length, digits 1-17, check character (uppercase
    ``X`` only), birth date (real, year >= 1800, not after ``today``, which
    defaults to the current local date).
    """
    _require_str(number, "公民身份号码")
    _require_length(number, 18, "公民身份号码")
    expected = id_check_character(number[:17])
    if number[17] != expected:
        hint = "（须大写）" if number[17] == "x" and expected == "X" else ""
        raise CodeError("check_character", f"公民身份号码校验位应为 {expected}，实为 {number[17]}{hint}")
    _check_birth(_parse_birth(number[6:14]), today)


def is_valid_id_number(number: str, *, today: datetime.date | None = None) -> bool:
    """True if ``number`` is a valid identity number (never raises)."""
    try:
        validate_id_number(number, today=today)
    except CodeError:
        return False
    return True


def birth_date_of(number: str) -> datetime.date:
    """Birth date of a valid identity number (raises :class:`CodeError` otherwise)."""
    validate_id_number(number)
    return _parse_birth(number[6:14])


def make_id_number(division: str, birth: datetime.date, sequence: int) -> str:
    """Build a valid identity number (for tests and samples).

    ``division`` is 6 digits, ``birth`` a date from 1800 up to today and
    ``sequence`` 0..999 (its parity is conventionally the sex: odd = male).
    """
    _require_str(division, "行政区划码")
    _check_division(division)
    if not isinstance(birth, datetime.date) or isinstance(birth, datetime.datetime):
        raise TypeError("birth must be a datetime.date")
    _check_birth(birth, None)
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise TypeError(f"sequence must be an int, got {type(sequence).__name__}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be in range 0..999, got {sequence}")
    first17 = f"{division}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    return first17 + id_check_character(first17)


# --------------------------------------------------------------------------
# Masking for display
# --------------------------------------------------------------------------


def mask_id_number(number: str) -> str:
    """Keep the first 6 and last 4 characters: ``110105********002X``.

    Requires 18 characters; the check character is not verified.
    """
    _require_str(number, "公民身份号码")
    _require_length(number, 18, "公民身份号码")
    return number[:6] + "*" * 8 + number[-4:]


def mask_mobile(mobile: str) -> str:
    """Mask a mainland mobile number as ``138****0000``."""
    _require_str(mobile, "手机号码")
    if not _MOBILE_RE.fullmatch(mobile):
        raise CodeError("mobile", f"{mobile} 不是大陆手机号码")
    return mobile[:3] + "****" + mobile[-4:]


# --------------------------------------------------------------------------
# ISO 3166-1 alpha-3 country codes (nationality of a foreign investor)
# --------------------------------------------------------------------------

#: The officially assigned ISO 3166-1 alpha-3 codes: a nationality outside it is refused at the
#: door instead of reaching a registrar.
ISO3166_ALPHA3: frozenset[str] = frozenset("""
ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD BGR
BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG
COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH
FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY
HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM
KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL
MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR
NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU
SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA
TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB
VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
""".split())


# --------------------------------------------------------------------------
# Names and free text
# --------------------------------------------------------------------------

#: Unicode categories never part of a name or a line of text: controls, format characters
#: (bidi overrides, zero-width joiners), private use, surrogates, unassigned, line/paragraph
#: separators (unassigned code points are let through: newer CJK extensions are names). A seal or a licence must show exactly what a person reads.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be a name or a line of text, or None. Multi-line text may hold
    newlines and tabs, nothing else of the above."""
    import unicodedata

    if not value.strip():
        return "must not be blank"
    if not multiline and value != value.strip():
        return "must not begin or end with whitespace"
    if value.isprintable():
        return None  # printable text holds none of the forbidden categories: no need to look at each character
    for char in value:
        if multiline and char in "\n\r\t":
            continue
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return f"contains a control, format or private-use character (U+{ord(char):04X})"
    return None
