"""The domain's own messages (a rule's problems, a refusal's reason), marked for translation without Flask.

`M_(msgid, **params)` marks a Chinese msgid for `pybabel extract` (keyword M_) and keeps its parameters (numbers,
codes, names; or other messages, nested). The result is a `Msg`: a `str` whose value is the Chinese text, so a
caller that treats it as text (the CLI, a log, a comparison in a test) reads the Chinese as before, and a service
turns it into a text shown in the request's language (`services.errors.Text`: the msgid translated, then the
parameters substituted). Parameters are substituted after translation; a nested `Msg` is translated in turn.
"""


class Msg(str):
    """A msgid and its parameters; as a `str`, the Chinese text."""

    def __new__(cls, msgid: str, params: dict | None = None):
        params = dict(params or {})
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def __getnewargs__(self):  # copy and pickle rebuild it from the msgid, not from the Chinese text
        return (self.msgid, self.params)

    def __repr__(self) -> str:
        return f"M_({self.msgid!r}, **{self.params!r})"


def M_(msgid: str, **params) -> Msg:
    """Marks a domain message for extraction (keyword M_); translated where it is shown."""
    return Msg(msgid, params)


class Joined(Msg):
    """Several messages shown as one, joined by a separator ("a；b"), each translated in turn where shown."""

    def __new__(cls, items, sep: str = "；"):
        items = tuple(items)
        self = str.__new__(cls, sep.join(items))
        self.msgid, self.params, self.items, self.sep = "", {}, items, sep
        return self

    def __getnewargs__(self):
        return (self.items, self.sep)

    def __repr__(self) -> str:
        return f"Joined({self.items!r}, {self.sep!r})"
