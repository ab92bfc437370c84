"""Sending a file: the one place a response names a file (Content-Disposition), so every name is one a header can
carry. A round's name is part of its workbooks' names, a document's its uploader's; a NUL, a line break or a bidi
override in one made the header invalid (a 500) or the saved name read otherwise than the file (domain.text)."""
from flask import abort, send_file

from .domain.filenames import content_disposition
from .domain.text import download_name


def send_download(file, name: str, mimetype: str, *, fallback: str = "download", as_attachment: bool = True,
                  **kwargs):
    """`send_file` with the file's name made safe for the header (domain.text.download_name; `fallback` when
    nothing of it is left). Every view that sends a file calls this, never send_file (tests/test_text_rule.py)."""
    safe = download_name(name, fallback)
    response = send_file(file, mimetype=mimetype, as_attachment=as_attachment, download_name=safe, **kwargs)
    if as_attachment:  # an ASCII fallback of our choosing, not the name with its Chinese stripped (材料.pdf → .pdf)
        ascii_name = fallback if fallback.isascii() and "." in fallback else f"{fallback}{_suffix(safe)}"
        response.headers["Content-Disposition"] = content_disposition(safe, ascii_name)
    return response


def _suffix(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f".{ext}" if dot and stem and ext.isascii() and ext.isalnum() and len(ext) <= 10 else ""


def send_stored(key: str, name: str, mimetype: str, **kwargs):
    """A stored file (services.storage: the instance folder or the object store), streamed by send_download with
    its length; a key that holds nothing (a file lost or not yet copied) is a 404, never a 500; a store that fails
otherwise raises services.storage.StorageUnavailable, a 503 with its message (evalapp.errors). Call it only after
    the route's scope check: this is the one way stored files leave the app."""
    from .services.storage import storage

    try:
        file = storage().open(key)
    except FileNotFoundError:
        abort(404)
    try:
        response = send_download(file, name, mimetype, **kwargs)
    except BaseException:
        file.close()
        raise
    if file.size is not None and response.status_code == 200:
        response.content_length = file.size
    return response
