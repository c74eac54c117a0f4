"""Every supported format parses into sections whose blocks are slices of the document's text."""

from __future__ import annotations

import pytest

from allin.rag.formats import CorruptDocument, UnsupportedFormat, detect_format, parse
from allin.rag.parsed import ParsedDocument
from tests.support.documents import make_docx, make_pdf


def outline(document: ParsedDocument) -> list[tuple[tuple[str, ...], int | None, list[str]]]:
    return [
        (s.heading, s.page, [document.text[b.start : b.end] for b in s.blocks])
        for s in document.sections
    ]


def test_markdown_sections_follow_headings_and_keep_code_blocks_whole() -> None:
    source = (
        "# Guide\n\nIntro text.\n\n## Setup\n\nRun this:\n\n```sh\npip install x\n\n"
        "make run\n```\n\n### Details\nMore.\n\nSetext title\n============\n\nBody.\n"
    )
    fmt, document = parse("docs/guide.md", source.encode())
    assert fmt.name == "markdown" and document.title == "Guide"
    sections = outline(document)
    assert sections[1] == (
        ("Guide", "Setup"),
        None,
        ["## Setup", "Run this:", "```sh\npip install x\n\nmake run\n```"],
    )
    assert sections[2][0] == ("Guide", "Setup", "Details")
    assert sections[3][0] == ("Setext title",)
    blocks = [b for s in document.sections for b in s.blocks]
    code = [b for b in blocks if b.kind == "code"]
    assert len(code) == 1


def test_rst_headings_by_adornment_literal_blocks_and_api_entries() -> None:
    source = (
        "=====\nTitle\n=====\n\nIntro.\n\nSection\n-------\n\nExample::\n\n    app = Flask()\n"
        "    app.run()\n\nAfter.\n\n.. code-block:: python\n\n    print(1)\n\n"
        ".. py:data:: SECRET_KEY\n\n    A secret key.\n\nSub\n~~~\n\nDeep.\n"
    )
    _, document = parse("config.rst", source.encode())
    sections = outline(document)
    assert document.title == "Title"
    assert [s[0] for s in sections] == [
        ("Title",),
        ("Title", "Section"),
        ("Title", "Section", "SECRET_KEY"),
        ("Title", "Section", "Sub"),
    ]
    kinds = [(b.kind, document.text[b.start : b.end]) for b in document.sections[1].blocks]
    assert ("code", "    app = Flask()\n    app.run()") in kinds
    assert ("code", ".. code-block:: python\n\n    print(1)") in kinds


def test_code_is_sectioned_at_top_level_definitions() -> None:
    source = "import os\n\n\ndef first():\n    return 1\n\n\nclass Second:\n    x = 2\n"
    fmt, document = parse("tool.py", source.encode())
    assert fmt.name == "code"
    assert [s.heading for s in document.sections] == [(), ("def first()",), ("class Second",)]
    assert all(b.kind == "code" for s in document.sections for b in s.blocks)


def test_html_keeps_headings_paragraphs_lists_and_pre_but_not_scripts() -> None:
    html = (
        "<html><head><title>Runbook</title><script>alert(1)</script></head><body>"
        "<h1>On call</h1><p>Page the <b>primary</b> first.</p><ul><li>Check dashboards</li></ul>"
        "<h2>Restart</h2><pre>systemctl restart api</pre></body></html>"
    )
    _, document = parse("runbook.html", html.encode())
    assert document.title == "Runbook"
    assert "alert" not in document.text
    sections = outline(document)
    assert sections[0][2][1:] == ["Page the primary first.", "- Check dashboards"]
    assert sections[1][0] == ("On call", "Restart")
    assert "systemctl restart api" in sections[1][2][1]


def test_pdf_pages_become_sections_with_page_numbers() -> None:
    data = make_pdf(["Onboarding (week one)\nMeet your buddy.", "Deploys run at 10:00 UTC."])
    fmt, document = parse("onboarding.pdf", data)
    assert fmt.name == "pdf"
    assert [(page, texts) for _, page, texts in outline(document)] == [
        (1, ["Onboarding (week one)\nMeet your buddy."]),
        (2, ["Deploys run at 10:00 UTC."]),
    ]


def test_docx_headings_from_styles() -> None:
    data = make_docx([("Title", "Handbook"), ("Heading 1", "Leave"), ("", "25 days a year.")])
    _, document = parse("handbook.docx", data)
    assert outline(document)[-1] == (("Handbook", "Leave"), None, ["## Leave", "25 days a year."])


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("photo.png", b"\x89PNG\r\n", UnsupportedFormat),
        ("archive", b"data", UnsupportedFormat),
        ("fake.pdf", b"just text", CorruptDocument),
        ("fake.docx", b"just text", CorruptDocument),
        ("notes.txt", b"\x00\x01\x02binary", CorruptDocument),
    ],
)
def test_unreadable_files_are_refused_clearly(name: str, data: bytes, error: type) -> None:
    with pytest.raises(error) as refused:
        parse(name, data)
    assert refused.value.code == "bad_request" and refused.value.message


def test_broken_pdf_is_corrupt_not_a_crash() -> None:
    with pytest.raises(CorruptDocument, match="cannot read the PDF"):
        parse("broken.pdf", make_pdf(["text"])[:60])


def test_pdf_detected_by_content_and_unknown_names_by_suffix() -> None:
    assert detect_format("upload", make_pdf(["x"])).name == "pdf"
    assert detect_format("Makefile", b"all:\n").name == "code"
    assert detect_format("README", b"hello").name == "text"
