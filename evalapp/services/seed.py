"""Demo data, through one idempotent function that the CLI and the test fixtures both call."""
import random
from datetime import date, timedelta
from importlib import resources

import yaml
from sqlalchemy import func, select

from ..domain.catalogue import validate_catalogue
from ..domain.scoring import ScoreEntry
from ..extensions import db
from ..models import CatalogueVersion, OrgUnit, Round, RoundUnit, Sheet, Team, TeamMember, User
from . import rounds as round_service, versions
from .accounts import hash_password
from .catalogues import indicators_of, load_tree
from .moves import move_sheet_in, today_local
from .scores import save_score_in

ROUND_2021 = "2021年度试点评估验收"
ROUND_2022 = "2022年度全面推行评估验收"
LUCHENG = "430603101"  # 陆城镇
# Pilot villages of 2021: one or two per township, as the notice asks. 长岭街道 has no village on record.
PILOTS_2021 = {
    "430603002": ["洗马塘社区", "坪田村"],
    "430603003": ["擂鼓台社区", "东风村"],
    LUCHENG: ["陆城村", "道仁矶社区"],
    "430603102": ["路口村", "南山村"],
}
# username, display name, role, scope (unit name or None)
DEMO_USERS = [
    ("admin", "区民政局管理员", "admin", None),
    ("district", "区委组织部审核员", "district", None),
    ("leader", "第一工作组组长", "inspector", None),
    ("inspector", "第一工作组评估员", "inspector", None),
    ("township", "陆城镇负责人", "township", "陆城镇"),
    ("village", "陆城村协理员", "village", "陆城村"),
    ("finance", "区财政局经办人", "finance", None),
    ("leader2", "第二工作组组长", "inspector", None),
    ("inspector2", "第二工作组评估员", "inspector", None),
]


# libyaml's loader where PyYAML was built with it (its wheels are): the package's own files, read some eight times faster
# than by the pure-Python loader (0.034 s → 0.004 s for the indicators, once per seeded database), same objects.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _data(name: str) -> dict:
    return yaml.load(resources.files("evalapp.data").joinpath(name).read_text(encoding="utf-8"), Loader=_LOADER)


def village_code(township_code: str, index: int) -> str:
    """The app's own 12-digit code for a village until an import supplies the official one."""
    return f"{township_code}{index:03d}"


def seed_units() -> dict[str, OrgUnit]:
    """The Yunxi district, its townships and villages (upsert by code); returns units by name."""
    data = _data("yunxi-units-2021.yaml")
    existing = {u.code: u for u in db.session.scalars(select(OrgUnit))}

    def upsert(code, name, level, kind, parent, position):
        unit = existing.get(code)
        if unit is None:
            unit = OrgUnit(code=code, name=name, level=level, kind=kind, parent=parent, position=position)
            db.session.add(unit)
            existing[code] = unit
        return unit

    d = data["district"]
    district = upsert(d["code"], d["name"], "district", "区", None, 0)
    by_name = {district.name: district}
    for t_pos, t in enumerate(data["townships"]):
        township = upsert(t["code"], t["name"], "township", t["kind"], district, t_pos)
        by_name[township.name] = township
        for v_pos, name in enumerate(t["villages"], start=1):
            kind = "社区" if name.endswith("社区") else "村"
            by_name[name] = upsert(village_code(t["code"], v_pos), name, "village", kind, township, v_pos)
    db.session.flush()
    return by_name


def seed_catalogues() -> dict[str, CatalogueVersion]:
    """The default catalogues, version 1 of each code, created once; returns them by level."""
    out = {}
    from .catalogues import create_version

    for raw in _data("indicators-2021.yaml")["catalogues"]:
        data = validate_catalogue(raw)
        version = db.session.scalar(
            select(CatalogueVersion).where(CatalogueVersion.code == data.code).order_by(CatalogueVersion.version)
        )
        out[data.level] = version or create_version(data)
    db.session.flush()
    return out


def seed_users(units: dict[str, OrgUnit], password: str) -> dict[str, User]:
    """One demo user per role (and a second team), created once with the demo password. Their second factor is
    switched off (`totp_exempt`), so the demo logs in with the password alone; the log-in page says so, and an
    administrator's reset of a demo account's second factor switches it on."""
    users = {u.username: u for u in db.session.scalars(select(User))}
    for username, display, role, scope in DEMO_USERS:
        if username not in users:
            user = User(username=username, display_name=display, role=role, password_hash=hash_password(password),
                        unit=units[scope] if scope else None, totp_exempt=True)
            db.session.add(user)
            users[username] = user
    db.session.flush()
    return users


def sample_entry(rng: random.Random, indicator) -> ScoreEntry:
    """A plausible self-assessment of one indicator: mostly full marks, some deductions."""
    rules = [r for r in indicator.rules if not r.void]
    if not rules or rng.random() < 0.75:
        return ScoreEntry()
    rule = rng.choice(rules)
    return ScoreEntry(deductions={rule.code: 2 if rng.random() < 0.2 else 1})


def fill_sheet(sheet: Sheet, user: User, seed: str) -> None:
    """Score every indicator of a sheet with sample entries (deterministic for a seed string), committed once."""
    try:
        fill_sheet_in(sheet, user, seed)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def fill_sheet_in(sheet: Sheet, user: User, seed: str) -> None:
    """fill_sheet in the caller's transaction, not committed (the demo's seed_demo writes everything at once)."""
    rng = random.Random(seed)
    catalogue = load_tree(sheet.round.catalogue_for(sheet.unit.level).id)
    for indicator in indicators_of(catalogue):
        save_score_in(sheet, indicator.code, sample_entry(rng, indicator), user, expected_version=0)
    sheet.summary = f"{sheet.unit.name}“党建+社会救助”试点工作总结（示例）：已建立四级联系结对，党员每两个月走访联系户。"


