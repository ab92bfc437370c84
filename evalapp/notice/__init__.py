from flask import Blueprint

bp = Blueprint("notice", __name__, url_prefix="/notice")

from . import routes  # noqa: E402,F401
