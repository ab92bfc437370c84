from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import audit_log, catalogues, rounds, routes, second_factor, units, users  # noqa: E402,F401
