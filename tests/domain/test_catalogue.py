"""Catalogue validation: accepted whole, or refused with every problem listed."""
import copy
from decimal import Decimal as D
from importlib import resources

import pytest
import yaml

from evalapp.domain.catalogue import CatalogueInvalid, validate_catalogue


@pytest.fixture
def default_catalogues():
    text = resources.files("evalapp.data").joinpath("indicators-2021.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["catalogues"]


def test_default_catalogues_are_valid_and_sum_to_100(default_catalogues):
    for raw in default_catalogues:
        data = validate_catalogue(raw)
        assert data.total == D("100")
        assert sum(c.points for c in data.categories) == D("100")
        assert data.bonus_cap == D("3")
    township, village = (validate_catalogue(raw) for raw in default_catalogues)
    assert (township.level, village.level) == ("township", "village")
    assert sum(len(c.indicators) for c in township.categories) == 25
    assert sum(len(c.indicators) for c in village.categories) == 20


def test_the_data_file_is_the_shared_catalogue_transcribed():
    shared = resources.files("evalapp.data").joinpath("indicators-2021.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(shared)["catalogues"][0]["code"] == "TS-2021"


def test_broken_catalogue_lists_every_problem(default_catalogues):
    raw = copy.deepcopy(default_catalogues[1])
    raw["categories"][0]["indicators"][0]["points"] = 4          # A: 21 ≠ 20
    raw["categories"][4]["points"] = 16                          # total 101 ≠ 100, and E: 15 ≠ 16
    raw["categories"][1]["indicators"][1]["code"] = "A2"          # duplicate code
    raw["categories"][2]["indicators"][0]["deductions"][0]["per"] = 0   # per must be > 0
    del raw["categories"][3]["indicators"][0]["deductions"][0]["per"]   # neither per nor void
    raw["bonus"][0]["points"] = "abc"
    with pytest.raises(CatalogueInvalid) as exc:
        validate_catalogue(raw)
    problems = exc.value.problems
    text = "\n".join(problems)
    assert "一级指标 A：二级指标分值合计21.00，与一级指标分值20.00不符" in problems
    assert "指标体系 VC-2021：一级指标分值合计101.00，与总分100.00不符" in problems
    assert "编码“A2”重复" in text
    assert "扣分项 C1-1：分值“per”须大于0" in problems
    assert "扣分项 D1-1：须设每次扣分(per)大于0，或设为 void" in problems
    assert "加分项 X1" in text
    assert "一级指标 E：二级指标分值合计15.00，与一级指标分值16.00不符" in problems
    assert len(problems) == 7


def test_a_rule_text_cut_at_an_unquoted_comma_is_refused():
    """YAML's flow mapping cuts `text: 低于90%,每低1个百分点` at the comma and makes the rest a key of its own: the
    rule's text would be stored cut short. Refused, naming the field; the default catalogue quotes such texts."""
    raw = yaml.safe_load("""
code: X, level: village, name: 测试, total: 1
categories:
  - code: A
    name: 甲
    points: 1
    indicators:
      - code: A1
        title: 一
        points: 1
        deductions:
          - {code: A1-1, text: 低于90%,每低1个百分点, per: 0.5}
""".replace("code: X, level: village, name: 测试, total: 1", "code: X\nlevel: village\nname: 测试\ntotal: 1"))
    with pytest.raises(CatalogueInvalid) as exc:
        validate_catalogue(raw)
    assert exc.value.problems == ["扣分项 A1-1：有无法识别的字段“每低1个百分点”（文字中含英文逗号时须加引号）"]


def test_the_default_catalogues_keep_whole_rule_texts(default_catalogues):
    texts = {rule["code"]: rule["text"] for raw in default_catalogues for cat in raw["categories"]
             for ind in cat["indicators"] for rule in ind.get("deductions", [])}
    assert texts["D4-1"] == "准确率低于98%,每低1个百分点"


def test_void_rule_with_a_per_is_refused(default_catalogues):
    raw = copy.deepcopy(default_catalogues[1])
    raw["categories"][1]["indicators"][0]["deductions"][0]["per"] = 1  # B1-1 is void
    with pytest.raises(CatalogueInvalid, match="B1-1"):
        validate_catalogue(raw)


def test_wrong_shapes_are_reported_not_crashed():
    with pytest.raises(CatalogueInvalid):
        validate_catalogue("not a catalogue")
    with pytest.raises(CatalogueInvalid) as exc:
        validate_catalogue({"code": "X", "level": "city", "total": 100, "categories": "nope"})
    text = "\n".join(exc.value.problems)
    assert "层级“city”无效" in text and "“categories”应为列表" in text and "缺少“name”" in text
