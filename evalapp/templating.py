"""Template filters and globals."""
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app
from flask_babel import format_datetime, get_locale

from .domain.numbers import q2


def points(value) -> str:
    """Points with two decimals ("95.00"); a dash for no value."""
    if value is None:
        return "—"
    return f"{q2(Decimal(value)):.2f}"


def register(app: Flask) -> None:
    app.jinja_env.filters["points"] = points
    app.jinja_env.filters["dt"] = lambda v: format_datetime(v, "yyyy-MM-dd HH:mm") if v else "—"
    app.jinja_env.filters["d"] = lambda v: v.isoformat() if isinstance(v, (date, datetime)) else "—"

    @app.context_processor
    def globals_():
        return {"languages": current_app.config["LANGUAGES"], "get_locale": get_locale}
