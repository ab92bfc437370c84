from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import routes  # noqa: E402,F401
from . import second_factor  # noqa: E402,F401
from . import tokens  # noqa: E402,F401
from . import setup  # noqa: E402,F401
