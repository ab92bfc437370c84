"""帮助: the 操作手册, one page per role (templates/help/<role>.html), and all of them on one printable page.

The manual names the interface's menus, pages and buttons through the `ui()` macro (templates/help/_ui.html);
tests/test_manual.py holds each name to the strings the app really shows."""
from flask import abort, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..domain.vocabulary import TEAM_LEADER, Role
from ..main.routes import role_title
from . import bp

# The manual's readers in the order of a round's work: key → the title the header shows for them.
ROLES = {
    "village": Role.VILLAGE.zh,
    "township": Role.TOWNSHIP.zh,
    "inspector": Role.INSPECTOR.zh,
    "leader": TEAM_LEADER,
    "district": Role.DISTRICT.zh,
    "finance": Role.FINANCE.zh,
    "admin": Role.ADMIN.zh,
}
# Who they are, in the words of the people themselves (under the title).
WHO = {
    "village": _l("村(社区)社会救助协理员：填报本村(社区)的自评表"),
    "township": _l("镇(街道)负责人：审核村(社区)自评，填报本镇(街道)自评"),
    "inspector": _l("工作组成员：到现场为本组负责的单位打分"),
    "leader": _l("工作组组长：汇总成员评分，定出工作组评分表并签名"),
    "district": _l("区委组织部、区民政局工作组：审核评分表，公布评估结果"),
    "finance": _l("区财政局：设置奖补规则，下载奖补资格表"),
    "admin": _l("区民政局系统管理员：单位、用户、指标体系、批次与工作组，解锁已公布的结果"),
}


def own_role(user) -> str:
    """The manual page for this user: a team leader reads the leader's page."""
    if user.role == "inspector" and role_title(user) == TEAM_LEADER:
        return "leader"
    return user.role


@bp.get("/")
@login_required
def index():
    return redirect(url_for("manual.page", role=own_role(current_user)))


@bp.get("/<role>")
@login_required
def page(role: str):
    if role not in ROLES:
        abort(404)
    return render_template("help/page.html", roles=ROLES, who=WHO, shown=[role], role=role,
                           mine=own_role(current_user))


@bp.get("/all")
@login_required
def all_roles():
    """Every role's manual on one page, a role per printed page."""
    return render_template("help/page.html", roles=ROLES, who=WHO, shown=list(ROLES), role=None,
                           mine=own_role(current_user))


@bp.app_context_processor
def _manual_url():
    """The header's 帮助: the page of the signed-in user's own role."""
    return {"manual_url": lambda: url_for("manual.page", role=own_role(current_user))}
