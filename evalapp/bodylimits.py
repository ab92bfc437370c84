"""How large a request body each route takes, refused before a byte of it is read (issue 28, point 7).

Every route takes what it needs and no more: MAX_CONTENT_LENGTH (a form, a JSON score, a signature's strokes),
ANONYMOUS_MAX_CONTENT_LENGTH before log-in (the log-in form, the language switch, a token request: a few hundred
bytes), and the upload routes, marked `@body_limit(kind)`, UPLOAD_MAX_CONTENT_LENGTH[kind]. A body declared larger
(Content-Length) is a 413 at once, the hook being the first to run, before the CSRF check or a view parses a form;
one sent without a length (chunked) is cut off at the same limit as it is read (Flask 3.1's per-request
`request.max_content_length`). nginx refuses the same sizes per location before the app sees them
(docs/deploy.md, checked by tests/test_body_limits.py).
"""
from flask import Flask, current_app, request
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge


class BodyTooLarge(RequestEntityTooLarge):
    """A 413 that knows the limit it was refused at (errors.py says it, in the page or the API's JSON)."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit


def body_limit(kind: str):
    """Mark an upload view: its body may be as large as UPLOAD_MAX_CONTENT_LENGTH[kind]."""
    def mark(view):
        view.body_limit = kind
        return view
    return mark


def route_limit(app: Flask, endpoint: str | None) -> int:
    """The largest body the route takes from a signed-in caller."""
    kind = getattr(app.view_functions.get(endpoint or ""), "body_limit", None)
    return app.config["UPLOAD_MAX_CONTENT_LENGTH"][kind] if kind else app.config["MAX_CONTENT_LENGTH"]


def human(size: int) -> str:
    """64 KB, 1 MB, 21 MB."""
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def uploaded_files(name: str, at_most: int) -> list[tuple[bytes, str]]:
    """The request's files of field `name` that were chosen, each read to at most `at_most` + 1 bytes (one more
    than a service takes, so that it can tell a file is too large), with their names; the page's form and the API
    read an upload alike."""
    return [(f.read(at_most + 1), f.filename or "") for f in request.files.getlist(name) if f.filename]


def refuse_large_bodies():
    length = request.content_length
    if not length and not request.environ.get("wsgi.input_terminated"):
        return  # no body to read (a server that may send one without a length says wsgi.input_terminated)
    app = current_app._get_current_object()
    limit = route_limit(app, request.endpoint)
    anonymous = app.config["ANONYMOUS_MAX_CONTENT_LENGTH"]
    if (length is None or length > anonymous) and limit > anonymous and not current_user.is_authenticated:
        limit = anonymous
    request.max_content_length = limit
    if length is not None and length > limit:
        raise BodyTooLarge(limit)


def register(app: Flask) -> None:
    app.config["UPLOAD_MAX_CONTENT_LENGTH"] = dict(app.config["UPLOAD_MAX_CONTENT_LENGTH"])  # the app's own copy
    # First of all the before_request hooks: CSRFProtect's (registered by csrf.init_app) reads the form.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_large_bodies)
