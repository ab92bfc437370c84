from flask import Blueprint

bp = Blueprint("inspection", __name__, url_prefix="/inspection")

from . import routes  # noqa: E402,F401
