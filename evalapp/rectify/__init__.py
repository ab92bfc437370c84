from flask import Blueprint

bp = Blueprint("rectify", __name__, url_prefix="/rectify")

from . import routes  # noqa: E402,F401
from . import interviews  # noqa: E402,F401
