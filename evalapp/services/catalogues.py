"""Storing catalogues and reading them back as the domain's specs."""
import threading
from collections import OrderedDict

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..domain.catalogue import CatalogueData
from ..domain.scoring import IndicatorSpec, RuleSpec
from ..extensions import db
from ..models import BonusItem, CatalogueVersion, Category, DeductionRule, Indicator, VetoItem


def create_version(data: CatalogueData) -> CatalogueVersion:
    """Store a validated catalogue as the next version of its code (not committed)."""
    last = db.session.scalar(select(func.max(CatalogueVersion.version)).where(CatalogueVersion.code == data.code))
    version = CatalogueVersion(code=data.code, version=(last or 0) + 1, level=data.level, name=data.name,
                               total=data.total, bonus_cap=data.bonus_cap)
    db.session.add(version)
    db.session.flush()  # the id, for the denormalised catalogue_id of indicators and rules
    cid = version.id
    for c_pos, cat in enumerate(data.categories):
        category = Category(catalogue_id=cid, code=cat.code, name=cat.name, points=cat.points, position=c_pos)
        for i_pos, ind in enumerate(cat.indicators):
            indicator = Indicator(catalogue_id=cid, code=ind.code, title=ind.title, points=ind.points,
                                  methods="、".join(ind.methods), evidence=ind.evidence, position=i_pos)
            indicator.rules = [
                DeductionRule(catalogue_id=cid, code=rule.code, text=rule.text, per=rule.per, void=rule.void,
                              position=r_pos)
                for r_pos, rule in enumerate(ind.rules)
            ]
            category.indicators.append(indicator)
        version.categories.append(category)
    version.bonus_items = [BonusItem(code=item.code, text=item.text, points=item.points, position=pos)
                           for pos, item in enumerate(data.bonus)]
    version.veto_items = [VetoItem(code=item.code, text=item.text, position=pos) for pos, item in enumerate(data.veto)]
    db.session.flush()
    return version


def load_tree(catalogue_id: int) -> CatalogueVersion:
    """A catalogue with its categories, indicators and rules, in a fixed number of queries."""
    return db.session.scalars(
        select(CatalogueVersion).where(CatalogueVersion.id == catalogue_id).options(
            selectinload(CatalogueVersion.categories).selectinload(Category.indicators)
            .selectinload(Indicator.rules),
            selectinload(CatalogueVersion.bonus_items),
            selectinload(CatalogueVersion.veto_items),
        )
    ).one()


_trees: OrderedDict[tuple, CatalogueVersion] = OrderedDict()
_trees_lock = threading.Lock()
TREE_CACHE_SIZE = 16


def cached_tree(version: CatalogueVersion) -> CatalogueVersion:
    """A catalogue tree shared by the requests of this process, for reading only (the scoring page's hot path).

    A version used by a round is frozen, and an edited draft is stored anew, so (id, created_at) names one
    content for good. The tree is loaded whole (categories, indicators, rules, bonus and veto items) and detached
    from the session that loaded it: never add it to a session or change it.
    """
    key = (db.engine.url.render_as_string(), version.id, version.created_at)
    with _trees_lock:
        tree = _trees.get(key)
        if tree is not None:
            _trees.move_to_end(key)
            return tree
    tree = load_tree(version.id)
    objects = [tree, *tree.categories, *tree.bonus_items, *tree.veto_items]
    for category in tree.categories:
        objects += category.indicators
        for indicator in category.indicators:
            objects += indicator.rules
    for obj in objects:  # detached, so no later session can expire or refresh what other requests read
        if obj in db.session:  # (expunging the version cascades to most of its tree)
            db.session.expunge(obj)
    with _trees_lock:
        _trees[key] = tree
        while len(_trees) > TREE_CACHE_SIZE:
            _trees.popitem(last=False)
    return tree


def indicator_spec(indicator: Indicator) -> IndicatorSpec:
    """The domain's view of an indicator: max points and its rules."""
    return IndicatorSpec(
        code=indicator.code,
        max_points=indicator.points,
        rules=tuple(RuleSpec(code=r.code, per=r.per, void=r.void) for r in indicator.rules),
    )


def indicators_of(catalogue: CatalogueVersion) -> list[Indicator]:
    """Indicators of a loaded catalogue in reading order."""
    return [ind for cat in catalogue.categories for ind in cat.indicators]
