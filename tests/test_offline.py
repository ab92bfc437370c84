"""Offline scoring, the server's pieces the page needs (issue 31): the service worker names this deploy's assets
under their fingerprinted URLs and changes when any of them does; the key that seals a user's offline data is that
user's alone, the same at every log-in, and never cached."""
import base64
import json

from evalapp import assets
from evalapp.offline import SHELL_ASSETS
from tests.factories import app_on_demo  # noqa: F401  (the demo database)


def _setup(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    text = response.get_data(as_text=True)
    first, rest = text.split("\n", 1)
    assert first.startswith("self.EVALAPP_SW = ") and "importScripts(EVALAPP_SW.idb, EVALAPP_SW.store)" in rest
    return json.loads(first[len("self.EVALAPP_SW = "):].rstrip(";"))


def test_service_worker_caches_every_asset_of_the_pages_under_its_fingerprint(app, client):
    setup = _setup(client)
    with app.test_request_context():
        assert setup["assets"] == [f"/static/{name}?v={assets.fingerprint(name)}" for name in SHELL_ASSETS]
    for url in setup["assets"]:
        assert client.get(url).status_code == 200, url
    assert setup["idb"] in setup["assets"] and setup["store"] in setup["assets"]


def test_service_worker_changes_when_an_asset_does(app, client, monkeypatch):
    before = _setup(client)
    real = assets.fingerprint
    monkeypatch.setattr("evalapp.offline.fingerprint",
                        lambda name: "000000000000" if name == "js/scoring.js" else real(name))
    after = _setup(client)
    assert after["version"] != before["version"]


def test_each_user_gets_a_key_of_their_own_the_same_at_every_log_in(app, login_as):
    inspector = login_as("inspector").get("/offline/key")
    again = login_as("inspector").get("/offline/key")
    other = login_as("leader").get("/offline/key")
    assert inspector.status_code == 200 and inspector.headers["Cache-Control"] == "no-store"
    assert len(base64.b64decode(inspector.json["key"])) == 32
    assert inspector.json == again.json
    assert other.json["key"] != inspector.json["key"] and other.json["user"] != inspector.json["user"]


def test_no_key_without_a_log_in(client):
    response = client.get("/offline/key")
    assert response.status_code == 401 and response.json["code"] == "auth.required" and "key" not in response.json


def test_the_assets_the_worklist_scoring_and_signing_pages_need_stay_within_400_kb_compressed(app):
    """Issue 31's budget: everything the service worker caches for those pages, gzip-compressed (the app compresses
    static files as it does pages: assets.py), at most 400 KB."""
    import gzip
    import os

    total = 0
    for name in SHELL_ASSETS:
        with open(os.path.join(app.static_folder, name), "rb") as f:
            total += len(gzip.compress(f.read(), 6))
    assert total <= 400 * 1024, total
