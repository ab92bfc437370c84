"""Issue 27, point 1 (in part): the CSRF page and the API's own refusals read English in an English session — the
messages the views wrote in Chinese outside the catalogue."""
import re

import pytest

from tests.factories import VILLAGE, app_of_world, make_sheet, world  # noqa: F401  (the fixtures)

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def english(login_as):
    def log_in(username):
        client = login_as(username)
        client.post("/lang", data={"lang": "en"})
        return client
    return log_in


def test_the_csrf_page_reads_english(app, english):
    client = english("inspector")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.post("/lang", data={"lang": "en"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and "The page has expired" in text
    assert not HAN.search(text.split('<main', 1)[-1].split("</main>", 1)[0])


def test_the_apis_own_refusals_read_english(app, world, english):  # noqa: F811
    client = english("inspector")
    sheet = make_sheet(world, VILLAGE)
    answers = {
        "bad credentials": client.post("/api/v1/auth/token", json={"username": 1, "password": 2}),
        "wrong password": client.post("/api/v1/auth/token", json={"username": "inspector", "password": "nope-nope"}),
        "no such round (sheets)": client.get("/api/v1/rounds/999999/sheets"),
        "no photo": client.post(f"/api/v1/sheets/{sheet.id}/scores/A1/photos", data={},
                                content_type="multipart/form-data"),
        "no such photo": client.delete("/api/v1/evidence/999999"),
        "no such round (results)": client.get("/api/v1/rounds/999999/results"),
        "results not for an inspector": client.get(f"/api/v1/rounds/{world.round.id}/results"),
    }
    statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses == {"bad credentials": 401, "wrong password": 401, "no such round (sheets)": 404,
                        "no photo": 422, "no such photo": 404, "no such round (results)": 404,
                        "results not for an inspector": 403}
    for name, response in answers.items():
        body = response.get_json()
        assert not HAN.search(body["error"]), (name, body)
        assert not any(HAN.search(text) for text in body["fields"].values()), (name, body)
    assert answers["no photo"].get_json()["fields"] == {"photo": "Choose a photo"}
