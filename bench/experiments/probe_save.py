"""Experiment (2026-11-29, issue 9): the autosave with all its writes in one PL/pgSQL call — measured, not adopted.

The app as bench/probe.py serves it, plus PUT /bench/experiment/save/<sheet>/<code>: the same access check, sheet
load with its row lock, entry validation and points as the API's autosave (evalapp/api/routes.py put_score), then
one call of evalapp_save_score() (save_function.sql: version check, update or insert, deductions, audit row, sheet
figures, change counter) instead of five statements. A prototype: its audit row's "new" state is abbreviated, its
first-save path and its concurrency are untested. README.md here: how it was run and what it measured.
"""
import json
from decimal import Decimal

from flask import jsonify, request
from flask_login import current_user
from probe import app  # the app with the probes (bench/ is on gunicorn's --pythonpath)
from sqlalchemy import text

from evalapp.api.parsing import json_body, score_entry
from evalapp.api.routes import _sheet_for
from evalapp.domain.scoring import indicator_score, points_missing
from evalapp.extensions import db
from evalapp.models.base import utcnow
from evalapp.services.catalogues import indicator_spec
from evalapp.services.figures import SheetFigures, sheet_total
from evalapp.services.sheet_views import catalogue_for_sheet, find_indicator

_SAVE = text("SELECT * FROM evalapp_save_score(CAST(:s AS int), CAST(:i AS int), CAST(:e AS int), "
             "CAST(:p AS numeric), CAST(:d AS numeric), CAST(:f AS numeric), CAST(:r AS text), CAST(:n AS text), "
             "CAST(:u AS int), CAST(:now AS timestamp), CAST(:deds AS jsonb), CAST(:unit AS int), "
             "CAST(:round AS int), CAST(:ip AS text), CAST(:detail AS text))")


@app.put("/bench/experiment/save/<int:sheet_id>/<code>")
def experiment_save(sheet_id: int, code: str):
    sheet = _sheet_for(sheet_id, edit=True, lock=True)
    entry, version = score_entry(json_body())
    indicator = find_indicator(sheet, code[:32])
    points = indicator_score(indicator_spec(indicator), entry)
    rules = {r.code: r.id for r in indicator.rules}
    deductions = [{"rule_id": rules[c], "count": n} for c, n in sorted(entry.deductions.items()) if n]
    row = db.session.execute(_SAVE, {
        "s": sheet.id, "i": indicator.id, "e": version, "p": points, "d": entry.direct, "f": entry.free_deduction,
        "r": entry.reason.strip(), "n": entry.note.strip(), "u": current_user.id,
        "now": utcnow().replace(tzinfo=None), "deds": json.dumps(deductions), "unit": sheet.unit_id,
        "round": sheet.round_id, "ip": request.remote_addr, "detail": f"sheet={sheet.id} indicator={indicator.code}"}).one()
    db.session.commit()
    if row.status != "ok":
        return jsonify(error="conflict", current={"version": row.new_version}), 409
    figures = SheetFigures(Decimal(row.score_sum), row.scored, Decimal(row.bonus_sum), row.vetoed)
    total = sheet_total(figures, catalogue_for_sheet(sheet).bonus_cap)
    return jsonify(indicator=code, score=f"{points:.2f}", version=row.new_version, sheet_total=f"{total:.2f}",
                   scored=row.scored, missing_to_threshold=f"{points_missing(total, sheet.round.threshold):.2f}")
