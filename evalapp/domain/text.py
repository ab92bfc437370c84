"""What any text field may hold: no NUL or other control character (a line break and a tab in a multi-line box), no
lone surrogate half (no database column stores one). Everything else people type stays: full-width spaces, emoji."""
import unicodedata

from .messages import M_, Msg

ALLOWED_IN_BOXES = frozenset("\n\r\t")


def text_problem(text: str, *, multiline: bool = False) -> Msg | None:
    """Why the text cannot be stored as typed (a message to follow the field's name: 名称…), or None."""
    for c in text:
        category = unicodedata.category(c)
        if category == "Cs":
            return M_("含有无效字符")
        if category == "Cc" and not (multiline and c in ALLOWED_IN_BOXES):
            return M_("不能包含控制字符（如空字符、制表符）") if not multiline else M_("不能包含控制字符（如空字符）")
    return None
