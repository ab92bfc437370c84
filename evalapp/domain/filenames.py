"""File names as people give them, made safe to keep, show and send back (issue 28, point 3).

A name is data, never a path and never a type: the server decides what a file is from its bytes, and the name a
reviewer's browser saves it under ends with the extension of that type, whatever the uploader typed. Characters
that only steer how text is drawn go: a right-to-left override (U+202E) shows `材料\u202efdp.hta` as 材料ath.pdf.
"""
import re
import unicodedata
from urllib.parse import quote

NAME_MAX = 200  # characters, the extension included (the column holds 255)

# Cc: controls (NUL, BEL, ESC, DEL, NEL…); Cf: format characters (bidi overrides and isolates, zero-width spaces and
# joiners, the BOM, soft hyphens); Cs: lone surrogates (no UTF-8 spelling, so no header could carry them); Zl, Zp:
# line and paragraph separators.
DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# What counts as an extension to replace: a short run of letters and digits after the last dot.
_EXTENSION = re.compile(r"\.[^\W_]{1,10}$")


def clean_name(name: str | None, fallback: str) -> str:
    """The name's last path component, without control, format or separator characters, trimmed of spaces and
    dots at both ends (Windows drops trailing ones itself), at most NAME_MAX characters; `fallback` when nothing is
    left."""
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(c for c in name if unicodedata.category(c) not in DROPPED_CATEGORIES)
    name = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].strip(" .\t")
    return name[:NAME_MAX].strip(" .") or fallback


def with_extension(name: str | None, extension: str, fallback: str, also: tuple[str, ...] = ()) -> str:
    """The cleaned name ending with `extension` (".pdf"): kept when it ends with it or with one of `also` (".jpeg"
    for ".jpg", any case), otherwise its own extension replaced (材料.hta → 材料.pdf) or `extension` added."""
    cleaned = clean_name(name, fallback)
    lower = cleaned.lower()
    if lower.endswith(extension) or any(lower.endswith(other) for other in also):
        return cleaned
    stem = _EXTENSION.sub("", cleaned).strip(" .") or fallback
    return stem[:NAME_MAX - len(extension)].rstrip(" .") + extension


def content_disposition(name: str, ascii_fallback: str) -> str:
    """`attachment` with the name as RFC 6266 asks: `filename*` in UTF-8 (RFC 5987) for every browser of this
    decade, and a plain ASCII `filename` for the others (the name itself when it is plain ASCII, else
    `ascii_fallback`, which must be). Quotes, backslashes and controls never reach the header."""
    plain = name.isascii() and all(c.isprintable() and c not in '"\\' for c in name)
    fallback = name if plain else ascii_fallback
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
