"""文号 as an office writes them (issue 30, point 2): 云溪民发〔2026〕3号, and a round's 年度 where none was set."""
from datetime import date

from evalapp.domain.doc_numbers import DocNumber, format_number, parse_number, year_of_round


def test_a_number_is_written_with_the_year_in_hexagonal_brackets_and_no_leading_zeros():
    assert format_number("云溪民发", 2026, 3) == "云溪民发〔2026〕3号"
    assert str(DocNumber("云溪民发", "通报", 2026, 12)) == "云溪民发〔2026〕12号"


def test_a_typed_number_is_read_with_the_brackets_a_clerk_meant_and_nonsense_is_refused():
    assert parse_number("云溪民发〔2026〕3号") == ("云溪民发", 2026, 3)
    assert parse_number(" 云溪民发[2026]7号 ") == ("云溪民发", 2026, 7)
    assert parse_number("云溪民发（2026）7号") == ("云溪民发", 2026, 7)
    for bad in ("", "云溪民发〔2026〕03号", "云溪民发〔26〕3号", "〔2026〕3号", "云溪民发〔2026〕号", "云溪民发〔1899〕3号",
                "云溪 民发〔2026〕3号"):
        assert parse_number(bad) is None, bad


def test_a_rounds_year_is_its_names_leading_year_else_the_year_it_was_created():
    assert year_of_round("2021年度试点评估验收", date(2022, 1, 5)) == 2021
    assert year_of_round("试点评估验收（补评）", date(2022, 1, 5)) == 2022
    assert year_of_round("20215批次", date(2023, 3, 1)) == 2023  # five digits are not a year
