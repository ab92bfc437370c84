"""Errors that services raise and views translate (to a page message or a JSON response).

Each error has a stable `code` (dotted, one per meaning: `sheet.unscored`, `score.conflict`) that programs can rely
on, and a message marked for translation: `_l(msgid, **params)`, a Chinese msgid with named parameters. It is
translated when shown — `message` and `fields` render in the request's language, and outside a request (CLI, audit
texts) in Chinese. Parameters are data (names, numbers, codes, lists joined with 、), substituted after translation;
the rendered text is a plain string, so a page escapes it like any other text (a unit named `<b>` shows as such).

The domain's rules give their problems as `domain.messages.Msg` (marked with `M_`, Flask-free); `shown()` turns one
into a Text, and a Text, a ServiceError's message or fields turn the Msgs they are given into Texts themselves, so a
rule's words are translated wherever they are shown.
"""
import re

from flask_babel import gettext
from markupsafe import Markup, escape

from ..domain import messages
from ..domain.text import text_problem

CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


class Text:
    """A msgid and its parameters, rendered with gettext each time it is shown."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, params: dict):
        self.msgid = msgid
        self.params = {k: _text(v) for k, v in params.items()}

    def __str__(self) -> str:
        return gettext(self.msgid, **self.params)

    @property
    def zh(self) -> str:
        """The Chinese text in any language (stored texts)."""
        if not self.params:
            return self.msgid
        return self.msgid % {k: v.zh if isinstance(v, Text) else v for k, v in self.params.items()}

    def __repr__(self) -> str:
        return f"_l({self.msgid!r}, **{self.params!r})"


def _l(msgid: str, **params) -> Text:
    """Marks a message for extraction (keyword _l) and keeps its parameters; translated where it is shown."""
    return Text(msgid, params)


def marked(msgid: str) -> Text:
    """A msgid marked where it is defined (a vocabulary label, `N_`), translated where it is shown."""
    return Text(msgid, {})


SEPARATORS = frozenset(t.msgid for t in (_l("；"), _l("，")))  # the separators a Joined translates


class Joined(Text):
    """Several texts shown as one, joined by a separator (problems listed in one message)."""

    __slots__ = ("items", "sep")

    def __init__(self, items, sep: str = "；"):
        super().__init__("", {})
        self.items = [_text(item) for item in items]
        self.sep = sep

    def __str__(self) -> str:
        sep = gettext(self.sep) if self.sep in SEPARATORS else self.sep  # "；" reads "; " in English
        return sep.join(str(item) for item in self.items)

    @property
    def zh(self) -> str:
        return self.sep.join(item.zh if isinstance(item, Text) else item for item in self.items)

    def __repr__(self) -> str:
        return f"Joined({self.items!r}, {self.sep!r})"


def verbatim(text: str) -> Text:
    """Text that is data, shown as it is (a name, a list of names), not a msgid of ours."""
    return Text("%(text)s", {"text": text})


def shown(value) -> Text:
    """What a rule gave, as a text shown in the request's language: a domain message (`M_`) translated, its
    parameters after; a ValueError by its message; a Text as it is; any other string as data (verbatim)."""
    if isinstance(value, Text):
        return value
    if isinstance(value, Shown):
        return value.text
    if isinstance(value, messages.Joined):
        return Joined(value.items, value.sep)
    if isinstance(value, messages.Msg):
        return Text(value.msgid, value.params)
    if isinstance(value, BaseException):
        return shown(value.args[0]) if len(value.args) == 1 else verbatim(str(value))
    return verbatim(str(value))


def _text(value):
    """A parameter or item as kept: a message (a domain Msg, a Shown) as its Text, data as it is."""
    return shown(value) if isinstance(value, (messages.Msg, Shown)) else value


class Shown(str):
    """A text that is also its Chinese string, for lists that pages show and the CLI joins (an import's problems):
    as a `str` (joined, echoed, compared) it is the Chinese; on a page (`{{ p }}`: Jinja's escape reads
    `__html__`) it is rendered in the request's language, escaped like any text."""

    def __new__(cls, value):
        text = shown(value)
        self = super().__new__(cls, text.zh)
        self.text = text
        return self

    def __html__(self) -> Markup:
        return escape(str(self.text))


class ServiceError(Exception):
    """A request that cannot be carried out: a stable `code`, and a message (and per-field messages) for the user."""

    status = 400

    def __init__(self, code: str, message: Text | None = None, fields: dict[str, Text | str] | None = None):
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise TypeError(f"a ServiceError needs a dotted code such as 'sheet.unscored', not {code!r}")
        message = _text(message)
        if not isinstance(message, Text):
            raise TypeError(f"a ServiceError's message is marked for translation: _l(msgid, **params), not {message!r}")
        super().__init__(code)
        self.code = code
        self.text = message
        self.field_texts = {name: _text(text) for name, text in (fields or {}).items()}

    def under(self, field: str, source: str) -> "ServiceError":
        """The same refusal with the message it gave under `source` now under `field` (a check reused by a form whose
        field has another name: the documents' check under a report's file field)."""
        self.field_texts = {field: self.field_texts.get(source, self.text)}
        return self

    @property
    def message(self) -> str:
        """The message in the request's language (Chinese outside a request)."""
        return str(self.text)

    @property
    def fields(self) -> dict[str, str]:
        """Per-field messages in the request's language; a plain string (data) as it is."""
        return {name: str(text) for name, text in self.field_texts.items()}

    def __str__(self) -> str:
        return self.message


class NotAllowed(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    """The data changed underneath the request (stale version, status moved on)."""

    status = 409

    def __init__(self, code: str, message: Text | None = None, current: dict | None = None):
        super().__init__(code, message)
        self.current = current


class Invalid(ServiceError):
    status = 422


def check_text(code: str, field: str, label: Text, text: str, *, box: bool = False) -> None:
    """Invalid (`code`, the message under `field`: "批次名称第3个字符是…") when the text breaks domain.text's rule
    — a line unless `box` (a reason, a note, a comment: line breaks and tabs allowed). Called before the text meets
    the database: PostgreSQL refuses a NUL in a query's parameters with an error (a 500), not a row."""
    message = text_message(label, text, box=box)
    if message is not None:
        raise Invalid(code, message, {field: message})


def text_message(label: Text, text: str, *, box: bool = False) -> Text | None:
    """The field's message when the text breaks domain.text's rule ("情况说明第3个字符是…"), or None."""
    problem = text_problem(text, multiline=box)
    return None if problem is None else _l("%(field)s%(problem)s", field=label, problem=problem)
