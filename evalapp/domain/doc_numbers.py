"""文号 (document numbers) as an office writes them: 发文机关代字〔年份〕序号号, e.g. 云溪民发〔2026〕3号 (GB/T 9704:
the year in 六角括号 〔〕, the number without leading zeros or 第). Pure: the sequence itself is services.doc_numbers."""
import re
from dataclasses import dataclass
from datetime import date

YEAR_MIN, YEAR_MAX = 2000, 2099
OFFICE_MAX = 20  # characters of an office's 代字
KIND_MAX = 40
TEXT_MAX = 60  # a number as typed or formatted


@dataclass(frozen=True)
class DocNumber:
    """One number taken from an office's sequence of a kind of document in a year."""

    office: str
    kind: str
    year: int
    seq: int

    @property
    def text(self) -> str:
        return format_number(self.office, self.year, self.seq)

    def __str__(self) -> str:
        return self.text


def format_number(office: str, year: int, seq: int) -> str:
    """云溪民发〔2026〕3号."""
    return f"{office}〔{year}〕{seq}号"


_NUMBER = re.compile(r"^(?P<office>[^\s〔〕\[\]]{1,%d})〔(?P<year>\d{4})〕(?P<seq>[1-9]\d{0,5})号$" % OFFICE_MAX)


def parse_number(text: str) -> tuple[str, int, int] | None:
    """(office, year, seq) of a number written as the office writes it, else None. Half-width brackets [2026] and
    (2026) are read as the 六角括号 a clerk meant."""
    t = (text or "").strip().replace("[", "〔").replace("]", "〕").replace("［", "〔").replace("］", "〕")
    t = re.sub(r"[（(](\d{4})[）)]", r"〔\1〕", t)
    m = _NUMBER.match(t)
    if not m or not (YEAR_MIN <= int(m["year"]) <= YEAR_MAX):
        return None
    return m["office"], int(m["year"]), int(m["seq"])


_LEADING_YEAR = re.compile(r"^\s*(\d{4})(?!\d)")


def year_of_round(name: str, created: date | None) -> int:
    """A round's 年度 where none was set: the name's leading four-digit year (2021年度试点评估验收 → 2021), else the
    year it was created in."""
    m = _LEADING_YEAR.match(name or "")
    if m and YEAR_MIN <= int(m[1]) <= YEAR_MAX:
        return int(m[1])
    return (created or date.today()).year


def valid_year(year: int) -> bool:
    return YEAR_MIN <= year <= YEAR_MAX
