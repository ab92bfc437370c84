"""Lists that grow with the units are cut in SQL: the inspector's worklist (pages, status filter, the leader's final
sheets), the district's review queue, and the to-dos (the first ten of each kind, and how many more)."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from evalapp.extensions import db
from evalapp.models import OrgUnit, Sheet, User
from evalapp.services.accounts import hash_password
from evalapp.services.scale import generate
from evalapp.services.moves import today_local
from tests.conftest import make_user

PASSWORD = "demo-pass-2021"


@pytest.fixture
def district(empty_app):
    """A generated district of 2 townships × (1 + 5) = 12 units: one team of two inspectors (the first leads it)
    holds them all; the round is back in inspection with the inspectors' sheets in draft."""
    round_ = generate(2, 5, seed=7)
    round_.status = "inspection"
    leader, member = db.session.scalars(select(User).where(User.role == "inspector").order_by(User.id)).all()
    for user in (leader, member):
        user.password_hash = hash_password(PASSWORD)
    db.session.execute(update(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "inspector")
                       .values(status="draft"))
    db.session.commit()
    empty_app.config["WORKLIST_PAGE_SIZE"] = 5
    return round_, leader, member


def _client(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def _ids(html: str, attr: str) -> list[int]:
    return [int(x) for x in re.findall(rf'{attr}="(\d+)"', html)]


def _in_unit_order(ids: list[int]) -> list[int]:
    """Sheet ids ordered as the worklist orders them: township code, the township first, then unit code."""
    sheets = {s.id: s for s in db.session.scalars(select(Sheet).where(Sheet.id.in_(ids)))}

    def key(sheet_id):
        unit = sheets[sheet_id].unit
        township = unit if unit.level == "township" else unit.parent
        return township.code, unit.level != "township", unit.code
    return sorted(ids, key=key)


def test_worklist_pages_through_every_sheet_in_unit_order(empty_app, district):
    round_, leader, _ = district
    own = db.session.scalars(select(Sheet.id).where(Sheet.inspector_id == leader.id)).all()
    client = _client(empty_app, leader.username)
    pages = [client.get(f"/inspection/?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    seen = [_ids(html, "data-sheet") for html in pages]
    assert [len(ids) for ids in seen] == [5, 5, 2]
    assert sum(seen, []) == _in_unit_order(own)  # every sheet once, in order across the pages
    assert "第1/3页，共12个单位" in pages[0] and 'rel="next"' in pages[0]
    assert f"round={round_.id}" in pages[0].split('data-testid="pager-page"')[1].split("</nav>")[0]
    for bad in ("page=abc", "page=-4", "page=99999999999999999999", "round=x&page=2", "round=%C2%B2"):
        response = client.get(f"/inspection/?{bad}")
        assert response.status_code == 200, bad  # a bad number gives the nearest page
        assert len(_ids(response.get_data(as_text=True), "data-sheet")) in (2, 5)


def test_worklist_filters_by_status_with_counts(empty_app, district):
    round_, leader, _ = district
    own = db.session.scalars(select(Sheet.id).where(Sheet.inspector_id == leader.id).order_by(Sheet.id)).all()
    returned = own[:3]  # (submitted: a member's sheet is never returned)
    db.session.execute(update(Sheet).where(Sheet.id.in_(returned)).values(status="submitted"))
    db.session.commit()
    client = _client(empty_app, leader.username)
    html = client.get("/inspection/").get_data(as_text=True)
    pills = html.split(f'data-testid="status-filter-{round_.id}"')[1].split("</nav>")[0]
    assert re.search(r"全部 <span[^>]*>12</span>", pills)
    assert re.search(r'data-status="submitted"[^>]*>已提交 <span[^>]*>3</span>', pills)
    assert re.search(r'data-status="draft"[^>]*>填报中 <span[^>]*>9</span>', pills)
    assert 'data-status="approved"' not in pills  # no sheet has it: no pill
    filtered = client.get(f"/inspection/?round={round_.id}&status=submitted").get_data(as_text=True)
    assert sorted(_ids(filtered, "data-sheet")) == returned
    assert 'data-testid="pager-page"' not in filtered
    for unknown in ("nonsense", "<script>"):  # an unknown status filters nothing
        html = client.get(f"/inspection/?status={unknown}").get_data(as_text=True)
        assert len(_ids(html, "data-sheet")) == 5 and html.count('aria-current="page"') == 1
        assert "status=" not in html.split('data-testid="pager-page"')[1].split("</nav>")[0]


def test_each_round_section_pages_on_its_own(empty_app, district):
    from evalapp.models import TeamMember

    round_, leader, _ = district
    second = generate(1, 5, seed=8)  # a newer round (6 units) whose team the leader joins, with its sheets
    second.status = "inspection"
    team = second.teams[0]
    db.session.add(TeamMember(round_id=second.id, team_id=team.id, user_id=leader.id))
    db.session.execute(update(Sheet).where(Sheet.round_id == second.id, Sheet.inspector_id == team.leader_id)
                       .values(inspector_id=leader.id, slot=leader.id, status="draft"))
    db.session.commit()
    html = _client(empty_app, leader.username).get(f"/inspection/?round={round_.id}&page=2&status=draft")
    html = html.get_data(as_text=True)
    newer, older = html.split(f'data-round="{second.id}"')[1].split(f'data-round="{round_.id}"')
    pager = older.split('data-testid="pager-page"')[1].split("</nav>")[0]
    assert f"round={round_.id}" in pager and "status=draft" in pager and "page=3" in pager and "page=1" in pager
    other = newer.split('data-testid="pager-page"')[1].split("</nav>")[0]  # first page, no filter
    assert f"round={second.id}" in other and "page=2" in other and "status=" not in other and "上一页" not in other
    assert len(_ids(newer.split('data-testid="pager-page"')[0], "data-sheet")) == 5


def test_leader_pages_through_the_final_sheets_and_a_member_sees_none(empty_app, district):
    round_, leader, member = district
    finals = db.session.scalars(select(Sheet.id).where(Sheet.round_id == round_.id, Sheet.kind == "final")).all()
    client = _client(empty_app, leader.username)
    first = client.get("/inspection/?page=2").get_data(as_text=True)
    pager = first.split('data-testid="pager-fpage"')[1].split("</nav>")[0]
    # the final sheets' pager keeps the worklist's page and round
    assert "page=2" in pager and f"round={round_.id}" in pager and "fpage=2" in pager
    seen = sum((_ids(client.get(f"/inspection/?fpage={n}").get_data(as_text=True), "data-final")
                for n in (1, 2, 3)), [])
    assert seen == _in_unit_order(finals)
    assert _ids(first, "data-sheet") == _ids(client.get("/inspection/?page=2&fpage=3").get_data(as_text=True),
                                             "data-sheet")
    assert "data-final=" not in _client(empty_app, member.username).get("/inspection/").get_data(as_text=True)


def _todos(html: str) -> str:
    return html.split('data-testid="todos"')[1].split("</section>")[0]


def test_todos_show_ten_of_each_kind_and_how_many_more(empty_app, district):
    round_, leader, _ = district
    finals = db.session.scalars(select(Sheet.id).where(Sheet.round_id == round_.id, Sheet.kind == "final")
                                .order_by(Sheet.id)).all()
    db.session.execute(update(Sheet).where(Sheet.id.in_(finals[:11])).values(status="returned"))
    db.session.execute(update(Sheet).where(Sheet.id == finals[11]).values(status="draft"))
    round_.inspection_end = today_local() + timedelta(days=3)
    db.session.commit()
    panel = _todos(_client(empty_app, leader.username).get("/inspection/").get_data(as_text=True))
    assert panel.count("被退回</span>") == 10
    assert 'data-testid="todos-more-returned">另有1项</li>' in panel  # the worklist's filter is right below
    # due in 3 days: the returned ones say so beside them; the deadlines list the rest (the 12 own drafts and the
    # draft final sheet), each sheet once
    items = re.findall(r'data-todo="(\d+)"', panel)
    assert len(items) == len(set(items)) == 20 and panel.count("剩3天") == 20
    assert 'data-testid="todos-more-to-fill">另有3项' in panel
    assert not set(map(int, items[:10])) - set(finals[:11])
    round_.inspection_end = today_local() + timedelta(days=8)  # outside the 7 days
    db.session.commit()
    panel = _todos(_client(empty_app, leader.username).get("/inspection/").get_data(as_text=True))
    # the own drafts stay, a week and a day out; the final sheet whose members are still scoring waits for them
    assert panel.count("剩8天") == 20 and str(finals[11]) not in re.findall(r'data-todo="(\d+)"', panel)
    assert 'data-testid="todos-more-to-fill">另有2项' in panel


def test_district_review_queue_is_paged_and_the_todos_point_to_it(empty_app, district):
    round_, _, _ = district
    round_.status = "review"
    db.session.execute(update(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "final")
                       .values(status="submitted"))
    db.session.commit()
    make_user("district9", "district")
    client = _client(empty_app, "district9")
    html = client.get("/results/").get_data(as_text=True)
    queue = html.split('data-testid="review-queue"')[1].split("</nav>")[0]
    assert len(_ids(queue, "data-sheet")) == 5 and "第1/3页，共12份" in queue
    last = client.get("/results/?qpage=3").get_data(as_text=True).split('data-testid="review-queue"')[1]
    assert len(_ids(last.split("</div>\n<nav")[0], "data-sheet")) == 2
    panel = _todos(html)
    assert panel.count("待审核</span>") == 10
    assert 'data-testid="todos-more-to-review">另有2项' in panel and "/results/#review-queue" in panel


def test_a_township_sees_only_its_own_villages_to_review(empty_app, district):
    round_, _, _ = district
    round_.status = "self_assessment"
    db.session.execute(update(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "self")
                       .values(status="submitted"))
    township = db.session.scalar(select(OrgUnit).where(OrgUnit.level == "township").order_by(OrgUnit.code))
    own = db.session.scalar(select(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "self",
                                                Sheet.unit_id == township.id))
    own.status = "draft"
    round_.township_due = today_local() + timedelta(days=2)  # the township's own deadline, not the villages'
    round_.self_due = today_local() + timedelta(days=30)
    db.session.commit()
    make_user("town9", "township", township.name)
    panel = _todos(_client(empty_app, "town9").get("/selfassess/township").get_data(as_text=True))
    # its own sheet and the villages' to review, all by the township's deadline
    assert panel.count("剩2天") == 6 and f"{township.name} · " in panel
    villages = db.session.scalars(select(OrgUnit.name).where(OrgUnit.parent_id == township.id)).all()
    assert panel.count("待审核</span>") == len(villages) == 5
    assert all(name in panel for name in villages)
    assert "todos-more" not in panel


def test_district_progress_table_is_paged_by_township(empty_app, district):
    round_, _, _ = district
    empty_app.config["RESULTS_PAGE_SIZE"] = 1
    make_user("district8", "district")
    client = _client(empty_app, "district8")
    pages = [client.get(f"/results/?pp{round_.id}={n}").get_data(as_text=True) for n in (1, 2)]
    tables = [html.split(f'data-testid="progress-{round_.id}"')[1].split("</table>")[0] for html in pages]
    shown = [re.findall(r'data-township="([^"]+)"', table) for table in tables]
    townships = db.session.scalars(select(OrgUnit.code).where(OrgUnit.level == "township")
                                   .order_by(OrgUnit.position, OrgUnit.code)).all()
    assert [len(codes) for codes in shown] == [1, 1] and sorted(shown[0] + shown[1]) == sorted(townships)
    assert "第1/2页，共2个镇(街道)" in pages[0] and f'pp{round_.id}=2' in pages[0]
