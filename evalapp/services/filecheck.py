"""What an uploaded document really is: judged by its bytes, then opened as that type (issue 28, point 3).

The first bytes only say what a file claims to be; a file that begins `%PDF-` and holds a page of script is no PDF.
So a PDF must parse as one (pypdf) with at least one page, an Office file must open as a zip holding the parts of
a Word or Excel document and nothing that runs or fetches on opening, an image must decode (Pillow). The type found
here gives the stored and downloaded name its extension (services.documents).
"""
import io
import warnings
import zipfile
import xml.etree.ElementTree as ET

from PIL import Image, UnidentifiedImageError

from .errors import Invalid, Text, _l
from .evidence import MAX_PIXELS

# A zip-based Office file may not expand (by what its entries declare, each checked against its CRC) past this, nor
# hold more parts: a 20 MB upload that inflates to gigabytes would stall whoever opens it, the reviewer's Word first.
MAX_EXPANDED_BYTES = 200 * 1024 * 1024
MAX_PARTS = 10_000
MAX_XML_PART = 2 * 1024 * 1024  # [Content_Types].xml and the .rels parts read here are a few KB

CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
}
MACRO_MARKS = ("vbaproject", "vbadata")  # the parts that carry VBA, wherever a tool put them
# The only relationship that may point outside the file: a link the reader clicks. Anything else external (an
# attached template, a frame, a linked picture or OLE object, a sub-document) is fetched by Word or Excel on opening.
HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
ATTACHED_TEMPLATE = "/attachedTemplate"

TYPE_MESSAGE = _l("只接受PDF、Word(.docx)、Excel(.xlsx)、JPEG或PNG文件（按文件内容识别，改扩展名无效）")


def _refuse(code: str, message: Text):
    raise Invalid(code, message, {"document": message})


def verify(data: bytes) -> str:
    """The document's type ("pdf", "docx", "xlsx", "jpeg", "png") once its bytes open as that type; Invalid (field
    `document`) otherwise, and for Office files with macros, external templates or content, or that expand too far."""
    if data.startswith(b"%PDF-"):
        return _pdf(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _image(data, "JPEG", "jpeg")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _image(data, "PNG", "png")
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    _refuse("document.type", TYPE_MESSAGE)


def _pdf(data: bytes) -> str:
    from pypdf import PasswordType, PdfReader

    unreadable = _l("PDF文件已损坏或不是真正的PDF，无法打开")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pypdf warns about what it repairs; the question here is only whether it opens
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                _decrypt(reader, PasswordType)
            pages = len(reader.pages)
        except Invalid:
            raise
        except Exception:  # noqa: BLE001 (a hostile file can make a parser raise anything: it is then no PDF)
            _refuse("document.corrupt", unreadable)
    if pages < 1:
        _refuse("document.corrupt", unreadable)
    return "pdf"


def _decrypt(reader, password_type) -> None:
    """Open an encrypted PDF with the empty password (one restricted only by an owner's password opens so); one
    that asks for a password to open, or whose cipher (AES) this installation cannot read, cannot be checked."""
    from pypdf.errors import DependencyError

    try:
        opened = reader.decrypt("") != password_type.NOT_DECRYPTED
    except (DependencyError, NotImplementedError):
        opened = False
    if not opened:
        _refuse("document.encrypted", _l("PDF文件已加密（设有密码或权限限制），无法检查，请另存为未加密的PDF后再上传"))


def _image(data: bytes, expected: str, kind: str) -> str:
    unreadable = _l("图片文件已损坏或格式与内容不符，无法打开")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format != expected:
                    _refuse("document.type", TYPE_MESSAGE)
                if probe.width * probe.height > MAX_PIXELS:
                    _refuse("document.too_many_pixels", _l("图片像素过大，请降低分辨率后再上传"))
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            _refuse("document.too_many_pixels", _l("图片像素过大，请降低分辨率后再上传"))
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            _refuse("document.corrupt", unreadable)
    return kind


def _office(data: bytes) -> str:
    corrupt = _l("文件已损坏，无法识别")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        _refuse("document.corrupt", corrupt)
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_PARTS or sum(info.file_size for info in infos) > MAX_EXPANDED_BYTES:
            _refuse("document.expands_too_far",
                    _l("文件解压后过大（超过%(size)sMB），请精简内容后再上传", size=MAX_EXPANDED_BYTES // (1024 * 1024)))
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names:
            _refuse("document.type", TYPE_MESSAGE)
        if any(mark in name.lower() for name in names for mark in MACRO_MARKS):
            _refuse("document.macros", _l("不接受含宏的Office文件，请另存为不含宏的 .docx 或 .xlsx"))
        try:
            kind = _main_part(archive, names)
            _no_external_targets(archive, names)
            broken = archive.testzip()  # every part inflated (to its declared size at most) and checked by its CRC
        except Invalid:
            raise
        except Exception:  # noqa: BLE001 (zlib, unsupported compression, encrypted parts, bad XML: not a document)
            _refuse("document.corrupt", corrupt)
        if broken is not None:
            _refuse("document.corrupt", corrupt)
    return kind


def _xml(archive: zipfile.ZipFile, name: str) -> ET.Element:
    with archive.open(name) as part:
        raw = part.read(MAX_XML_PART + 1)
    if len(raw) > MAX_XML_PART:
        raise ValueError(f"{name} is too large")
    return ET.fromstring(raw)  # expat resolves no external entity and refuses entity expansion bombs


def _main_part(archive: zipfile.ZipFile, names: set[str]) -> str:
    """docx or xlsx from the package's own declaration: the content type of its main part, which must be there."""
    kinds = []
    for override in _xml(archive, "[Content_Types].xml").iter(f"{CT}Override"):
        content_type = (override.get("ContentType") or "").lower()
        if "macroenabled" in content_type:
            _refuse("document.macros", _l("不接受含宏的Office文件，请另存为不含宏的 .docx 或 .xlsx"))
        if content_type in MAIN_PARTS and (override.get("PartName") or "").lstrip("/") in names:
            kinds.append(MAIN_PARTS[content_type])
    if len(kinds) != 1:
        _refuse("document.type", TYPE_MESSAGE)
    return kinds[0]


def _no_external_targets(archive: zipfile.ZipFile, names: set[str]) -> None:
    """Refuse a relationship that points outside the file unless it is a hyperlink: Word fetches an external
    attached template (word/_rels/settings.xml.rels) on opening, which is how template injection loads macros into
    a file that holds none."""
    for name in sorted(n for n in names if n.lower().endswith(".rels")):
        for rel in _xml(archive, name).iter(f"{REL}Relationship"):
            if (rel.get("TargetMode") or "").lower() != "external" or rel.get("Type") == HYPERLINK:
                continue
            if (rel.get("Type") or "").endswith(ATTACHED_TEMPLATE):
                _refuse("document.external_template",
                        _l("不接受引用外部模板的Word文件，请去掉模板引用（另存为普通的 .docx）后再上传"))
            _refuse("document.external_content",
                    _l("不接受引用外部内容（链接的图片、对象或框架）的Office文件，请嵌入内容后再上传"))
