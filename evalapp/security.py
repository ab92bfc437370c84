"""Security headers on every response, and a CSRF token spelled afresh for every response (BREACH).

BREACH: an attacker who can make the victim's browser fetch a page many times with text of the attacker's choosing
reflected in it (the language form's `next` carries the query string on every page; search boxes echo what was
typed) and who sees the sizes of the compressed answers learns a secret repeated in every answer, a few characters
at a time. Pages are compressed (assets.py; nginx in production), and every page carries the session's CSRF token.
Of the two ways out, leaving such pages uncompressed would leave nearly every page uncompressed (the footer's form
reflects the URL on all of them), so the token is masked instead: no two responses carry the same token. Flask-WTF's
own token is `base64(JSON of the session's secret).timestamp.signature`: its first part never changes, the other two
once a second. `fresh_csrf_token` signs, with Flask-WTF's own key and salt, a JSON string that decodes to the same
secret but is spelled differently each time (each character literal or as a `\\uXXXX` escape, chosen at random:
2^40 spellings of a 40-character secret), so the signature, the part a forged request would need, is new in every
response. Flask-WTF's `validate_csrf` reads it back unchanged (the JSON decodes to the secret, the signature and the
age check as for its own tokens): forms, CSRFProtect and the API's header check need no change.
"""
import secrets

from flask import Flask, current_app, g, request, session
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# A year, subdomains too: once a browser has seen the app over https it never tries plain http for it again.
HSTS = "max-age=31536000; includeSubDomains"


def fresh_csrf_token(secret: str) -> str:
    """A CSRF token that Flask-WTF's `validate_csrf` accepts for the session's `secret`, spelled afresh."""
    bits = secrets.randbits(len(secret))
    spelled = "".join(f"\\u{ord(c):04x}" if bits >> i & 1 else c for i, c in enumerate(secret))
    key = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    signer = URLSafeTimedSerializer(key, salt="wtf-csrf-token").make_signer()
    return signer.sign(base64_encode(f'"{spelled}"'.encode())).decode()


def register(app: Flask) -> None:
    @app.before_request
    def csrf_token_for_this_response():
        """Every token this response carries (csrf_token(), forms' hidden tags, /api/v1/csrf) is Flask-WTF's
        per-request token, kept in `g`: set it to a fresh spelling when the session has a secret already (a session's
        very first token is Flask-WTF's own, made when a page first needs one; no session is started here)."""
        if request.endpoint == "static":
            return
        name = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        secret = session.get(name)
        if isinstance(secret, str) and secret.isascii() and secret.isalnum():
            setattr(g, name, fresh_csrf_token(secret))

    # Development and tests are served over plain http on loopback, where a pinned https would lock the browser out.
    hsts = not (app.config["ENV"] == "development" or app.config.get("TESTING"))

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if hsts:
            response.headers["Strict-Transport-Security"] = HSTS
        if not request.path.startswith("/static/"):
            # Pages and downloads carry personal or financial data: never cached.
            response.headers["Cache-Control"] = "no-store"
        return response
