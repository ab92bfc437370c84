"""Users from a spreadsheet (用户名, 姓名, 角色, 所属单位代码): checked whole, written whole (or not at all).

No password is ever in the file: each new account gets a one-time set-up code (services.setup_codes), shown once to
the administrator as a list to print and hand out; until its user spends it, the account has no password at all
(its stored hash is no argon2 hash, so no password matches it).
"""
import io
import secrets

from sqlalchemy import select

from ..domain.text import text_problem
from ..domain.user_rows import HEADERS, user_row, validate_user_rows
from ..domain.vocabulary import Role
from ..extensions import db
from ..models import OrgUnit, User
from ..models.base import utcnow
from ..models.user import NO_PASSWORD
from . import audit
from .errors import _l
from .imports import ImportProblems, read_sheet_columns
from .setup_codes import Issued, add_code
from .xlsx import finish, new_workbook, write_row, write_text

MAX_ROWS = 1000


def import_users(data: bytes, actor: User, *, address: str | None = None) -> list[Issued]:
    """Create every user of the file, each with a set-up code (returned, shown once), or none: ImportProblems lists
    every problem by row and column. Audited: one `user.create` per user and one `users.import`."""
    rows, letters = read_sheet_columns(data, list(HEADERS))
    if len(rows) > MAX_ROWS:
        raise ImportProblems([_l("一次最多导入%(n)s个用户（本文件%(rows)s行），请分批导入", n=MAX_ROWS, rows=len(rows))])
    typed = [user_row(n, cells) for n, cells in rows]
    names = {r.username for r in typed if r.username and text_problem(r.username) is None}
    codes = {r.unit_code for r in typed if r.unit_code and text_problem(r.unit_code) is None}
    taken = set(db.session.scalars(select(User.username).where(User.username.in_(names)))) if names else set()
    units = {u.code: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes)))} if codes else {}
    problems, new = validate_user_rows(typed, letters, taken, {code: u.level for code, u in units.items()})
    if problems:
        raise ImportProblems(problems)
    now = utcnow()
    issued = []
    try:
        made = [User(username=n.username, display_name=n.display_name, role=n.role,
                     unit=units.get(n.unit_code) if n.unit_code else None,
                     password_hash=NO_PASSWORD + secrets.token_hex(16), must_change_password=False) for n in new]
        db.session.add_all(made)
        db.session.flush()  # (one INSERT batch: the ids the codes and the audit rows name)
        for n, user in zip(new, made):
            issued.append(add_code(user, actor, now, fresh=True))
            audit.record("user.create", user=actor, address=address, obj=user, unit_id=user.unit_id,
                         new={"username": n.username, "role": n.role, "unit": n.unit_code or None, "import": True,
                              "row": n.row})
        audit.record("users.import", user=actor, address=address,
                     new={"rows": len(rows), "created": len(new), "usernames": [n.username for n in new][:50]})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return issued


def users_template() -> io.BytesIO:
    """The import template: the four columns, three example rows, codes as text, the roles as a drop-down."""
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    ws = wb.add_worksheet("用户")
    text = wb.add_format({"num_format": "@"})
    for col, width in enumerate((16, 12, 16, 18)):
        ws.set_column(col, col, width, text)
    write_row(ws, 0, HEADERS)
    examples = [("wang.fang", "王芳", Role.INSPECTOR.zh, ""), ("li.ming", "李明", Role.TOWNSHIP.zh, "430603101"),
                ("zhao.li", "赵丽", Role.VILLAGE.zh, "430603101201")]
    for n, row in enumerate(examples, start=1):
        for col, value in enumerate(row):
            write_text(ws, n, col, value, text)
    ws.data_validation(1, 2, MAX_ROWS, 2, {"validate": "list", "source": [r.zh for r in Role]})
    return finish(wb, buffer)
