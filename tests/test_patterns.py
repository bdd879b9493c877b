"""dsl/patterns.py, kdsl's matcher of layout patterns, against Python's re:
the same answer as `re.fullmatch` on every pattern it accepts, the same
syntax errors, refusals for what is not regular, and linear time."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.patterns import MAX_STATES, PatternError, compile_pattern

LIMIT = 1000
# Atoms over a small alphabet, so that random strings match often; Unicode
# digits and letters check that classes are Unicode-aware as re's are.
ATOMS = ["a", "b", "_", "/", "0", ".", r"\d", r"\w", r"\s", r"\D", r"\W", r"\S", "[ab]", "[^a]", "[a-c0]",
         r"[^\w/]", r"\n", "\u00e9", "[\u0660-\u0669]", r"\.", "\\/"]
ANCHORS = ["^", "$", r"\b", r"\B", r"\A", r"\Z"]
QUANTIFIERS = ["*", "+", "?", "*?", "+?", "??", "{2}", "{0,2}", "{1,3}?", "{2,}", "{,2}"]
ALPHABET = "ab_/0 \n\u00e9\u0663x."


def _patterns():
    leaf = st.sampled_from(ATOMS + ANCHORS + [""])
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map("".join),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + "|".join(xs) + ")"),
        st.tuples(inner, st.sampled_from(QUANTIFIERS)).map(lambda p: f"(?:{p[0]}){p[1]}"),
    ), max_leaves=8)


PROPERTY = settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@PROPERTY
@given(_patterns(), st.lists(st.text(alphabet=ALPHABET, max_size=7), min_size=1, max_size=8))
def test_answers_as_re_fullmatch(pattern, texts):
    compiled = compile_pattern(pattern, LIMIT)
    for text in texts:
        assert compiled.fullmatch(text) == (re.fullmatch(pattern, text) is not None), (pattern, text)


@pytest.mark.parametrize("pattern, text, expected", [
    ("conv2d(_[0-9]+)?/kernel", "conv2d/kernel", True),
    ("conv2d(_[0-9]+)?/kernel", "conv2d_12/kernel", True),
    ("conv2d(_[0-9]+)?/kernel", "conv2d_/kernel", False),
    ("kernel", "dense/kernel", False),
    (".*kernel", "dense/kernel", True),
    ("dense/kernel$\n", "dense/kernel\n", True),
    (r"\bdense\b.*", "dense/x", True),
    ("", "", True),
])
def test_known_answers(pattern, text, expected):
    assert (re.fullmatch(pattern, text) is not None) == expected
    assert compile_pattern(pattern, LIMIT).fullmatch(text) == expected


@pytest.mark.parametrize("pattern", ["(", "[a-", "a{2,1}", "\\p", "*a", "(?P<1>a)", "a)"])
def test_syntax_errors_are_re_s(pattern):
    with pytest.raises(re.error) as expected:
        re.compile(pattern)
    with pytest.raises(PatternError) as got:
        compile_pattern(pattern, LIMIT)
    assert expected.value.msg in got.value.message and got.value.position == expected.value.pos


@pytest.mark.parametrize("pattern, words", [
    (r"(a)\1", "backreference"),
    ("(?P<x>a)(?(x)b|c)", "conditional"),
    ("(?=a)a", "lookahead or lookbehind"),
    ("(?<!a)b", "lookahead or lookbehind"),
    ("(?>a)", "atomic group"),
    ("a*+", "possessive"),
    ("(?i)a", "flags"),
    ("(?s:.)", "flags"),
    ("a{20000}", f"more than {MAX_STATES:,} states"),
    ("(a{100}){101}", f"more than {MAX_STATES:,} states"),
    ("(" * 150 + ")" * 150, "more than 100 deep"),
])
def test_what_is_not_regular_is_refused(pattern, words):
    with pytest.raises(PatternError, match=re.escape(words)):
        compile_pattern(pattern, LIMIT)


def test_verbose_patterns_read_as_re_reads_them():
    compiled = compile_pattern("(?x) dense _[0-9]+  # a layer\n / kernel", LIMIT)
    assert compiled.fullmatch("dense_3/kernel") and not compiled.fullmatch("dense_3 / kernel")


def test_the_length_limit_is_checked_first():
    with pytest.raises(PatternError, match="1,001 characters long; the limit is 1,000"):
        compile_pattern("(" * 1001, LIMIT)


@pytest.mark.parametrize("pattern", ["(a*)*b", "(a|a)*b", ".*a.*a.*a.*a.*b", "(a|aa)+c", "(x+x+)+y"])
def test_catastrophic_patterns_take_linear_time(pattern):
    """Each would take Python's re seconds to centuries on these texts."""
    compiled = compile_pattern(pattern, LIMIT)
    start = time.perf_counter()
    assert not compiled.fullmatch("a" * 20_000 + "!")
    assert time.perf_counter() - start < 2


def test_work_is_reported_before_it_is_done():
    compiled = compile_pattern("(a|aa)+", LIMIT)
    spent = []
    assert compiled.fullmatch("a" * 100, spent.append)
    total = sum(spent)
    assert 100 <= total <= 101 * compiled.size * 2

    def stop(work):
        raise RuntimeError("over budget")

    with pytest.raises(RuntimeError):
        compiled.fullmatch("a" * 100, stop)
