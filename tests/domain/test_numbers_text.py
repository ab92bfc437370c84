"""hundredths_text writes integer hundredths exactly as f"{Decimal:.2f}" writes the Decimal they stand for."""
from decimal import Decimal

import pytest

from evalapp.domain.numbers import hundredths_text


@pytest.mark.parametrize("h", [0, 1, 9, 10, 99, 100, 101, 950, 9500, 9584, 9999, 10000, 123456, -1, -50, -9584])
def test_hundredths_text_is_the_decimals_two_place_form(h):
    assert hundredths_text(h) == f"{Decimal(h).scaleb(-2):.2f}"


def test_none_stays_none():
    assert hundredths_text(None) is None
