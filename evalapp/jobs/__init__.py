"""Long work's pages (issue 34, point 2): ask for a job, watch its progress, fetch its file (services.jobs)."""
from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

from . import routes  # noqa: E402,F401
