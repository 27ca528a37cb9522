import datetime
import itertools

import pytest
from hypothesis import given, strategies as st

from yjs_contracts import codes
from yjs_contracts.codes import (
    AUTHORITY_TYPES,
    MOBILE_PATTERN,
    USCC_ALPHABET,
    CodeError,
    birth_date_of,
    id_check_character,
    is_valid_id_number,
    is_valid_uscc,
    make_id_number,
    make_uscc,
    mask_id_number,
    mask_mobile,
    org_code_check_character,
    uscc_check_character,
    validate_id_number,
    validate_uscc,
)

# Independent reference implementations (literal weights from the standards).
REF_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
REF_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
REF_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def uscc_sum(first17):
    return sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, REF_USCC_WEIGHTS))


def org_sum(first8):
    return sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w
        for c, w in zip(first8, REF_ORG_WEIGHTS)
    )


def id_sum(first17):
    return sum(int(c) * w for c, w in zip(first17, REF_ID_WEIGHTS))


def reason_of(func, value):
    with pytest.raises(CodeError) as info:
        func(value)
    return info.value.reason


# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------


def test_constants():
    assert USCC_ALPHABET == "0123456789ABCDEFGHJKLMNPQRTUWXY"
    assert len(USCC_ALPHABET) == 31
    assert not set("IOSVZ") & set(USCC_ALPHABET)
    assert list(codes.USCC_WEIGHTS) == REF_USCC_WEIGHTS
    assert list(codes.USCC_WEIGHTS) == [3 ** i % 31 for i in range(17)]
    assert MOBILE_PATTERN == r"^1[3-9][0-9]{9}$"
    assert AUTHORITY_TYPES["1"] == {"1", "2", "3", "9"}
    assert AUTHORITY_TYPES["3"] == {"1", "2", "3", "4", "5", "9"}
    assert AUTHORITY_TYPES["5"] == {"1", "2", "3", "9"}
    assert AUTHORITY_TYPES["6"] == AUTHORITY_TYPES["7"] == {"1", "2", "9"}
    assert AUTHORITY_TYPES["9"] == {"1", "2", "3"}
    assert AUTHORITY_TYPES["N"] == {"1", "2", "3", "9"}
    assert AUTHORITY_TYPES["Y"] == {"1"}
    for authority in "248A":
        assert AUTHORITY_TYPES[authority] == {"1", "9"}
    assert set(AUTHORITY_TYPES) == set("123456789ANY")
    with pytest.raises(TypeError):
        AUTHORITY_TYPES["Z"] = frozenset("1")  # read-only table


def test_code_error():
    err = CodeError("length", "credit code must be 18 characters long")
    assert isinstance(err, ValueError)
    assert err.reason == "length"
    assert str(err) == "credit code must be 18 characters long"


# --------------------------------------------------------------------------
# USCC samples
# --------------------------------------------------------------------------

VALID_USCC = ["91350100M000100Y43", "91110107082833558H", "914403001922038216"]


@pytest.mark.parametrize("code", VALID_USCC)
def test_valid_uscc_samples(code):
    validate_uscc(code)
    assert is_valid_uscc(code)
    assert uscc_check_character(code[:17]) == code[17]
    assert org_code_check_character(code[8:16]) == code[16]


@pytest.mark.parametrize(
    "code, reason",
    [
        ("91350100M000100Y4Z", "check_character"),  # Z is not even in the alphabet
        ("91350100M000100Y44", "check_character"),
        ("94350100M000100Y4R", "authority_type"),
        ("91350100M000100Y56", "organisation_code"),
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y433", "length"),
        ("", "length"),
        ("91350100M000100I43", "alphabet"),
        ("91350100m000100Y43", "alphabet"),
        ("9135010０M000100Y43", "alphabet"),  # full-width digit
        ("Z1350100M000100Y43", "alphabet"),
    ],
)
def test_invalid_uscc_samples(code, reason):
    with pytest.raises(CodeError) as info:
        validate_uscc(code)
    assert info.value.reason == reason
    assert str(info.value)  # readable message
    assert not is_valid_uscc(code)


