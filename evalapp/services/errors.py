"""Errors that services raise and views translate (to a page message or a JSON response).

Each error has a stable `code` (dotted, one per meaning: `sheet.unscored`, `score.conflict`) that programs can rely
on, and a message marked for translation: `_l(msgid, **params)`, a Chinese msgid with named parameters. It is
translated when shown — `message` and `fields` render in the request's language, and outside a request (CLI, audit
texts) in Chinese. Parameters are data (names, numbers, codes, lists joined with 、), substituted after translation;
the rendered text is a plain string, so a page escapes it like any other text (a unit named `<b>` shows as such).
"""
import re

from flask_babel import gettext

CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


class Text:
    """A msgid and its parameters, rendered with gettext each time it is shown."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, params: dict):
        self.msgid = msgid
        self.params = params

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


class Joined(Text):
    """Several texts shown as one, joined by a separator (problems listed in one message)."""

    __slots__ = ("items", "sep")

    def __init__(self, items, sep: str = "；"):
        super().__init__("", {})
        self.items = list(items)
        self.sep = sep

    def __str__(self) -> str:
        return self.sep.join(str(item) for item in self.items)

    @property
    def zh(self) -> str:
        return self.sep.join(item.zh if isinstance(item, Text) else item for item in self.items)

    def __repr__(self) -> str:
        return f"Joined({self.items!r}, {self.sep!r})"


def verbatim(text: str) -> Text:
    """Text that is data, shown as it is: a domain rule's own words (its problems list), not a msgid of ours."""
    return Text("%(text)s", {"text": text})


class ServiceError(Exception):
    """A request that cannot be carried out: a stable `code`, and a message (and per-field messages) for the user."""

    status = 400

    def __init__(self, code: str, message: Text | None = None, fields: dict[str, Text | str] | None = None):
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise TypeError(f"a ServiceError needs a dotted code such as 'sheet.unscored', not {code!r}")
        if not isinstance(message, Text):
            raise TypeError(f"a ServiceError's message is marked for translation: _l(msgid, **params), not {message!r}")
        super().__init__(code)
        self.code = code
        self.text = message
        self.field_texts = dict(fields or {})

    @property
    def message(self) -> str:
        """The message in the request's language (Chinese outside a request)."""
        return str(self.text)

    @property
    def fields(self) -> dict[str, str]:
        """Per-field messages in the request's language; a plain string (a domain rule's own text) as it is."""
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
