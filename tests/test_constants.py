"""Constant arithmetic: the short way `binary` takes for joining strings and
for integer +, - and * gives what the long way gives, errors included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dsl import codes
from dsl.check import constants as consts
from dsl.limits import DEFAULT_LIMITS, Limits

# Small limits, so that the generated values reach them.
_SMALL = Limits(max_sequence=12, max_int_bits=16)

_values = st.one_of(
    st.text(max_size=14),
    st.integers(min_value=-(2**20), max_value=2**20),
    st.booleans(),  # `True + 1` is not an integer sum: the long way only
    st.floats(allow_nan=False, allow_infinity=False),
    st.tuples(st.integers(), st.text(max_size=3)),
)


def _outcome(compute):
    try:
        value = compute()
    except consts.ConstError as err:
        return ("error", err.code, str(err), err.hint)
    return ("value", type(value), value)


@settings(max_examples=600, deadline=None)
@given(op=st.sampled_from(["+", "-", "*", "//", "**"]), left=_values, right=_values,
       limits=st.sampled_from([_SMALL, DEFAULT_LIMITS]))
def test_the_short_way_gives_what_the_long_way_gives(op, left, right, limits):
    short = _outcome(lambda: consts.binary(op, left, right, limits))
    long = _outcome(lambda: consts.general_binary(op, left, right, limits))
    assert short == long


def test_the_short_way_refuses_what_the_limits_refuse():
    for op, left, right in (("+", "a" * 7, "b" * 6), ("+", 2**16, 2**16), ("-", -(2**16), 2**16), ("*", 2**9, 2**8)):
        outcome = _outcome(lambda: consts.binary(op, left, right, _SMALL))
        assert outcome[:2] == ("error", codes.CONSTANT_TOO_LARGE), (op, outcome)
        assert outcome == _outcome(lambda: consts.general_binary(op, left, right, _SMALL))
    assert consts.binary("+", "a" * 6, "b" * 6, _SMALL) == "a" * 6 + "b" * 6  # at the limit: allowed
    assert consts.binary("*", 2**7, 2**7, _SMALL) == 2**14
