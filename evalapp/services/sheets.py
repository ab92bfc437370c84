"""Sheets and scores, split by what they do — this module only gathers their names for older callers (tests,
bench); the app imports the modules themselves:

* services.sheet_views — loading a sheet with what access checks read, and viewing it with scores and figures;
* services.scores — saving a score (the one rule for the page and the API);
* services.figures — a sheet's stored figures, recomputed in SQL;
* services.moves — workflow moves (submit, approve, return);
* api.serialize — the API's representation of a sheet.
"""
from ..api.serialize import sheet_payload
from .figures import SheetFigures, figures_of, refresh_figures, refresh_sheet, sheet_total
from .moves import (
    approve_sheet, last_return, move_sheet, return_sheet, review_sheet, submit_sheet, today_local,
)
from .scores import save_score, score_state, store_score
from .sheet_views import (
    SheetView, catalogue_for_sheet, find_indicator, load_sheet, scores_by_indicator, sheet_view,
)

__all__ = [
    "SheetFigures", "SheetView", "approve_sheet", "catalogue_for_sheet", "figures_of", "find_indicator", "last_return",
    "load_sheet", "move_sheet", "refresh_figures", "refresh_sheet", "return_sheet", "review_sheet", "save_score",
    "score_state", "scores_by_indicator", "sheet_payload", "sheet_total", "sheet_view", "store_score", "submit_sheet",
    "today_local",
]
