"""Log-in throttling per account and per client address (failures counted in the database by default)."""
import pytest

from tests import factories


@pytest.fixture
def app(empty_app):
    """Accounts of the test's own (tests/factories.py) rather than the demo's."""
    made = factories.units({factories.TOWNSHIP: [factories.VILLAGE]})
    factories.user("village", "village", made[factories.VILLAGE])
    factories.user("township", "township", made[factories.TOWNSHIP])
    return empty_app


def attempt(client, username, password="wrong-password", addr="10.1.1.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr})


def test_an_account_is_throttled_after_repeated_failures(client):
    for _ in range(5):
        assert attempt(client, "village").status_code == 401
    blocked = attempt(client, "village", "demo-pass-2021")
    assert blocked.status_code == 429 and "该账号登录失败次数过多，请15分钟后再试" in blocked.get_data(as_text=True)
    assert 890 <= int(blocked.headers["Retry-After"]) <= 900
    # another account from the same address is not affected
    assert attempt(client, "township", "demo-pass-2021").status_code == 302


def test_unknown_usernames_are_throttled_the_same_way(client):
    for _ in range(5):
        assert attempt(client, "nobody").status_code == 401
    assert attempt(client, "nobody").status_code == 429


def test_a_whole_office_behind_one_address_can_log_in(app):
    from tests.conftest import make_user

    for i in range(40):
        make_user(f"clerk{i:02d}", "village", factories.VILLAGE)
    for i in range(40):
        c = app.test_client()
        assert attempt(c, f"clerk{i:02d}", "demo-pass-2021", addr="10.9.9.9").status_code == 302


def test_an_address_is_throttled_after_many_failures_across_accounts(app, client):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "8 per 15 minutes"
    for i in range(8):
        assert attempt(client, f"guess{i}", addr="10.6.6.6").status_code == 401
    assert attempt(client, "village", "demo-pass-2021", addr="10.6.6.6").status_code == 429
    assert attempt(client, "village", "demo-pass-2021", addr="10.7.7.7").status_code == 302


def test_api_token_endpoint_is_throttled_too(client):
    for _ in range(5):
        assert client.post("/api/v1/auth/token", json={"username": "village", "password": "x"}).status_code == 401
    response = client.post("/api/v1/auth/token", json={"username": "village", "password": "demo-pass-2021"})
    assert response.status_code == 429 and response.get_json()["error"] == "该账号登录失败次数过多，请15分钟后再试"
    assert int(response.headers["Retry-After"]) > 0


def _redis_up() -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_redis_storage_is_shared_between_app_instances(databases, tmp_path):
    """With the Redis backend, two app processes (gunicorn workers) with the same Redis see the same counts."""
    import uuid

    from tests.conftest import make_app

    uri = "redis://127.0.0.1:6379/15"
    url = databases.clone(databases.template("empty"))
    name = f"shared-{uuid.uuid4().hex[:8]}"
    first = make_app(url, LOGIN_THROTTLE_BACKEND="redis", RATELIMIT_STORAGE_URI=uri, UPLOAD_FOLDER=str(tmp_path))
    for _ in range(5):
        assert attempt(first.test_client(), name).status_code == 401
    second = make_app(url, LOGIN_THROTTLE_BACKEND="redis", RATELIMIT_STORAGE_URI=uri, UPLOAD_FOLDER=str(tmp_path))
    assert attempt(second.test_client(), name).status_code == 429
    for app in (first, second):
        with app.app_context():
            from evalapp.extensions import db

            db.engine.dispose()
