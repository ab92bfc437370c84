"""Log-in throttling rules: the limits as configured, the keys failures are counted under, and the wait.

A limit is written as the `limits` library (and so Flask-Limiter, the Redis backend) writes it: "5 per 15 minutes",
"5/15minute", "100 per hour"; several in one string are separated by "," ";" or "|" ("5 per minute; 20 per day").
"""
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from .messages import M_, Msg

# The granularities of the `limits` library (a month is 30 days there, a year 12 such months).
UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "month": 30 * 86400, "year": 12 * 30 * 86400}
_ONE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day|month|year)s?\s*$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[,;|]")
KEY_LENGTH = 64  # login_failures.account and .address


@dataclass(frozen=True)
class Limit:
    """At most `count` failed attempts in any `seconds`-long window."""

    count: int
    seconds: int


@lru_cache(maxsize=32)
def parse_limits(text: str) -> tuple[Limit, ...]:
    """The limits in a configuration string; ValueError (saying which part) when it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"not a limit: {text!r}")
    limits = []
    for part in _SEPARATORS.split(text):
        match = _ONE.match(part)
        if match is None:
            raise ValueError(f"not a limit: {part.strip()!r} (write it as '5 per 15 minutes')")
        count, multiple, unit = int(match[1]), int(match[2] or 1), match[3].lower()
        if count < 1 or multiple < 1:
            raise ValueError(f"not a limit: {part.strip()!r} (the count and the period must be at least 1)")
        limits.append(Limit(count, multiple * UNIT_SECONDS[unit]))
    return tuple(limits)


def longest_window(*limit_sets: tuple[Limit, ...]) -> int:
    """The longest window of these limits in seconds: failures older than this count for no limit."""
    return max(limit.seconds for limits in limit_sets for limit in limits)


def throttle_key(value) -> str:
    """What a failure is counted under: the text case-folded and trimmed, at most 64 characters, storable in any
    database (NUL and lone surrogates replaced); anything that is not text counts under the empty key."""
    if not isinstance(value, str):
        return ""
    key = value.strip()[:KEY_LENGTH * 2].casefold()[:KEY_LENGTH]  # a huge username costs nothing to fold
    key = key.replace("\x00", "\ufffd")
    return key.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate becomes "?"


def retry_after(now: float, limit: Limit, recent: list[float]) -> int:
    """Whole seconds until one more attempt fits under `limit`, given the times (epoch seconds) of the failures
    counted against it, or 0 when one fits now."""
    inside = sorted((t for t in recent if t > now - limit.seconds), reverse=True)
    if len(inside) < limit.count:
        return 0
    # The attempt fits once fewer than `count` failures remain in the window: when the count-th newest leaves it.
    return max(1, math.ceil(inside[limit.count - 1] + limit.seconds - now))


def wait_text(seconds: int) -> Msg:
    """How long to wait, as a person says it: "40秒", "15分钟", "2小时"."""
    if seconds < 60:
        return M_("%(n)s秒", n=max(seconds, 1))
    if seconds < 3600:
        return M_("%(n)s分钟", n=math.ceil(seconds / 60))
    return M_("%(n)s小时", n=math.ceil(seconds / 3600))


def refusal_message(seconds: int, by_account: bool) -> Msg:
    """The message of a refused attempt: what was exceeded and how long to wait."""
    if by_account:
        return M_("该账号登录失败次数过多，请%(wait)s后再试", wait=wait_text(seconds))
    return M_("您所在网络地址登录失败次数过多，请%(wait)s后再试", wait=wait_text(seconds))