def test_uscc_lowercase_rejected():
    assert not is_valid_uscc("91110107082833558h")
    assert reason_of(validate_uscc, "91110107082833558h") == "check_character"


def test_uscc_authority_type_with_right_check():
    # every pair not in the table is rejected even when both checks are right
    for authority, org_type in itertools.product(USCC_ALPHABET, repeat=2):
        first16 = authority + org_type + "350100" + "M000100Y"
        first17 = first16 + org_code_check_character(first16[8:16])
        code = first17 + uscc_check_character(first17)
        allowed = org_type in AUTHORITY_TYPES.get(authority, ())
        assert is_valid_uscc(code) == allowed, code
        if not allowed:
            assert reason_of(validate_uscc, code) == "authority_type"


def _with_checks(first16):
    first17 = first16 + org_code_check_character(first16[8:16])
    return first17 + uscc_check_character(first17)


def test_every_type_of_the_standards_table_validates():
    """Codes GB 32100 allows beyond companies: a 村级集体经济组织 (N2), a 公证处 (32), a 仲裁委员会
    (35), a 港澳台 tourism office (62), a 宗教院校 (72), a 个体工商户 (92), a 合作社 (93)."""
    for pair in ("N2", "N3", "32", "35", "62", "72", "92", "93"):
        assert is_valid_uscc(_with_checks(pair + "330402" + "MA2CE7R6")), pair
    for pair in ("36", "63", "73", "N4", "94", "Y2"):
        assert reason_of(validate_uscc, _with_checks(pair + "330402" + "MA2CE7R6")) == "authority_type", pair


def test_both_check_characters_guard_an_entity_shareholders_code():
    code = _with_checks("91330402" + "MA2CE7R6")
    validate_uscc(code)
    wrong_inner = code[:16] + ("0" if code[16] != "0" else "1")
    wrong_inner += uscc_check_character(wrong_inner)  # the final check recomputed: only GB 11714 is wrong
    assert reason_of(validate_uscc, wrong_inner) == "organisation_code"
    wrong_final = code[:17] + ("0" if code[17] != "0" else "1")
    assert reason_of(validate_uscc, wrong_final) == "check_character"


def test_uscc_division_must_be_digits():
    first17 = "91" + "3501A0" + "M000100Y4"
    code = first17 + uscc_check_character(first17)
    assert reason_of(validate_uscc, code) == "division"


def test_uscc_non_str():
    assert not is_valid_uscc(None)
    assert not is_valid_uscc(913501001234567890)
    assert reason_of(validate_uscc, b"91350100M000100Y43") == "type"


# --------------------------------------------------------------------------
# Check character edge cases
# --------------------------------------------------------------------------


def test_uscc_check_zero_when_sum_divisible_by_31():
    found = None
    for serial in range(100_000):
        prefix = "91110000" + f"{serial:09d}"
        if uscc_sum(prefix) % 31 == 0:
            found = prefix
            break
    assert found is not None
    assert uscc_check_character(found) == "0"
    # all other remainders map to alphabet[31 - r]
    for r in range(1, 31):
        for serial in range(100_000):
            prefix = "91110000" + f"{serial:09d}"
            if uscc_sum(prefix) % 31 == r:
                assert uscc_check_character(prefix) == USCC_ALPHABET[31 - r]
                break
        else:  # pragma: no cover
            pytest.fail(f"no prefix with remainder {r}")


def _find_org_body(remainder):
    for n in range(100_000):
        body = f"{n:08d}"
        if org_sum(body) % 11 == remainder:
            return body
    raise AssertionError(remainder)  # pragma: no cover


