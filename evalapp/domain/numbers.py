"""Strict parsing of points typed by people or sent by programs: Decimal, never float."""
import functools
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from .messages import M_

CENT = Decimal("0.01")
HALF = Decimal("0.5")
_POINTS = re.compile(r"^[0-9]{1,5}(\.[0-9]{1,2})?$")
_MAX_LEN = 32


class InvalidInput(ValueError):
    """Bad input, with one message per field (domain messages, `M_`: translated where they are shown)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def q2(value: Decimal) -> Decimal:
    """Quantize to two decimals, half-up (the display and storage precision of points)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_points(value: object) -> Decimal:
    """Parse a non-negative number of points with at most two decimals.

    Accepts int, Decimal and plain decimal strings ("95", "94.5", "0.25", full-width "９４．５"). Refuses floats (a float has already lost
    precision), exponents, nan/inf/snan, signs, more than two decimals and anything longer than 32 characters.
    Raises ValueError with a message fit for the user (its one argument, a domain message `M_`).
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(M_("请输入分值"))
    if isinstance(value, int):
        if value < 0:
            raise ValueError(M_("分值不能为负数"))
        if value > 99999:
            raise ValueError(M_("分值过大"))
        return q2(Decimal(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(M_("请输入有效的数字"))
        text = format(value, "f")
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(M_("请输入数字"))
    if len(text) > _MAX_LEN:
        raise ValueError(M_("请输入有效的数字"))
    # Full-width digits and point from a Chinese input method read as their ASCII forms.
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        raise ValueError(M_("请输入分值"))
    if text.startswith("-"):
        raise ValueError(M_("分值不能为负数"))
    if not _POINTS.match(text):
        raise ValueError(M_("请输入数字，最多两位小数"))
    return q2(Decimal(text))


def is_multiple_of(value: Decimal, step: Decimal) -> bool:
    """True when value is a whole multiple of step."""
    return value % step == 0


def plain_number(value: Decimal) -> str:
    """A number without trailing zeros, as people write it in prose ("95", "92.5")."""
    text = format(value.normalize(), "f")
    return text


@functools.lru_cache(maxsize=16384)  # a version's points take few distinct values
def hundredths_text(value: int | None) -> str | None:
    """Integer hundredths as points with two decimals ("95.84"), as f"{Decimal:.2f}" writes them — by integer
    arithmetic, for the many values of a published version read raw (models.base.Points stores hundredths)."""
    if value is None:
        return None
    sign, value = ("-", -value) if value < 0 else ("", value)
    return f"{sign}{value // 100}.{value % 100:02d}"
