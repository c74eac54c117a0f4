"""Small files that cost a lot to read, built in memory for the fault tests: a DOCX whose
document.xml is megabytes of repeated paragraphs compressed to kilobytes, a PDF whose page tree
repeats one page thousands of times, and a PDF whose one content stream inflates to megabytes."""

from __future__ import annotations

import io
import zipfile
import zlib

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx(paragraph: str, repeats: int) -> bytes:
    """A DOCX of `repeats` copies of one short paragraph, streamed into the zip so that the
    inflated XML is never held in memory here."""
    run = f"<w:p><w:r><w:t>{paragraph}</w:t></w:r></w:p>".encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode())
            block = run * 10_000
            for _ in range(repeats // 10_000):
                part.write(block)
            part.write(run * (repeats % 10_000))
            part.write(b"</w:body></w:document>")
    return out.getvalue()


def pdf(objects: list[bytes]) -> bytes:
    """A PDF of `objects` (numbered from 1; object 1 is the catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _stream(data: bytes, *, compress: bool) -> bytes:
    body = zlib.compress(data, 9) if compress else data
    flate = b" /Filter /FlateDecode" if compress else b""
    return b"<< /Length %d%s >>\nstream\n" % (len(body), flate) + body + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def page_tree_pdf(fanout: int, levels: int) -> bytes:
    """`fanout ** levels` pages in about a kilobyte: each level of the page tree lists the one
    node below it `fanout` times, down to a single page."""
    line = b"BT /F1 12 Tf 72 712 Td (The same page again.) Tj ET"
    # 1 catalog, 2 font, 3 content, 4 page, 5.. the tree nodes (5 is the root).
    first_node = 5
    objects = [
        b"<< /Type /Catalog /Pages %d 0 R >>" % first_node,
        _FONT,
        _stream(line, compress=False),
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents 3 0 R"
        b" /Resources << /Font << /F1 2 0 R >> >> >>" % (first_node + levels - 1),
    ]
    for level in range(levels):
        below = first_node + level + 1 if level < levels - 1 else 4
        kids = b" ".join([b"%d 0 R" % below] * fanout)
        parent = b" /Parent %d 0 R" % (first_node + level - 1) if level else b""
        count = fanout ** (levels - level)
        objects.append(b"<< /Type /Pages%s /Kids [%s] /Count %d >>" % (parent, kids, count))
    return pdf(objects)


def flate_pdf(inflated_bytes: int) -> bytes:
    """One page whose content stream is `inflated_bytes` of text-showing operators, compressed."""
    line = b"BT /F1 12 Tf 72 712 Td (All work and no play makes Jack a dull boy.) Tj ET\n"
    content = line * (inflated_bytes // len(line))
    return pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(content, compress=True),
            _FONT,
        ]
    )


def pages_pdf(pages: int, text: str) -> bytes:
    """An ordinary PDF: `pages` distinct pages, each showing `text`."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", _FONT]
    kids = []
    for _ in range(pages):
        content = b"BT /F1 12 Tf 72 712 Td (%s) Tj ET" % text.encode()
        objects.append(_stream(content, compress=False))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R"
            b" /Resources << /Font << /F1 3 0 R >> >> >>" % len(objects)
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), pages)
    return pdf(objects)


def report_heavy_modules(results: object) -> None:
    """Run in a parser process: send back which heavy modules it has loaded (none, we hope)."""
    import sys
    from multiprocessing.connection import Connection

    assert isinstance(results, Connection)
    heavy = ("torch", "sentence_transformers", "transformers", "mem0", "fastapi")
    results.send(sorted(name for name in heavy if name in sys.modules))
    results.close()
