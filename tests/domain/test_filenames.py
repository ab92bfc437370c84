"""File names: cleaned of what steers how text is drawn, ending with the verified type's extension, sent encodable."""
from urllib.parse import unquote

import pytest

from evalapp.domain.filenames import NAME_MAX, clean_name, content_disposition, with_extension


@pytest.mark.parametrize("name, cleaned", [
    ("材料\u202efdp.hta", "材料fdp.hta"),  # the right-to-left override that shows it as 材料ath.pdf
    ("走访\u200b台账\u2066.pdf\u2069", "走访台账.pdf"),  # zero-width space, bidi isolates
    ("a\x00b\x07c\x1b\x7f\x85d.pdf", "abcd.pdf"),  # NUL, BEL, ESC, DEL, NEL
    ("line\u2028break\u2029.pdf", "linebreak.pdf"),
    ("\ufeff总结.pdf", "总结.pdf"),  # a BOM
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\村\\台账.xlsx", "台账.xlsx"),
    ("  报告.pdf . ", "报告.pdf"),
    ("\u202e\u200b", "材料"),
    ("", "材料"),
    (None, "材料"),
    ("lone\ud800surrogate.pdf", "lonesurrogate.pdf"),
])
def test_names_lose_controls_format_characters_and_paths(name, cleaned):
    assert clean_name(name, "材料") == cleaned


@pytest.mark.parametrize("name, made", [
    ("材料.hta", "材料.pdf"),
    ("通知.html", "通知.pdf"),
    ("图.svg", "图.pdf"),
    ("材料\u202efdp.hta", "材料fdp.pdf"),
    ("总结.pdf", "总结.pdf"),
    ("总结.PDF", "总结.PDF"),
    ("总结", "总结.pdf"),
    (".hta", "hta.pdf"),  # leading dots go (no hidden file)
    ("报告.pdf.hta", "报告.pdf.pdf"),
    ("..", "材料.pdf"),
])
def test_the_name_ends_with_the_verified_extension(name, made):
    assert with_extension(name, ".pdf", "材料") == made


def test_other_spellings_of_the_extension_are_kept():
    assert with_extension("现场.JPEG", ".jpg", "photo", (".jpeg",)) == "现场.JPEG"
    assert with_extension("现场.png", ".jpg", "photo", (".jpeg",)) == "现场.jpg"


def test_a_long_name_keeps_its_extension_within_the_bound():
    made = with_extension("长" * 500 + ".hta", ".docx", "材料")
    assert made.endswith(".docx") and len(made) <= NAME_MAX


def test_content_disposition_is_ascii_and_carries_the_name_in_utf8():
    header = content_disposition("材料 “终稿”.pdf", "document-7.pdf")
    header.encode("latin-1")  # a header value must be; this one is plain ASCII
    assert header.isascii()
    assert header.startswith('attachment; filename="document-7.pdf"; filename*=UTF-8\'\'')
    assert unquote(header.split("UTF-8''", 1)[1]) == "材料 “终稿”.pdf"


def test_content_disposition_keeps_a_plain_ascii_name_and_never_a_quote():
    assert content_disposition("report.pdf", "document-7.pdf") == \
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    header = content_disposition('a"b\\c.pdf', "document-7.pdf")
    assert header.startswith('attachment; filename="document-7.pdf";') and '"b' not in header
