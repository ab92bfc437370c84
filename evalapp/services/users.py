"""Users: create, edit role and scope, deactivate, reset passwords — each credential change ending the user's
sessions and API tokens at once (accounts.end_credentials)."""
from sqlalchemy import func, select, update

from ..domain.passwords import password_problems
from ..domain.text import text_problem
from ..domain.user_rows import UNIT_LEVEL, USERNAME
from ..extensions import db
from ..models import OrgUnit, User
from ..models.user import ROLES
from . import audit
from .accounts import end_credentials, hash_password, verify_password
from .errors import Invalid, Joined, _l

SCOPE_LEVEL = UNIT_LEVEL  # (domain.user_rows: the import checks the same)


def _scope(role: str, unit_code: str) -> OrgUnit | None:
    if role not in ROLES:
        raise Invalid("user.role_invalid", _l("角色无效"), {"role": _l("请选择角色")})
    unit_code = (unit_code or "").strip()
    if role in SCOPE_LEVEL:
        unit = (db.session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
                if text_problem(unit_code) is None else None)  # (a NUL: PostgreSQL's error, not no unit)
        if unit is None or unit.level != SCOPE_LEVEL[role]:
            if role == "township":
                raise Invalid("user.unit_required", _l("该角色须指定所属镇(街道)的编码"),
                              {"unit_code": _l("请填写镇(街道)编码")})
            raise Invalid("user.unit_required", _l("该角色须指定所属村(社区)的编码"), {"unit_code": _l("请填写村(社区)编码")})
        return unit
    return None


def _display_name(text: str | None) -> str:
    """A display name as it will be shown: trimmed, at most 100 characters; Invalid if it holds a control
    character (a NUL in a name once broke the results page and the units export)."""
    text = (text or "").strip()[:100]
    problem = text_problem(text)
    if problem:
        raise Invalid("user.name_invalid", _l("姓名%(problem)s", problem=problem), {"display_name": _l("姓名%(problem)s", problem=problem)})
    return text


def _password(password: str, username: str, display_name: str = "", unit: OrgUnit | None = None) -> str:
    """The hash of an acceptable password; the user's names and unit count as words an attacker would try."""
    context = (unit.name, unit.code) if unit is not None else ()
    problems = password_problems(password or "", username, display_name=display_name, extra_words=context)
    if problems:
        raise Invalid("user.password_weak", Joined(problems), {"password": Joined(problems)})
    return hash_password(password)


def create_user(username: str, display_name: str, role: str, unit_code: str, password: str, actor: User | None,
                must_change: bool = True, *, address: str | None = None) -> User:
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise Invalid("user.username_invalid", _l("用户名须为3到64位小写字母、数字或 _ . -"), {"username": _l("用户名格式无效")})
    if db.session.scalar(select(User).where(User.username == username)):
        raise Invalid("user.username_taken", _l("用户名“%(username)s”已存在", username=username), {"username": _l("用户名已存在")})
    display_name = _display_name(display_name) or username
    unit = _scope(role, unit_code)
    user = User(username=username, display_name=display_name, role=role, unit=unit,
                password_hash=_password(password, username, display_name, unit), must_change_password=must_change)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user=actor, address=address, obj=user, unit_id=user.unit_id,
                 new={"username": username, "role": role, "unit": unit_code or None})
    db.session.commit()
    return user


