"""An id no column can hold is a 404 on every route with an id (the app-wide `int` converter), never a 500."""
import pytest

from tests.factories import app_of_world, make_sheet, VILLAGE, world  # noqa: F401 (fixtures)


HUGE = ["2147483648", "9223372036854775808", "99999999999999999999999999"]


@pytest.mark.parametrize("huge", HUGE)
def test_every_route_with_an_id_answers_404_for_an_id_out_of_range(app, login_as, huge):
    admin = login_as("admin")
    routes = [r for r in app.url_map.iter_rules() if "<int:" in r.rule and not r.rule.startswith("/static")]
    assert len(routes) > 20
    for rule in routes:
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", huge)
        path = path.replace("<code>", "A1").replace("<any(full, thumb):variant>", "full")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = admin.open(path, method=method, json={} if method in ("PUT", "POST") else None)
            assert response.status_code == 404, (method, path, response.status_code)


def test_ids_in_range_are_looked_up_as_before(login_as, world):
    admin = login_as("admin")
    assert admin.get(f"/api/v1/sheets/{make_sheet(world, VILLAGE).id}").status_code == 200
    assert admin.get("/api/v1/sheets/2147483647").status_code == 404  # the largest id: looked up, not there