def _user_for(unit: OrgUnit, users: dict[str, User]) -> User:
    for user in users.values():
        if user.unit_id == unit.id:
            return user
    return users["admin"]


def _make_round(name, catalogues, units_in_scope, rollout, **dates) -> Round:
    round_ = Round(name=name, rollout=rollout, township_catalogue=catalogues["township"],
                   village_catalogue=catalogues["village"], **dates)
    db.session.add(round_)
    db.session.flush()
    for unit in units_in_scope:
        db.session.add(RoundUnit(round_id=round_.id, unit_id=unit.id))
    versions.bump(round_.id)
    db.session.flush()
    return round_


def _add_team(round_: Round, name: str, leader: User, members: list[User], units: list[OrgUnit]) -> Team:
    team = Team(round_id=round_.id, name=name, leader_id=leader.id)
    db.session.add(team)
    db.session.flush()
    for member in members:
        db.session.add(TeamMember(round_id=round_.id, team_id=team.id, user_id=member.id))
    scope = {ru.unit_id: ru for ru in db.session.scalars(select(RoundUnit).where(RoundUnit.round_id == round_.id))}
    for unit in units:
        scope[unit.id].team_id = team.id
    db.session.flush()
    return team


def _self_sheet(round_: Round, unit: OrgUnit) -> Sheet:
    return db.session.scalar(select(Sheet).where(Sheet.round_id == round_.id, Sheet.unit_id == unit.id,
                                                 Sheet.kind == "self"))


def seed_round_2021(units, catalogues, users) -> Round:
    """The 2021 pilot round, standing in inspection: self-assessments submitted, two teams at work."""
    townships = [u for u in units.values() if u.level == "township"]
    pilots = [units[name] for code in PILOTS_2021 for name in PILOTS_2021[code]]
    round_ = _make_round(ROUND_2021, catalogues, townships + pilots, "pilot",
                         self_due=date(2021, 11, 25), township_due=date(2021, 11, 30),
                         inspection_start=date(2021, 12, 1), inspection_end=date(2021, 12, 20))
    lucheng = units["陆城镇"]
    team1_units = [lucheng] + [units[n] for n in PILOTS_2021[LUCHENG]]
    _add_team(round_, "第一工作组", users["leader"], [users["leader"], users["inspector"]], team1_units)
    _add_team(round_, "第二工作组", users["leader2"], [users["leader2"], users["inspector2"]],
              [u for u in townships + pilots if u not in team1_units])
    round_service.advance_in(round_, users["admin"])  # → self_assessment: self sheets
    for unit in sorted(townships + pilots, key=lambda u: u.code):
        sheet = _self_sheet(round_, unit)
        user = _user_for(unit, users)
        fill_sheet_in(sheet, user, f"{ROUND_2021}/{unit.code}")
        move_sheet_in(sheet, "submitted", user, "示例数据：自评已提交")
    round_service.advance_in(round_, users["admin"])  # → inspection: inspector and final sheets
    return round_


def seed_round_2022(units, catalogues, users) -> Round:
    """The 2022 full roll-out, standing in self-assessment: one village already submitted for review."""
    today = today_local()
    scope = [u for u in units.values() if u.level in ("township", "village")]
    round_ = _make_round(ROUND_2022, catalogues, scope, "full", self_due=today + timedelta(days=5),
                         township_due=today + timedelta(days=12), inspection_start=today + timedelta(days=15),
                         inspection_end=today + timedelta(days=30))
    round_service.advance_in(round_, users["admin"])
    sheet = _self_sheet(round_, units["道仁矶社区"])
    fill_sheet_in(sheet, users["admin"], f"{ROUND_2022}/{sheet.unit.code}")
    move_sheet_in(sheet, "submitted", users["admin"], "示例数据：自评已提交")
    return round_


def seed_demo(password: str) -> dict:
    """Load the demo: units, catalogues, users, the 2021 and 2022 rounds, in one transaction (all of it or none).
    Twice gives the same data."""
    try:
        units = seed_units()
        catalogues = seed_catalogues()
        users = seed_users(units, password)
        existing = set(db.session.scalars(select(Round.name)))
        if ROUND_2021 not in existing:
            seed_round_2021(units, catalogues, users)
        if ROUND_2022 not in existing:
            seed_round_2022(units, catalogues, users)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return {
        "units": db.session.scalar(select(func.count(OrgUnit.id))),
        "users": [u for u, *_ in DEMO_USERS],
        "rounds": db.session.scalar(select(func.count(Round.id))),
    }


def demo_accounts() -> list[tuple[str, str, str]]:
    """The demo's accounts still on the database and active, in DEMO_USERS' order: (username, role as the header
    shows it, display name). Empty on a database the demo was never seeded into. A read: two queries."""
    from ..domain.vocabulary import TEAM_LEADER, Role

    names = [username for username, *_ in DEMO_USERS]
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names), User.active))}
    leaders = set(db.session.scalars(select(Team.leader_id).where(Team.leader_id.is_not(None))))
    return [(name, TEAM_LEADER if users[name].id in leaders else Role.zh_of(users[name].role),
             users[name].display_name) for name in names if name in users]
