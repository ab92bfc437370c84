"""Small factories: a district, its units, users and a round built through the services, for tests that should
not depend on which rows the demo happens to hold. Call them inside an app context (the `empty_app` fixture)."""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from evalapp.domain.scoring import ScoreEntry
from evalapp.extensions import db
from evalapp.models import OrgUnit, Round, Score, Sheet, User
from evalapp.services import rounds as round_service, subsidy, teams
from evalapp.services.accounts import hash_password
from evalapp.services.seed import seed_catalogues

PASSWORD = "demo-pass-2021"


def units(townships: dict[str, list[str]], district: str = "测试区", code: str = "430699") -> dict[str, OrgUnit]:
    """A district with townships (name → village names); returns every unit by name. A name ending in 街道 or
    社区 gets that kind."""
    root = OrgUnit(code=code, name=district, level="district", kind="区")
    db.session.add(root)
    out = {district: root}
    for t, (township, villages) in enumerate(townships.items(), start=1):
        tcode = f"{code}{t:03d}"
        tu = OrgUnit(code=tcode, name=township, level="township", kind="街道" if township.endswith("街道") else "镇",
                     parent=root, position=t)
        db.session.add(tu)
        out[township] = tu
        for v, village in enumerate(villages, start=1):
            out[village] = OrgUnit(code=f"{tcode}{v:03d}", name=village, level="village",
                                   kind="社区" if village.endswith("社区") else "村", parent=tu, position=v)
            db.session.add(out[village])
    db.session.commit()
    return out


def user(username: str, role: str, unit: OrgUnit | None = None, display_name: str | None = None) -> User:
    # The factories' people log in with the password alone, as the demo's do (tests/test_second_factor.py makes
    # accounts that give a second factor).
    row = User(username=username, display_name=display_name or username, role=role, unit=unit,
               password_hash=hash_password(PASSWORD), totp_exempt=True)
    db.session.add(row)
    db.session.commit()
    return row


def round_(name: str, scope: list[OrgUnit], admin: User, *, rollout: str = "pilot", **dates) -> Round:
    """A round in set-up over the default catalogues, with these units in scope."""
    cats = seed_catalogues()
    db.session.commit()
    form = {"name": name, "rollout": rollout, "township_catalogue_id": str(cats["township"].id),
            "village_catalogue_id": str(cats["village"].id), "threshold": "95", "tolerance": "1",
            **{k: v.isoformat() if isinstance(v, date) else v for k, v in dates.items()}}
    made = round_service.create_round(form, admin)
    round_service.set_scope(made, {u.id for u in scope}, admin)
    return made


def team(round_, name: str, leader: User, members: list[User], units_: list[OrgUnit], admin: User):
    made = teams.create_team(round_, name, leader.username, admin)
    for member in members:
        teams.add_member(made, member.username, admin)
    teams.assign(round_, {u.id: made.id for u in units_}, admin)
    return made


def fixed_subsidy(round_, admin: User, *, township_yuan: str, village_yuan: str) -> None:
    subsidy.save_rule(round_, "township", "fixed", township_yuan, "", admin)
    subsidy.save_rule(round_, "village", "fixed", village_yuan, "", admin)


# make_round's district: two townships with a village each, one team per township.
TOWNSHIP, VILLAGE = "清溪镇", "荷塘村"
OTHER_TOWNSHIP, OTHER_VILLAGE = "白沙街道", "石桥社区"
PHASES = ["setup", "self_assessment", "inspection", "review"]
LEADER_NAME, INSPECTOR_NAME = "第一组组长", "第一组评估员"  # the first team's display names
# A district shaped as the demo's 2021 pilot round: five townships (one without a pilot village), eight villages;
# 清溪镇 and its villages are the leader's team's (make_round(townships=PILOT_DISTRICT)).
PILOT_DISTRICT = {"清溪镇": ["荷塘村", "柳湾社区"], "白沙镇": ["石桥村", "杏林村"], "东岗街道": ["梅溪社区", "枫林村"],
                  "松湖街道": ["竹园社区", "桃源村"], "西岭街道": []}