def _lock_admins() -> None:
    """Take the lock that orders every change of who is an active admin, before counting them: PostgreSQL's row
    locks on the active admins' rows, or on SQLite the database's write lock (a no-op UPDATE: Python's sqlite3
    begins the transaction at the first write, and reads after it see every commit before it). Of two admins
    demoting or deactivating each other at once, the second waits here and then counts what the first left."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(User.id).where(User.role == "admin", User.active.is_(True)).with_for_update())
    else:
        db.session.execute(update(User).where(User.role == "admin").values(role=User.role)
                           .execution_options(synchronize_session=False))


def _keep_an_admin(target: User, field: str) -> None:
    """Refuse a change that takes the last active admin away (Invalid, rolled back): someone must be left to manage
    users, units and rounds. Call it before changing `target`, whose current role and state count."""
    if target.role != "admin" or not target.active:
        return
    _lock_admins()
    others = db.session.scalar(select(func.count(User.id)).where(
        User.role == "admin", User.active.is_(True), User.id != target.id))
    if not others:
        db.session.rollback()
        raise Invalid("user.last_admin", _l("%(username)s是唯一启用的管理员，不能改为其他角色或停用；请先启用或创建另一名管理员",
                                            username=target.username),
                      {field: _l("须至少保留一名启用的管理员")})


def update_user(target: User, display_name: str, role: str, unit_code: str, actor: User, *,
                address: str | None = None) -> None:
    unit = _scope(role, unit_code)
    if role != "admin":
        _keep_an_admin(target, "role")
    old = {"display_name": target.display_name, "role": target.role, "unit": target.unit.code if target.unit else None}
    target.display_name = _display_name(display_name) or target.username
    changed_access = target.role != role or target.unit_id != (unit.id if unit else None)
    target.role, target.unit = role, unit
    if changed_access:  # new rights start with a new log-in and a new token
        end_credentials(target, reason="user.role", actor=actor, address=address)
    audit.record("user.role" if changed_access else "user.update", user=actor, address=address, obj=target,
                 unit_id=target.unit_id, old=old,
                 new={"display_name": target.display_name, "role": role, "unit": unit.code if unit else None})
    db.session.commit()


def set_active(target: User, active: bool, actor: User, *, address: str | None = None) -> bool:
    """Activate or deactivate; returns whether anything changed."""
    if target.id == actor.id and not active:
        raise Invalid("user.deactivate_self", _l("不能停用自己的账号"), {"active": _l("不能停用自己")})
    if target.active == active:
        return False  # a stale page or a second click: nothing changes, nothing ends
    if not active:
        _keep_an_admin(target, "active")
    target.active = active
    # Reactivation too: nothing from before the deactivation comes back to life.
    end_credentials(target, reason="user.activate" if active else "user.deactivate", actor=actor, address=address)
    audit.record("user.activate" if active else "user.deactivate", user=actor, address=address, obj=target,
                 unit_id=target.unit_id)
    db.session.commit()
    return True


def reset_password(target: User, password: str, actor: User | None, *, address: str | None = None) -> None:
    """Set a new password that must be changed at the next log-in; open sessions and API tokens end."""
    target.password_hash = _password(password, target.username, target.display_name, target.unit)
    target.must_change_password = True
    end_credentials(target, reason="user.reset_password", actor=actor, address=address)
    audit.record("user.reset_password", user=actor, address=address, obj=target, unit_id=target.unit_id)
    db.session.commit()


def change_own_password(user: User, current: str, new: str, *, address: str | None = None) -> None:
    """The user's new password; their other sessions and every API token end, the session they used stays."""
    if not verify_password(user, current or ""):
        raise Invalid("user.current_password_wrong", _l("当前密码不正确"), {"current": _l("当前密码不正确")})
    if current == new:
        raise Invalid("user.password_unchanged", _l("新密码不能与当前密码相同"), {"password": _l("新密码不能与当前密码相同")})
    user.password_hash = _password(new, user.username, user.display_name, user.unit)
    user.must_change_password = False
    end_credentials(user, reason="user.change_password", keep_session_token=user.session_token, actor=user,
                    address=address)
    audit.record("user.change_password", user=user, address=address, obj=user)
    db.session.commit()


def list_users(role: str = "", unit_code: str = "", active: str = "", q: str = "") -> list[User]:
    query = select(User).order_by(User.role, User.username)
    if role in ROLES:
        query = query.where(User.role == role)
    # Filters are typed into a search box: one PostgreSQL cannot compare (a NUL, a lone surrogate) finds nothing.
    if any(text_problem(f) is not None for f in (unit_code, q)):
        return []
    if unit_code:
        query = query.join(OrgUnit, OrgUnit.id == User.unit_id).where(OrgUnit.code == unit_code.strip())
    if active in ("1", "0"):
        query = query.where(User.active.is_(active == "1"))
    if q:
        like = f"%{q.strip()[:50]}%"
        query = query.where(User.username.like(like) | User.display_name.like(like))
    return db.session.scalars(query).all()


def unit_choices() -> list[OrgUnit]:
    """The units a user can belong to (the users page's picker): active townships and villages, each township
    followed by its villages, by code."""
    return db.session.scalars(select(OrgUnit).where(OrgUnit.level.in_(tuple(set(UNIT_LEVEL.values()))),
                                                    OrgUnit.active.is_(True)).order_by(OrgUnit.code)).all()
