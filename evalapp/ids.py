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
