"""Ids and versions from URLs and forms: ASCII digits only (not ² or ٣, which `str.isdigit` accepts and `int` does
not), no larger than an INTEGER column holds. Anything else is no id at all."""
ID_MAX = 2**31 - 1


def parse_id(text) -> int | None:
    """The id a form field or query argument names, or None."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if value <= ID_MAX else None


def parse_ids(texts) -> set[int]:
    """The ids among these texts (the others left out)."""
    return {i for i in map(parse_id, texts) if i is not None}


def up_to(n: int) -> str:
    """A regular expression for the decimal numbers 0..n, without leading zeros (a URL converter's: a number past
    n matches no route at all, so the answer is 404 — never a 405 from another method's rule on the same path)."""
    s = str(n)
    alternatives = ["0"] + ["[1-9]" + (rf"\d{{{length - 1}}}" if length > 1 else "") for length in range(1, len(s))]
    for i, ch in enumerate(s):  # same length: equal up to digit i, smaller at i, anything after
        low, digit, rest = (1 if i == 0 else 0), int(ch), len(s) - i - 1
        if digit > low:
            smaller = str(low) if digit - 1 == low else f"[{low}-{digit - 1}]"
            alternatives.append(s[:i] + smaller + (rf"\d{{{rest}}}" if rest else ""))
    alternatives.append(s)
    return "(?:" + "|".join(alternatives) + ")"


ID_PATTERN = up_to(ID_MAX)
