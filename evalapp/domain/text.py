"""One rule for what any free-text field may hold, and for the file names a download gives.

Two kinds of field: a line (names: of units, people, rounds, teams, catalogue parts, a signer) and a box (reasons,
notes, comments, summaries, findings: a line break and a tab allowed). Neither may hold a control character (C0,
DEL, C1: NUL breaks PostgreSQL and file names, BEL or ESC print as `_x0007_` in a workbook, NEL is a line break that
only some readers see), a bidirectional control (U+202A–202E, U+2066–2069, U+200E/200F, U+061C: the text shown
would read otherwise than the text stored — 材料\u202efdp.hta shows as 材料ath.pdf), a lone surrogate half (no
database column stores one) or a noncharacter (U+FFFE, U+FFFF…: no workbook's XML holds one). Everything else
people type stays: full-width spaces, emoji (with their zero-width joiners), any script.

`text_problem` gives the problem as a domain message that follows the field's label, naming the character and
where it stands: a service shows "批次名称第3个字符是无法保存的控制字符（U+0007），请删除后再保存" under the field
(services.errors.check_text, before the text meets the database), the catalogue and unit imports name the row.
"""
import unicodedata

from .messages import M_, Msg

ALLOWED_IN_BOXES = frozenset("\n\r\t")
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_SEPARATORS = frozenset("\u2028\u2029")  # (Zl, Zp: line breaks that are not controls)


def _is_noncharacter(c: str) -> bool:
    code = ord(c)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def bad_character(text: str, *, multiline: bool = False) -> tuple[int, str, str] | None:
    """The first character the rule refuses, as (position from 1, the character, why: "control", "bidi" or
    "invalid"), or None."""
    for position, c in enumerate(text, 1):
        if c.isprintable() and c not in BIDI_CONTROLS and not _is_noncharacter(c):
            continue  # (the common case: letters, digits, punctuation, ordinary spaces)
        if multiline and (c in ALLOWED_IN_BOXES or c in LINE_SEPARATORS):
            continue
        category = unicodedata.category(c)
        if c in BIDI_CONTROLS:
            return position, c, "bidi"
        if category == "Cc" or c in LINE_SEPARATORS:
            return position, c, "control"
        if category == "Cs" or _is_noncharacter(c):
            return position, c, "invalid"
        # other unprintables stay: format characters people use (U+200D in emoji, U+00AD), private use, spaces
    return None


def _code(c: str) -> str:
    return f"U+{ord(c):04X}"


def text_problem(text: str, *, multiline: bool = False) -> Msg | None:
    """Why the text cannot be stored as typed (a message to follow the field's label: 名称…), or None."""
    found = bad_character(text, multiline=multiline)
    if found is None:
        return None
    position, c, why = found
    if why == "bidi":
        return M_("第%(position)s个字符是改变文字方向的控制字符（%(code)s），请删除后再保存", position=position,
                  code=_code(c))
    if why == "invalid":
        return M_("第%(position)s个字符是无效字符，请删除后再保存", position=position)
    if not multiline and c in "\n\r\t\u2028\u2029":
        return M_("第%(position)s个字符是换行符或制表符等控制字符（%(code)s），只能填写一行", position=position,
                  code=_code(c))
    return M_("第%(position)s个字符是无法保存的控制字符（%(code)s），请删除后再保存", position=position, code=_code(c))


def download_name(name: str, fallback: str = "download") -> str:
    """A file name any HTTP header can carry and any file system can save: controls, bidirectional and other
    format characters, surrogates and noncharacters dropped, spaces, line breaks and path separators made one space,
    at most 120 characters (the extension kept); `fallback` when nothing is left."""
    kept = []
    for c in name if isinstance(name, str) else "":
        if c.isspace() or c in "/\\":  # (a line break, a tab, a full-width space: a space)
            kept.append(" ")
        elif unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn") and not _is_noncharacter(c):
            kept.append(c)
    cleaned = " ".join("".join(kept).split()).strip(" .")
    if len(cleaned) > 120:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[:119 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else cleaned[:120]
    return cleaned or fallback
