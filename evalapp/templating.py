"""Template filters and globals."""
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, g
from flask_babel import format_datetime, get_locale, get_translations
from markupsafe import Markup

from .domain.numbers import q2


def points(value) -> str:
    """Points with two decimals ("95.00"); a dash for no value."""
    if value is None:
        return "—"
    return f"{q2(Decimal(value)):.2f}"


def _translations():
    """The request's translations, looked up once per request (a scoring page translates ~450 strings)."""
    translations = g.get("_translations")
    if translations is None:
        translations = g._translations = get_translations()
    return translations


def _gettext(string: str, **variables) -> Markup:
    """{{ _('…') }} as Jinja's newstyle gettext does it: the translation as markup, formatted with the variables
    (and always when it holds a %, as Jinja would: "%%" means one %)."""
    translated = Markup(_translations().ugettext(string))
    return translated % variables if variables or "%" in translated else translated


def card_values(ind, score, saved: str, unscored: str, **markup) -> dict:
    """An indicator card's per-sheet values (scoring/_card.html's card_markup), from the score row (None: nothing saved yet;
    a row with points None holds only a note: unscored)."""
    scored = score is not None and score.points is not None
    applied = {d.rule_id: d.count for d in score.deductions} if scored else {}
    values = {
        "unscored": "" if scored else " is-unscored",
        "version": score.version if score else 0,
        "scored": 1 if scored else 0,
        "mode": ("direct" if score.direct_score is not None else "deductions") if scored else "",
        "score": points(score.points) if scored else "—",
        "state": saved if scored else unscored,
        "clear_hidden": "" if scored else " hidden",
        "free": points(score.free_deduction) if scored and score.free_deduction else "",
        "direct": points(score.direct_score) if scored and score.direct_score is not None else "",
        "reason": score.reason if score else "",
        "note": score.note if score else "",
        **markup,
    }
    for rule in ind.rules:
        count = applied.get(rule.id)
        values["checked:" + rule.code] = "checked" if count else ""
        values["applied:" + rule.code] = " is-applied" if count else ""
        values["count:" + rule.code] = count or 0
    return values


def register(app: Flask) -> None:
    # Flask-Babel resolves the locale and its catalogue on every {{ _() }}: a third of the scoring page's time.
    app.jinja_env.install_gettext_callables(lambda s: _translations().ugettext(s),
                                            lambda s, p, n: _translations().ungettext(s, p, n), newstyle=True)
    # Jinja's newstyle `_()` goes through two context calls and formats every string, placeholders or not; a
    # page calls it ~50 times. The same result (every template here autoescapes), in one call.
    app.jinja_env.globals.update(_=_gettext, gettext=_gettext)
    app.jinja_env.filters["points"] = points
    app.jinja_env.globals.update(card_values=card_values)
    app.jinja_env.filters["dt"] = lambda v: format_datetime(v, "yyyy-MM-dd HH:mm") if v else "—"
    app.jinja_env.filters["d"] = lambda v: v.isoformat() if isinstance(v, (date, datetime)) else "—"

    @app.context_processor
    def globals_():
        return {"languages": current_app.config["LANGUAGES"], "get_locale": get_locale}
