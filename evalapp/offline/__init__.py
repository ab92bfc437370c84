"""Offline scoring, the browser's side (issue 31): the service worker and the key that seals a user's offline data.

* `/sw.js` — the service worker, served from the site root so that its scope is the whole site. Its text is
  `static/js/sw.js` after one line naming the assets it caches, each under its fingerprinted URL (assets.py), and a
  version made of their digests: a deploy that changes any of them changes this script, so the browser installs the
  new worker, which caches the new files and drops the old caches. Prepared pages and the queue are not in those
  caches: they are in IndexedDB (static/js/offline-store.js), which no worker version clears.
* `/offline/key` — the AES-GCM key that seals this user's prepared data and queue on the device, derived from the
  app's secret and the user's id (the same key at every log-in, so a queue written before a session expired is read
  and sent after the next log-in; another user is never handed it). The page keeps it in IndexedDB as a
  non-extractable CryptoKey while its owner is logged in; the log-in page forgets every key.
"""
import base64
import hashlib
import hmac
import json

from flask import Blueprint, current_app, jsonify, make_response, url_for
from flask_login import current_user

from ..assets import fingerprint

bp = Blueprint("offline", __name__)

# What the worklist, scoring and signing pages load: cached by the worker when it installs.
SHELL_ASSETS = (
    "vendor/bootstrap/bootstrap.min.css", "vendor/bootstrap/bootstrap.bundle.min.js", "css/app.css",
    "favicon.svg", "js/app.js", "js/confirm.js", "js/field-error.js", "js/standing.js", "js/scoring.js",
    "js/signatures.js", "vendor/signature_pad/signature_pad.umd.min.js", "vendor/idb/idb.umd.js",
    "js/offline-store.js", "js/offline.js",
)


def offline_key(user_id: int) -> bytes:
    """32 bytes for AES-256-GCM, this user's alone."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"evalapp offline key\0" + str(user_id).encode(), hashlib.sha256).digest()


@bp.get("/sw.js")
def service_worker():
    assets = [url_for("static", filename=name) for name in SHELL_ASSETS]
    version = hashlib.sha256("".join(fingerprint(n) or n for n in SHELL_ASSETS).encode()).hexdigest()[:12]
    setup = {"version": version, "assets": assets,
             "idb": url_for("static", filename="vendor/idb/idb.umd.js"),
             "store": url_for("static", filename="js/offline-store.js")}
    with current_app.open_resource("static/js/sw.js", "rb") as f:
        body = f.read().decode("utf-8")
    response = make_response("self.EVALAPP_SW = " + json.dumps(setup) + ";\n" + body)
    response.mimetype = "text/javascript"
    return response


@bp.get("/offline/key")
def key():
    if not current_user.is_authenticated:
        return jsonify(error="login required", code="auth.required"), 401
    return jsonify(user=current_user.id,
                   key=base64.b64encode(offline_key(current_user.id)).decode("ascii"))