def test_org_code_check_zero_and_x():
    assert org_code_check_character(_find_org_body(0)) == "0"  # 11 -> '0'
    assert org_code_check_character(_find_org_body(1)) == "X"  # 10 -> 'X'
    for r in range(2, 11):
        assert org_code_check_character(_find_org_body(r)) == str(11 - r)


def test_org_code_letters():
    # A=10 ... Z=35, including letters outside the USCC alphabet
    assert org_code_check_character("M000100Y") == "4"
    for body in ["ABCDEFGH", "IOSVZ123", "ZZZZZZZZ", "00000000"]:
        r = 11 - org_sum(body) % 11
        assert org_code_check_character(body) == {10: "X", 11: "0"}.get(r, str(r))
    with pytest.raises(CodeError) as info:
        org_code_check_character("m000100Y")
    assert info.value.reason == "alphabet"
    with pytest.raises(CodeError) as info:
        org_code_check_character("M000100")
    assert info.value.reason == "length"


def test_uscc_with_org_check_x_and_zero():
    for remainder, expected in [(1, "X"), (0, "0")]:
        body = _find_org_body(remainder)
        first17 = "91110107" + body + expected
        code = first17 + uscc_check_character(first17)
        assert code[16] == expected
        assert is_valid_uscc(code)


def test_check_character_input_errors():
    assert reason_of(uscc_check_character, "9135010") == "length"
    assert reason_of(uscc_check_character, "91350100M000100YI") == "alphabet"
    assert reason_of(id_check_character, "1101051949123100") == "length"
    assert reason_of(id_check_character, "1101051949123100A") == "digits"
    assert reason_of(id_check_character, "1101051949123100٣") == "digits"


def test_id_check_table():
    for r in range(11):
        for n in range(100_000):
            prefix = f"1101051949123{n:04d}"
            if id_sum(prefix) % 11 == r:
                assert id_check_character(prefix) == "10X98765432"[r]
                break


# --------------------------------------------------------------------------
# make_uscc
# --------------------------------------------------------------------------


PAIRS = sorted((a, t) for a, types in AUTHORITY_TYPES.items() for t in types)


def test_make_uscc_examples():
    assert make_uscc("110000", 0) == make_uscc("110000", 0)
    code = make_uscc("330402", 1)
    assert code[:10] == "91330402MA" and is_valid_uscc(code)
    # consecutive serials are not a visible count: no zero-padded body, no shared tail
    first, second = make_uscc("330402", 0), make_uscc("330402", 1)
    assert "0000" not in first[10:16] and first[10:16] != second[10:16]
    assert first[13:16] != second[13:16]
    top = make_uscc("350100", 31**6 - 1, "Y", "1")
    assert is_valid_uscc(top) and top[8:10] == "MA"
    assert make_uscc("330402", 7, "9", "2")[:2] == "92" and make_uscc("330402", 7, "9", "3")[:2] == "93"


def test_make_uscc_errors():
    with pytest.raises(ValueError):
        make_uscc("110000", -1)
    with pytest.raises(ValueError):
        make_uscc("110000", 31**6)
    with pytest.raises(TypeError):
        make_uscc("110000", 1.0)
    with pytest.raises(CodeError) as info:
        make_uscc("11000", 1)
    assert info.value.reason == "division"
    with pytest.raises(CodeError) as info:
        make_uscc("110000", 1, "9", "4")
    assert info.value.reason == "authority_type"


@given(
    division=st.text(alphabet="0123456789", min_size=6, max_size=6),
    serial=st.integers(min_value=0, max_value=31**6 - 1),
    pair=st.sampled_from(PAIRS),
)
def test_every_generated_code_validates_and_looks_newly_assigned(division, serial, pair):
    authority, org_type = pair
    code = make_uscc(division, serial, authority, org_type)
    assert len(code) == 18
    validate_uscc(code)
    assert code[0] == authority and code[1] == org_type
    assert code[2:8] == division
    assert code[8:10] == "MA" and all(c in USCC_ALPHABET for c in code[10:16])
    assert code[16] == org_code_check_character(code[8:16])
    assert code[17] == uscc_check_character(code[:17])


