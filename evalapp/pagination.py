"""Long lists shown a page at a time (a province has 31,500 units and 1,900 townships)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    items: list
    number: int  # 1-based
    pages: int
    total: int
    size: int

    @property
    def first_index(self) -> int:
        """The 1-based position of the page's first item in the whole list (0 when empty)."""
        return (self.number - 1) * self.size + 1 if self.total else 0


def page_number(requested, total: int, size: int) -> tuple[int, int]:
    """(page number, number of pages) for a requested page of `total` items (any text: a bad or out-of-range
    number gives the nearest page)."""
    pages = max(1, -(-total // size))
    try:
        number = int(str(requested or "1").strip())
    except ValueError:
        number = 1
    return min(max(number, 1), pages), pages


def paginate(items: list, requested, size: int) -> Page:
    """The requested page of `items` (any text: a bad or out-of-range number gives the nearest page)."""
    number, pages = page_number(requested, len(items), size)
    start = (number - 1) * size
    return Page(items[start:start + size], number, pages, len(items), size)
