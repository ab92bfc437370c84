"""The scale generator makes valid, complete data in bulk."""
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import Score, Sheet
from evalapp.services.results import round_results
from evalapp.services.scale import generate


def test_demo_scale_makes_every_sheet_with_valid_scores(empty_app):
    round_ = generate(3, 4, seed=7)
    units = 3 * (4 + 1)
    assert db.session.scalar(select(func.count(Sheet.id)).where(Sheet.round_id == round_.id)) == units * 4
    rows = round_results(round_)
    assert len(rows) == units and all(r.result.value in ("pass", "fail", "veto") for r in rows)
    assert db.session.scalar(select(func.min(Score.points))) >= 0
    result = empty_app.test_cli_runner().invoke(args=["demo-scale", "--townships", "1", "--villages-per-township",
                                                      "2", "--seed", "8"])
    assert result.exit_code == 0 and "3 个单位" in result.output
