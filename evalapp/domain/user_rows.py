"""Validating a list of users to import (用户名, 姓名, 角色, 所属单位代码) before anything is written: all or nothing,
every problem named by its row and column.

The same rules as a user created on the users page (services/users.py uses USERNAME and UNIT_LEVEL from here):
a username of 3 to 64 lower-case letters, digits or `_ . -`, unique; a role of the vocabulary; a unit only for the
roles whose scope is one (a township lead's 镇(街道), a village clerk's 村(社区)).
"""
import re
import unicodedata
from dataclasses import dataclass

from .messages import M_, Msg
from .text import text_problem
from .units import normalize_code
from .vocabulary import Role, UnitLevel

USERNAME = re.compile(r"^[a-z0-9_.-]{3,64}$")
# The roles whose scope is a unit, and the level that unit has.
UNIT_LEVEL = {"township": "township", "village": "village"}
HEADERS = (M_("用户名"), M_("姓名"), M_("角色"), M_("所属单位代码"))  # (marked: a problem names its column)
NAME_MAX = 100


@dataclass(frozen=True)
class UserRow:
    row: int  # spreadsheet row number, for messages
    username: str  # folded to lower case, as the account will be named
    display_name: str
    role: str  # as typed: a role's Chinese label (工作组成员) or its value (inspector)
    unit_code: str


@dataclass(frozen=True)
class NewUser:
    row: int
    username: str
    display_name: str
    role: str  # the role's value
    unit_code: str  # "" for the roles without a unit


def user_row(row: int, cells: dict) -> UserRow:
    """A spreadsheet row ({header: value}) as typed, trimmed; the username in lower case, the unit code as text."""
    def text(value) -> str:
        return "" if value is None else str(value).strip()

    return UserRow(row, unicodedata.normalize("NFKC", text(cells.get("用户名"))).lower(), text(cells.get("姓名")),
                   text(cells.get("角色")), normalize_code(cells.get("所属单位代码")))


def role_of(typed: str) -> str | None:
    """The role a cell names: its Chinese label or its value, in any case; None for anything else."""
    typed = unicodedata.normalize("NFKC", typed or "").strip()
    for role in Role:
        if typed == unicodedata.normalize("NFKC", role.zh) or typed.lower() == role.value:
            return role.value
    return None


def cell_problem(row: int, column: str, letter: str, problem: Msg) -> Msg:
    """A problem of one cell: "第3行C列（角色）：……" (the header translated where shown; the letter is the file's)."""
    return M_("第%(row)s行%(letter)s列（%(column)s）：%(problem)s", row=row, letter=letter, column=Msg(column),
              problem=problem)


def validate_user_rows(rows: list[UserRow], letters: dict[str, str], taken: set[str],
                       units: dict[str, str]) -> tuple[list[Msg], list[NewUser]]:
    """Every problem by row and column, and the users to create when there are none.

    `letters`: each header's column letter in the file; `taken`: the usernames that already exist (lower case);
    `units`: code → level of the units the rows name that exist."""
    problems: list[Msg] = []
    made: list[NewUser] = []
    seen: dict[str, int] = {}
    roles = "、".join(r.zh for r in Role)
    for r in rows:
        def add(column: str, problem: Msg) -> None:
            problems.append(cell_problem(r.row, column, letters[column], problem))

        before = len(problems)
        if not r.username:
            add("用户名", M_("缺少用户名"))
        elif not USERNAME.match(r.username):
            add("用户名", M_("用户名“%(username)s”无效：须为3到64位小写字母、数字或 _ . -", username=r.username[:64]))
        elif r.username in seen:
            add("用户名", M_("用户名“%(username)s”与第%(other)s行重复", username=r.username, other=seen[r.username]))
        elif r.username in taken:
            add("用户名", M_("用户名“%(username)s”已存在", username=r.username))
        if r.username and r.username not in seen:
            seen[r.username] = r.row
        if not r.display_name:
            add("姓名", M_("缺少姓名"))
        elif len(r.display_name) > NAME_MAX:
            add("姓名", M_("姓名过长（不超过%(n)s个字）", n=NAME_MAX))
        elif (bad := text_problem(r.display_name)) is not None:
            add("姓名", M_("姓名%(problem)s", problem=bad))
        role = role_of(r.role)
        if not r.role:
            add("角色", M_("缺少角色"))
        elif role is None:
            add("角色", M_("角色“%(role)s”无效，应为：%(roles)s", role=r.role[:50], roles=roles))
        level = UNIT_LEVEL.get(role) if role else None
        if r.unit_code and text_problem(r.unit_code) is not None:
            add("所属单位代码", M_("单位代码“%(code)s”不存在", code=r.unit_code.encode("unicode_escape").decode()[:50]))
        elif r.unit_code and r.unit_code not in units:
            add("所属单位代码", M_("单位代码“%(code)s”不存在", code=r.unit_code[:50]))
        elif role and level is None and r.unit_code:
            add("所属单位代码", M_("角色“%(role)s”不属于某个单位，请留空", role=Msg(Role(role).zh)))
        elif level and not r.unit_code:
            add("所属单位代码", M_("角色“%(role)s”须填写所属%(level)s的代码", role=Msg(Role(role).zh),
                                  level=Msg(UnitLevel(level).zh)))
        elif level and units[r.unit_code] != level:
            add("所属单位代码", M_("单位“%(code)s”不是%(level)s，角色“%(role)s”须填写所属%(level)s的代码",
                                  code=r.unit_code, level=Msg(UnitLevel(level).zh), role=Msg(Role(role).zh)))
        if len(problems) == before:
            made.append(NewUser(r.row, r.username, r.display_name, role, r.unit_code if level else ""))
    return problems, (made if not problems else [])
