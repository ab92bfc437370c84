"""The app as `make run` serves it, plus two probe routes that only the benchmark serves (bench/web.py).

They measure the least an authenticated request can cost on this stack and database, beside /healthz:
  GET /bench/probe/read/<sheet_id>   the session cookie, the user's session lookup, one primary-key SELECT
  PUT /bench/probe/write/<sheet_id>  the same plus CSRF, one single-row UPDATE and the COMMIT
Every page and API call does at least this much, so their ratios to /healthz are the part of the scoring page's and
the autosave's ratios that no change to those paths can remove. The write touches the client's own session row (each
client has its own, so clients never queue on one row lock; user_sessions is not one of the tables cached round
results depend on: the results page's cache stays warm).
"""
import gc

from flask import jsonify
from flask_login import current_user, login_required
from sqlalchemy import text

from evalapp import create_app
from evalapp.extensions import db
from evalapp.services.accounts import _token_hash

app = create_app()


@app.get("/bench/probe/read/<int:sheet_id>")
@login_required
def probe_read(sheet_id: int):
    return jsonify(id=db.session.scalar(text("SELECT id FROM sheets WHERE id = :id"), {"id": sheet_id}))


@app.put("/bench/probe/write/<int:sheet_id>")
@login_required
def probe_write(sheet_id: int):
    db.session.execute(text("UPDATE user_sessions SET ip = ip WHERE token_hash = :token_hash"),
                       {"token_hash": _token_hash(current_user.session_token)})
    db.session.commit()
    return jsonify(id=sheet_id)


gc.freeze()  # as wsgi.py does, once the app is built
