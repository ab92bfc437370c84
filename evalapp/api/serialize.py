"""The API's representation of a sheet."""
from ..services.scores import score_state
from ..services.sheet_views import SheetView


def sheet_payload(view: SheetView) -> dict:
    """The API's representation of a sheet; Decimal values as strings with two decimals."""
    sheet = view.sheet
    rules = {r.id: r for ind in view.indicators for r in ind.rules}  # a deduction names its rule by id
    indicators = []
    for ind in view.indicators:
        state = score_state(view.scores.get(ind.id), rules)
        indicators.append({
            "code": ind.code,
            "title": ind.title,
            "max": f"{ind.points:.2f}",
            "score": state["score"],
            "deductions": state.get("deductions", []),
            "free_deduction": state.get("free_deduction", "0.00"),
            "direct_score": state.get("direct_score"),
            "reason": state.get("reason", ""),
            "note": state.get("note", ""),
            "version": state["version"],
            "photos": [{"id": ev.id, "name": ev.original_name} for ev in view.evidence.get(ind.id, [])],
        })
    return {
        "id": sheet.id,
        "round_id": sheet.round_id,
        "unit": {"code": sheet.unit.code, "name": sheet.unit.name, "level": sheet.unit.level},
        "kind": sheet.kind,
        "status": sheet.status,
        "version": sheet.version,
        "total": None if view.total is None else f"{view.total:.2f}",
        "result": view.result.value,
        "scored": view.figures.scored,
        "indicator_count": len(view.indicators),
        "indicators": indicators,
    }
