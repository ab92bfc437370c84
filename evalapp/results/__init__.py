from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/results")

from . import routes  # noqa: E402,F401
from . import bulk  # noqa: E402,F401
from . import units  # noqa: E402,F401
from . import summary  # noqa: E402,F401
from . import history  # noqa: E402,F401
