"""Issue 18 item 4: every number from outside is read by one strict parser (ASCII digits, finite)."""

from __future__ import annotations

import argparse

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cli import options
from shared import numbers
from webhooks import post
from webhooks.policy import retry_after_s

# Strings that str.isdigit(), int() or float() take but a client must not send.
ODD = [
    "²",
    "١٢",
    "1_000",
    " 7",
    "7 ",
    "+7",
    "-7",
    "0x10",
    "nan",
    "inf",
    "1e3",
    "1e999",
    "٣",
    "7\n",
    "9" * 5000,
]


@given(st.text())
@example("²")
@example("9" * 5000)
def test_integer_takes_only_ascii_digits_and_never_raises(text: str) -> None:
    value = numbers.integer(text)
    if value is not None:
        assert text.isascii()
        assert text.isdigit()
        assert value == int(text)


@given(st.text(), st.integers(0, 100), st.integers(0, 100))
def test_integer_is_within_its_range(text: str, low: int, high: int) -> None:
    value = numbers.integer(text, low=low, high=high)
    assert value is None or low <= value <= high


@given(st.text() | st.floats().map(str))
@example("1e999")
@example("nan")
def test_decimal_is_finite_ascii_and_never_raises(text: str) -> None:
    value = numbers.decimal(text, high=1e9)
    if value is not None:
        assert text.isascii()
        assert text.replace(".", "", 1).isdigit()
        assert 0 <= value <= 1e9


@pytest.mark.parametrize("odd", ODD)
def test_the_odd_spellings_are_not_numbers(odd: str) -> None:
    assert numbers.integer(odd) is None
    assert numbers.decimal(odd) is None


@given(st.text())
@example("²")
@example("1e999")
def test_a_receivers_retry_after_is_seconds_or_nothing(header: str) -> None:
    seconds = retry_after_s(header)
    assert seconds is None or 0 <= seconds <= 3600


@pytest.mark.parametrize("odd", [o for o in ODD if o.strip() != "7"])  # the CLI strips argv's spaces
@pytest.mark.parametrize("kind", [options.WHOLE, options.DECIMAL, options.SECONDS, options.POSITIVE_INT])
def test_the_cli_refuses_odd_numbers_as_a_usage_error(kind: object, odd: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        kind(odd)  # type: ignore[operator]


@pytest.mark.parametrize("odd", ["²s", "1e9h", "9" * 5000, "nan"])
def test_the_cli_refuses_odd_durations(odd: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        options.duration(odd)


@pytest.mark.parametrize("odd", [o for o in ODD if o.strip() != "7"])  # it strips the header's spaces
def test_the_sender_reads_an_odd_retry_after_as_none(odd: str) -> None:
    # It raised for "²" before, so the attempt went unrecorded and a delivered event was sent again.
    answer = httpx.Response(503, headers={"Retry-After": odd.encode("utf-8")})
    assert post._retry_after(answer) is None