@dataclass
class World:
    """What make_round built: the round, every unit and person by name, and the district's layout (township →
    village names) its teams were cut from."""

    round: Round
    units: dict[str, OrgUnit]
    people: dict[str, User]
    townships: dict[str, list[str]] = field(default_factory=dict)


def make_round(phase: str = "inspection", name: str = "2031年度测试评估验收", *,
               townships: dict[str, list[str]] | None = None, self_assessed: bool = False, **settings) -> World:
    """A district of its own with one user per role under the conftest personas' names (admin, district, leader,
    inspector, inspector2, township, village, outsider_township, outsider_village, finance; the display name is the
    username but for the inspectors: LEADER_NAME, INSPECTOR_NAME, 第二组组长) and a pilot round over
    every unit, advanced to `phase` through the service, so the phase's sheets exist. The leader's team (leader,
    inspector) has 清溪镇 and 荷塘村; inspector2's team has 白沙街道 and 石桥社区.

    `townships` (name → village names) builds another district: the first township and its villages are the
    leader's team's and hold the township and village users (their first village), the second township and its
    first village hold the outsiders; every other unit is inspector2's team's.

    `self_assessed`: on the way past self-assessment every unit's own user scores its self sheet as the demo seed
    does (seed.fill_sheet: deterministic sample deductions and a summary) and submits it. `settings`: the round's
    rollout and dates (self_due, township_due, inspection_start, inspection_end).

    Built once per worker (Worlds): an identical call on a test's untouched empty database gets a copy of the
    database the first one built."""
    townships = townships or {TOWNSHIP: [VILLAGE], OTHER_TOWNSHIP: [OTHER_VILLAGE]}
    key = (phase, name, tuple((t, tuple(v)) for t, v in townships.items()), self_assessed,
           tuple(sorted(settings.items())))
    return worlds.built(key, lambda: _build_round(phase, name, townships, self_assessed, settings))


def _build_round(phase: str, name: str, townships: dict[str, list[str]], self_assessed: bool, settings) -> World:
    made = units(townships)
    (first, first_villages), (second, second_villages) = list(townships.items())[:2]
    admin = user("admin", "admin")
    people = {"admin": admin, "district": user("district", "district"), "finance": user("finance", "finance"),
              "leader": user("leader", "inspector", display_name=LEADER_NAME),
              "inspector": user("inspector", "inspector", display_name=INSPECTOR_NAME),
              "inspector2": user("inspector2", "inspector", display_name="第二组组长"),
              "township": user("township", "township", made[first]),
              "village": user("village", "village", made[first_villages[0]]),
              "outsider_township": user("outsider_township", "township", made[second]),
              "outsider_village": user("outsider_village", "village", made[second_villages[0]])}
    return another_round(World(None, made, people, townships), phase, name, self_assessed=self_assessed, **settings)


class Worlds:
    """The districts make_round built, kept per worker as template databases (the conftest's `databases` fixture
    sets `databases`). Building one goes through the services, a transaction per score: 0.2–2 s a test, most of
    the suite's set-up time; copying a template costs 10–40 ms. A copy is used only on a database that is still
    the untouched empty one (no unit, user or catalogue yet), so a test that writes first, or builds a second
    round, gets its own build."""

    def __init__(self):
        self.databases = None
        self.templates: dict[tuple, tuple[str, dict]] = {}
        self.building = False  # inside a build: a make_round there is part of it, not a world of its own

    def clear(self) -> None:
        self.templates.clear()

    def built(self, key: tuple, build) -> World:
        """The World `build()` makes on this test's database (`key` names it: every argument that shapes it)."""
        if self.databases is None or self.building or not _untouched():
            return build()
        url = db.engine.url.render_as_string(hide_password=False)
        if key in self.templates:
            template, ids = self.templates[key]
            _close()
            self.databases.restore(url, template)
        else:
            self.building = True
            try:
                made = build()
            finally:
                self.building = False
            ids = {"round": made.round.id, "units": {n: u.id for n, u in made.units.items()},
                   "people": {k: u.id for k, u in made.people.items()}, "townships": made.townships}
            _close()
            self.templates[key] = (self.databases.clone(url), ids)  # no connection is open on it now
        return World(db.session.get(Round, ids["round"]),
                     {n: db.session.get(OrgUnit, i) for n, i in ids["units"].items()},
                     {k: db.session.get(User, i) for k, i in ids["people"].items()},
                     {t: list(v) for t, v in ids["townships"].items()})