@given(
    division=st.text(alphabet="0123456789", min_size=6, max_size=6),
    serials=st.lists(
        st.integers(min_value=0, max_value=31**6 - 1), min_size=2, max_size=20, unique=True
    ),
)
def test_distinct_serials_give_distinct_codes(division, serials):
    made = [make_uscc(division, s) for s in serials]
    assert len(set(made)) == len(serials)


def test_distinct_small_serials_give_distinct_codes():
    made = {make_uscc("440300", s) for s in range(5000)}
    assert len(made) == 5000


@given(
    division=st.text(alphabet="0123456789", min_size=6, max_size=6),
    serial=st.integers(min_value=0, max_value=31**6 - 1),
    position=st.integers(min_value=0, max_value=17),
    data=st.data(),
)
def test_single_substitution_in_uscc_is_detected(division, serial, position, data):
    code = make_uscc(division, serial)
    replacement = data.draw(
        st.sampled_from([c for c in USCC_ALPHABET if c != code[position]])
    )
    mutated = code[:position] + replacement + code[position + 1 :]
    assert not is_valid_uscc(mutated)
    assert reason_of(validate_uscc, mutated) == "check_character"


def test_every_single_substitution_of_samples_is_detected():
    for code in VALID_USCC:
        for position in range(18):
            for char in USCC_ALPHABET:
                if char != code[position]:
                    mutated = code[:position] + char + code[position + 1 :]
                    assert not is_valid_uscc(mutated), mutated


# --------------------------------------------------------------------------
# Identity numbers
# --------------------------------------------------------------------------

VALID_IDS = ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize("number", VALID_IDS)
def test_valid_id_samples(number):
    validate_id_number(number)
    assert is_valid_id_number(number)
    assert id_check_character(number[:17]) == number[17]


def test_birth_date_of():
    assert birth_date_of("11010519491231002X") == datetime.date(1949, 12, 31)
    assert birth_date_of("440524188001010014") == datetime.date(1880, 1, 1)
    with pytest.raises(CodeError) as info:
        birth_date_of("110105194912310021")
    assert info.value.reason == "check_character"


def _with_check(first17):
    return first17 + id_check_character(first17)


@pytest.mark.parametrize(
    "number, reason",
    [
        ("110105194912310021", "check_character"),
        ("110105194902300020", "birth_date"),  # 30 February
        ("11010519491231002x", "check_character"),  # lowercase x rejected
        ("11010519491231002", "length"),
        ("11010519491231002XX", "length"),
        ("1101051949123100AX", "digits"),
        ("1101051949123100٢X", "digits"),  # Arabic-Indic digit
        (_with_check("11010517991231002"), "birth_date"),  # year < 1800
        (_with_check("11010529991231002"), "birth_date"),  # future
        (_with_check("11010519491301002"), "birth_date"),  # month 13
        (_with_check("11010519490000002"), "birth_date"),  # month 0
        (_with_check("11010519000229002"), "birth_date"),  # 1900 not a leap year
    ],
)
def test_invalid_id_samples(number, reason):
    with pytest.raises(CodeError) as info:
        validate_id_number(number)
    assert info.value.reason == reason
    assert str(info.value)
    assert not is_valid_id_number(number)


def test_id_leap_day_and_today():
    assert is_valid_id_number(_with_check("11010520000229002"))
    today = datetime.date.today()
    assert is_valid_id_number(make_id_number("110105", today, 1))
    tomorrow_number = _with_check(
        "110105" + (today + datetime.timedelta(days=1)).strftime("%Y%m%d") + "001"
    )
    assert not is_valid_id_number(tomorrow_number)
    # the "today" reference can be fixed for reproducibility
    fixed = datetime.date(1949, 12, 30)
    assert not is_valid_id_number("11010519491231002X", today=fixed)
    assert is_valid_id_number("11010519491231002X", today=datetime.date(1949, 12, 31))


