"""Small factories: a district, its units, users and a round built through the services, for tests that should
not depend on which rows the demo happens to hold. Call them inside an app context (the `empty_app` fixture)."""
from datetime import date

from evalapp.extensions import db
from evalapp.models import OrgUnit, Round, User
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
    row = User(username=username, display_name=display_name or username, role=role, unit=unit,
               password_hash=hash_password(PASSWORD))
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
