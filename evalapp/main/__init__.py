from flask import Blueprint

from ..domain import vocabulary

bp = Blueprint("main", __name__)
# Templates read labels from the one vocabulary: {{ vocab.RoundPhase.label_of(round.status) }}, {{ k.label }}.
bp.add_app_template_global(vocabulary, "vocab")

from . import routes  # noqa: E402,F401