worlds = Worlds()


def _untouched() -> bool:
    found = db.session.execute(text("SELECT (SELECT COUNT(*) FROM org_units) + (SELECT COUNT(*) FROM users)"
                                    " + (SELECT COUNT(*) FROM catalogue_versions)")).scalar()
    db.session.rollback()
    return found == 0


def _close() -> None:
    """No connection left open on the test's database (a copy replaces it, or is taken from it)."""
    db.session.remove()
    db.engine.dispose()


def another_round(world: World, phase: str, name: str, *, self_assessed: bool = False, **settings) -> World:
    """A further round over the same district, people and team layout as `world` (see make_round), in `phase`."""
    from evalapp.services import rounds as rounds_service

    admin, people = world.people["admin"], world.people
    scope = [world.units[n] for township, villages in world.townships.items() for n in (township, *villages)]
    first_team = 1 + len(next(iter(world.townships.values())))
    made_round = round_(name, scope, admin, **settings)
    # the leader is a member of their own team (teams.create_team)
    team(made_round, "第一工作组", people["leader"], [people["inspector"]], scope[:first_team], admin)
    team(made_round, "第二工作组", people["inspector2"], [], scope[first_team:], admin)
    for _ in range(PHASES.index(phase)):
        if made_round.status == "self_assessment" and self_assessed:
            self_assess(made_round, people)
        rounds_service.advance(made_round, admin, confirm=True)
    return World(made_round, world.units, people, world.townships)


def self_assess(round_: Round, people: dict[str, User]) -> None:
    """Every self sheet of the round scored by its unit's user (the admin for a unit without one) and submitted."""
    from evalapp.services.moves import move_sheet
    from evalapp.services.seed import fill_sheet

    by_unit = {u.unit_id: u for u in people.values() if u.unit_id is not None}
    for sheet in db.session.scalars(select(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "self")
                                    .order_by(Sheet.id)).all():
        who = by_unit.get(sheet.unit_id, people["admin"])
        fill_sheet(sheet, who, f"{round_.name}/{sheet.unit.code}")
        move_sheet(sheet, "submitted", who, "测试数据：自评已提交")


def make_sheet(world: World, unit_name: str, kind: str = "inspector", inspector: str = "inspector") -> Sheet:
    """The sheet the round's phase made for a unit: an inspector's own (by username), the final or the self sheet."""
    query = select(Sheet).where(Sheet.round_id == world.round.id, Sheet.unit_id == world.units[unit_name].id,
                                Sheet.kind == kind)
    if kind == "inspector":
        query = query.where(Sheet.inspector_id == world.people[inspector].id)
    sheet = db.session.scalar(query)
    assert sheet is not None, f"no {kind} sheet for {unit_name}: is the round in the right phase?"
    return sheet


def make_score(sheet: Sheet, code: str, points: str | None = None, *, by: User, reason: str = "测试扣分") -> Score:
    """One indicator scored through the service every face uses: full marks, or `points` typed directly."""
    from evalapp.services.scores import save_score

    entry = ScoreEntry() if points is None else ScoreEntry(direct=Decimal(points), reason=reason)
    score = save_score(sheet, code, entry, by, 0)
    db.session.commit()
    return score


@pytest.fixture(name="app")
def app_on_demo(demo_app):
    """The app on the demo database, under the name the client fixtures (client, login_as) take, for the modules
    that work on the demo: `from tests.factories import app_on_demo`."""
    return demo_app


# Fixtures for test modules that work on a round of their own: `from tests.factories import app_of_world, world`.
@pytest.fixture
def world(empty_app):
    """A round of the test's own standing in inspection (make_round), on the empty database."""
    return make_round("inspection")


@pytest.fixture(name="app")
def app_of_world(empty_app, world):
    """The app on the database holding `world`, under the name the client fixtures (client, login_as) take."""
    return empty_app