def test_id_non_str():
    assert not is_valid_id_number(None)
    assert not is_valid_id_number(11010519491231002)
    assert reason_of(validate_id_number, 110105194912310020) == "type"


def test_make_id_number_examples_and_errors():
    assert make_id_number("110105", datetime.date(1949, 12, 31), 2) == "11010519491231002X"
    assert make_id_number("440524", datetime.date(1880, 1, 1), 1) == "440524188001010014"
    with pytest.raises(ValueError):
        make_id_number("110105", datetime.date(1949, 12, 31), 1000)
    with pytest.raises(ValueError):
        make_id_number("110105", datetime.date(1949, 12, 31), -1)
    with pytest.raises(CodeError) as info:
        make_id_number("11010", datetime.date(1949, 12, 31), 1)
    assert info.value.reason == "division"
    with pytest.raises(CodeError) as info:
        make_id_number("110105", datetime.date(1799, 12, 31), 1)
    assert info.value.reason == "birth_date"
    with pytest.raises(CodeError) as info:
        make_id_number("110105", datetime.date.today() + datetime.timedelta(days=1), 1)
    assert info.value.reason == "birth_date"


id_inputs = dict(
    division=st.text(alphabet="0123456789", min_size=6, max_size=6),
    birth=st.dates(min_value=datetime.date(1800, 1, 1), max_value=datetime.date.today()),
    sequence=st.integers(min_value=0, max_value=999),
)


@given(**id_inputs)
def test_make_id_number_is_valid(division, birth, sequence):
    number = make_id_number(division, birth, sequence)
    assert len(number) == 18
    validate_id_number(number)
    assert number[:6] == division
    assert birth_date_of(number) == birth
    assert int(number[14:17]) == sequence


@given(**id_inputs, position=st.integers(min_value=0, max_value=16), data=st.data())
def test_single_digit_substitution_in_id_is_detected(
    division, birth, sequence, position, data
):
    number = make_id_number(division, birth, sequence)
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    mutated17 = number[:position] + digit + number[position + 1 : 17]
    assert id_check_character(mutated17) != number[17]
    assert not is_valid_id_number(mutated17 + number[17])


# --------------------------------------------------------------------------
# Masking
# --------------------------------------------------------------------------


def test_mask_id_number():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("440524188001010014") == "440524********0014"
    with pytest.raises(CodeError) as info:
        mask_id_number("1101051949")
    assert info.value.reason == "length"


def test_mask_mobile():
    assert mask_mobile("13800000000") == "138****0000"
    assert mask_mobile("19912345678") == "199****5678"
    for bad in ["12800000000", "1380000000", "138000000000", "13800000000\n", "138０0000000"]:
        with pytest.raises(CodeError) as info:
            mask_mobile(bad)
        assert info.value.reason == "mobile"


def test_a_lowercase_x_check_character_is_told_to_be_uppercase():
    with pytest.raises(CodeError) as lower:
        validate_id_number("11010519491231002x")
    assert lower.value.reason == "check_character" and str(lower.value) == "公民身份号码校验位应为 X，实为 x（须大写）"
    with pytest.raises(CodeError) as wrong:  # a lowercase x where a digit is due: just wrong
        validate_id_number("44052418800101001x")
    assert "须大写" not in str(wrong.value)
    with pytest.raises(CodeError) as digit:  # a wrong digit where X is due: no hint either
        validate_id_number("110105194912310021")
    assert str(digit.value) == "公民身份号码校验位应为 X，实为 1"


def test_make_id_number_takes_a_date_not_a_datetime():
    with pytest.raises(TypeError):
        make_id_number("110105", datetime.datetime(1949, 12, 31), 2)
    with pytest.raises(TypeError):
        make_id_number("110105", "1949-12-31", 2)


def test_the_earliest_birth_year_is_1800():
    assert is_valid_id_number(make_id_number("110105", datetime.date(1800, 1, 1), 1))
