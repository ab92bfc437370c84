"""Static files and response compression: what a page costs on a weak link (issue 16 point 7).

* **Fingerprinted static URLs.** `url_for('static', filename=...)` adds `?v=<digest of the file's bytes>`, so the
  templates stay as they are and a changed file gets a new URL. A request whose `v` is the file's current digest is
  served `public, max-age=31536000, immutable`: a browser keeps it for a year and never asks again, so a repeat
  visit costs the page alone. Any other request for the file (no `v`, or the digest of a version replaced since by
  a deploy, asked for by a page cached before it) gets the current file with Flask's `no-cache` and its ETag, as
  before: it works, and it is never pinned for a year under a URL that names other bytes.
* **Compression by the app** (Flask-Compress; zstd, brotli or gzip as the client accepts): the embedded default,
  `make run`, has no proxy in front. Behind nginx the proxy may do it instead (`docs/deploy.md`). Pages carry a
  CSRF token beside reflected input (the language form's `next`, search boxes): security.py spells that token
  afresh for every response, which is what makes compressing such pages safe (BREACH).
"""
import functools
import hashlib
import os

from flask import Flask, current_app, request
from flask_compress import Compress

YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR}, immutable"


def fingerprint(filename: str) -> str | None:
    """The first 12 hex digits of the SHA-256 of a static file's bytes, or None when there is no such file.

    Kept per process with the file's size and modification time, and looked up again whenever either changes (a
    stat per URL: an edit in development shows at once, a deploy that replaces files without a restart too)."""
    root = _root(current_app.static_folder)
    path = os.path.normpath(os.path.join(root, filename))  # ("..": folded in the text, no file system calls)
    if not path.startswith(root + os.sep):
        return None
    try:
        stat = os.stat(path)
    except (OSError, ValueError):  # missing, a directory's trailing slash, a NUL in the name
        return None
    key = (stat.st_mtime_ns, stat.st_size)
    known = _digests.get(path)
    if known and known[0] == key:
        return known[1]
    try:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
    except OSError:  # a directory
        return None
    _digests[path] = (key, digest)
    return digest


_digests: dict[str, tuple[tuple[int, int], str]] = {}


@functools.cache
def _root(folder: str) -> str:
    """The static folder's real path, resolved once (two realpath calls per URL were 3–5 % of a scoring page)."""
    return os.path.realpath(folder)


def register(app: Flask) -> None:
    """Fingerprint static URLs, serve fingerprinted files immutable for a year, compress responses."""
    # First: Flask runs after_request hooks in reverse order of registration, so compression runs last, over the
    # body and headers every other hook has set (security.py's and the cache headers below included).
    compress = Compress(app)  # one per app: Flask-Compress keeps the app's settings on the instance

    @app.url_defaults
    def static_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            digest = fingerprint(values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def static_cache(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") and request.args["v"] == fingerprint(filename):
                response.headers["Cache-Control"] = IMMUTABLE
            if response.status_code == 200 and response.mimetype in compress.compress_mimetypes_set:
                # Read whole (werkzeug keeps the file's close for the end of the response), so that it is
                # compressed like a page: a streamed response is not (COMPRESS_STREAMS, config.py).
                response.direct_passthrough = False
                response.make_sequence()
        return response
