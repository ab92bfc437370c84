"""Template filters and globals."""
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, g
from flask_babel import format_datetime, get_locale, get_translations

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


def register(app: Flask) -> None:
    # Flask-Babel resolves the locale and its catalogue on every {{ _() }}: a third of the scoring page's time.
    app.jinja_env.install_gettext_callables(lambda s: _translations().ugettext(s),
                                            lambda s, p, n: _translations().ungettext(s, p, n), newstyle=True)
    app.jinja_env.filters["points"] = points
    app.jinja_env.filters["dt"] = lambda v: format_datetime(v, "yyyy-MM-dd HH:mm") if v else "—"
    app.jinja_env.filters["d"] = lambda v: v.isoformat() if isinstance(v, (date, datetime)) else "—"

    @app.context_processor
    def globals_():
        return {"languages": current_app.config["LANGUAGES"], "get_locale": get_locale}
