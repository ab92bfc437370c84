from flask import Blueprint

bp = Blueprint("manual", __name__, url_prefix="/help")

from . import routes  # noqa: E402,F401
