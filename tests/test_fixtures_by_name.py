"""Issue 27, point 4: a test's app and database come from fixtures it names. This module names none, so the client
fixtures cannot reach any database here — least of all the demo's, which a forgetful module once passed on."""
import pytest


@pytest.mark.parametrize("fixture", ["app", "client", "login_as", "runner"])
def test_a_module_that_names_no_database_fails_loudly(request, fixture):
    with pytest.raises(pytest.fail.Exception, match="names no database"):
        request.getfixturevalue(fixture)


def test_the_demo_is_reached_only_by_its_name(demo_app):
    from sqlalchemy import func, select

    from evalapp.extensions import db
    from evalapp.models import User

    assert db.session.scalar(select(func.count(User.id)).where(User.username == "leader")) == 1
