"""Hypothesis strategies for property tests of the door: valid applications with one or more
values swapped for what a hostile or careless client sends. Needs hypothesis (a test dependency)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from . import samples

#: characters that have broken systems like this one: Unicode digits, controls, bidi overrides,
#: private use, CJK beyond the BMP, the middle dot, quotes
NASTY_CHARS = "３٣0123456789X．.,-_ \t\n\r\x00\x1b\x7f\u202e\u2066\u200d\ue000\u3000𠀀·'\"\\张伟有限公司"

nasty_text = st.text(alphabet=st.sampled_from(NASTY_CHARS), max_size=30) | st.text(max_size=20)
numbers_as_text = st.from_regex(r"-?[0-9０-９]{0,30}(\.[0-9]{0,4})?([eE][0-9]{1,3})?", fullmatch=True)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False), nasty_text, numbers_as_text,
    st.sampled_from(["2030-12-31", "1900-01-01", "9999-12-31", "2030-02-30", "CHN", "ZZZ", "yes", "true",
                     "91350100M000100Y43", "91350100M000100Y44", "11010519491231002X", "13800000000",
                     "500_000", "1e6", "NaN", "Infinity", "0.00", "999999999999.99", "1000000000000.00",
                     # valid values too: an application can be changed and still be right
                     "李娜", "欧阳·娜娜", "𠀀明", "330100", "1000000.00", "2031-06-30", "DEU", "official"]))
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(nasty_text, children, max_size=3), max_leaves=8)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            paths += _paths(child, prefix + (i,))
    return paths


def _replace(document: Any, path: tuple, new: Any) -> Any:
    document = copy.deepcopy(document)
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return document


@st.composite
def mutated(draw, base: dict[str, Any]) -> dict[str, Any]:
    """`base` with up to three values replaced (or a key removed): none now and then, so
    accepted applications go all the way through as well."""
    document = base
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        if draw(st.integers(0, 9)) == 0 and isinstance(path[-1], str):
            document = copy.deepcopy(document)
            target = document
            for part in path[:-1]:
                target = target[part]
            del target[path[-1]]
        else:
            document = _replace(document, path, draw(json_values))
    return document


def establishment_submissions():
    base = {"matter": "establishment", "application": samples.establishment_application("锦程", seals=("official",))}
    return mutated(base)


def deregistration_submissions():
    base = {"matter": "deregistration", "application": samples.deregistration_application("91350100M000100Y43")}
    return mutated(base)
