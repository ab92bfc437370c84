"""Accounts that cannot be lost or mislabelled (issue 28, point 8): the last active admin stays, whatever the form
is sent or however two admins race; the 启用/停用 buttons take "1" or "0" and nothing else; an audit row names the
object acted on, also when a user changes their own password. Who sees which sheet, by page and API alike, is
tests/test_access.py's."""
import threading

import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, OrgUnit, User
from evalapp.services import users as user_service
from evalapp.services.errors import Invalid
from tests.factories import PASSWORD, VILLAGE, make_round, user as make_user

NEW_PASSWORD = "Lantern-river-4817-quiet"


@pytest.fixture
def world(empty_app):
    return make_round("inspection")


def _login(app, username, password=PASSWORD):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    return client


def _user(username) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def _audited(action) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def _demote(client, target: User | tuple[int, str]):
    """Post the users page's edit form for `target` (a user, or its id and display name) with the role 区级."""
    user_id, name = target if isinstance(target, tuple) else (target.id, target.display_name)
    return client.post(f"/admin/users/{user_id}", data={"display_name": name, "role": "district", "unit_code": ""})


def test_the_only_active_admin_cannot_demote_their_own_account(world, empty_app):
    make_user("admin_retired", "admin").active = False  # an inactive admin does not count
    db.session.commit()
    admin = _login(empty_app, "admin")
    refused = _demote(admin, _user("admin"))
    assert refused.status_code == 422
    assert "唯一启用的管理员" in refused.get_data(as_text=True)
    assert _user("admin").role == "admin" and _audited("user.role") == 0
    assert admin.get("/admin/users").status_code == 200  # still an admin, still signed in


def test_an_admin_may_demote_themselves_while_another_active_admin_remains(world, empty_app):
    make_user("admin2", "admin")
    assert _demote(_login(empty_app, "admin"), _user("admin")).status_code == 302
    assert _user("admin").role == "district" and _audited("user.role") == 1


def test_the_services_refuse_to_deactivate_or_demote_the_last_active_admin_whoever_asks(world, empty_app):
    """The service's own rule, whoever calls it: deactivating or demoting the last active admin is refused."""
    other = make_user("admin2", "admin")
    other.active = False
    db.session.commit()
    admin = _user("admin")
    with pytest.raises(Invalid) as raised:
        user_service.set_active(admin, False, other)
    assert raised.value.code == "user.last_admin"
    with pytest.raises(Invalid):
        user_service.update_user(admin, "admin", "finance", "", other)
    assert _user("admin").active and _user("admin").role == "admin"


def test_two_admins_demoting_each_other_at_once_leave_one_admin(world, empty_app, monkeypatch):
    """Both requests have read their target and passed every check of their own before either writes (a barrier):
    the count of active admins is taken under a lock, so the second sees what the first left and is refused."""
    make_user("admin2", "admin")
    first, second = _login(empty_app, "admin"), _login(empty_app, "admin2")
    targets = {name: (target.id, target.display_name)  # (read here: the threads have no app context)
               for name, target in (("admin", _user("admin2")), ("admin2", _user("admin")))}
    both_read = threading.Barrier(2, timeout=60)
    scope = user_service._scope

    def paused_scope(*args, **kwargs):
        if threading.current_thread().name in targets and not both_read.broken:
            both_read.wait()
        return scope(*args, **kwargs)

    monkeypatch.setattr(user_service, "_scope", paused_scope)
    statuses, errors = {}, []

    def demote(name, client):
        try:
            statuses[name] = _demote(client, targets[name]).status_code
        except BaseException as exc:  # noqa: BLE001 (re-raised below)
            errors.append(exc)
            both_read.abort()

    threads = [threading.Thread(target=demote, args=(name, client), name=name)
               for name, client in (("admin", first), ("admin2", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sorted(statuses.values()) == [302, 422], statuses
    db.session.expire_all()
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))) == 1


@pytest.mark.parametrize("value", ["²", "", "2", "true", "01"])
def test_the_active_buttons_take_one_or_zero_and_nothing_else(world, empty_app, value):
    admin = _login(empty_app, "admin")
    target, unit = _user("village"), db.session.scalar(select(OrgUnit).where(OrgUnit.name == VILLAGE))
    refused = admin.post(f"/admin/users/{target.id}/active", data={"active": value})
    assert refused.status_code == 422
    assert "应为 1（启用）或 0（停用）" in refused.get_data(as_text=True)
    assert admin.post(f"/admin/units/{unit.id}/active", data={"active": value}).status_code == 422
    db.session.expire_all()
    assert _user("village").active and db.session.get(OrgUnit, unit.id).active
    assert _audited("user.deactivate") == 0 and _audited("unit.deactivate") == 0
    assert admin.post(f"/admin/users/{target.id}/active", data={"active": "0"}).status_code == 302
    assert not _user("village").active


def test_an_own_password_change_is_audited_on_the_user(world, empty_app):
    village = _login(empty_app, "village")
    response = village.post("/account/password", data={"current": PASSWORD, "password": NEW_PASSWORD,
                                                       "password2": NEW_PASSWORD})
    assert response.status_code == 302
    rows = db.session.execute(select(AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id)
                              .where(AuditEvent.action.in_(["user.change_password", "user.credentials_end"]))).all()
    me = _user("village").id
    assert sorted(rows) == [("user.change_password", "User", me), ("user.credentials_end", "User", me)]
