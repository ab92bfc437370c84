"""Security headers on every response."""
from flask import Flask, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# A year, subdomains too: once a browser has seen the app over https it never tries plain http for it again.
HSTS = "max-age=31536000; includeSubDomains"


def register(app: Flask) -> None:
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
