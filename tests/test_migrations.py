"""Schema only through migrations: `flask db upgrade` builds it, and it matches the models exactly."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from evalapp.extensions import db

from tests.conftest import make_app


def test_upgrade_builds_the_schema_and_models_agree(blank_db_url):
    app = make_app(blank_db_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert diff == []
    assert {"org_units", "users", "catalogue_versions", "indicators", "deduction_rules", "rounds", "round_units",
            "teams", "team_members", "sheets", "scores", "score_deductions", "evidence_files",
            "audit_events", "subsidy_rules"} <= tables


def test_downgrade_to_base_and_back(blank_db_url):
    app = make_app(blank_db_url)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "sheets" in inspect(db.engine).get_table_names()
        db.engine.dispose()
