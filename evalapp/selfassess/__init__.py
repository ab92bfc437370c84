from flask import Blueprint

bp = Blueprint("selfassess", __name__, url_prefix="/selfassess")

from . import routes  # noqa: E402,F401
