"""Chunks of repository files: exact line ranges whose content is the file's lines verbatim,
headed by the enclosing names, with long bodies cut between statements."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from allin.rag.token_count import count_tokens
from allin.sources.code_chunks import ChunkPiece, SourceChunk, chunk_source_file
from allin.sources.embedding import piece_embedding_texts

FIXTURES = Path(__file__).parent / "fixtures"
SESSIONS = (FIXTURES / "sessions.py").read_text()


def chunks(name: str, max_tokens: int = 256, overlap: int = 32) -> list[SourceChunk]:
    return chunk_source_file(
        f"repo/{name}", (FIXTURES / name).read_text(), max_tokens=max_tokens, overlap_tokens=overlap
    )


def by_symbol(found: list[SourceChunk], symbol: str) -> list[SourceChunk]:
    return [c for c in found if c.symbol == symbol]


@pytest.mark.parametrize("name", ["sessions.py", "widget.js", "guide.md", "settings.toml"])
@pytest.mark.parametrize("max_tokens", [48, 128, 256])
def test_every_chunk_is_the_files_lines_verbatim(name: str, max_tokens: int) -> None:
    text = (FIXTURES / name).read_text()
    lines = text.split("\n")
    found = chunk_source_file(name, text, max_tokens=max_tokens, overlap_tokens=16)
    assert found
    for chunk in found:
        assert 1 <= chunk.start_line <= chunk.end_line <= len(lines)
        assert chunk.content == "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
        assert chunk.content.strip() and chunk.content == chunk.content.strip("\n")
        assert chunk.tokens == count_tokens([chunk.content])[0]
    assert [c.ord for c in found] == list(range(len(found)))
    assert all(a.start_line <= b.start_line for a, b in itertools.pairwise(found))
    covered = {n for c in found for n in range(c.start_line, c.end_line + 1)}
    assert all(n in covered for n, line in enumerate(lines, 1) if line.strip())


def test_methods_are_headed_by_their_class_when_it_is_too_big_to_stay_whole() -> None:
    found = chunks("sessions.py", max_tokens=160)
    [open_session] = by_symbol(found, "SecureCookieSessionInterface.open_session")
    assert open_session.heading == "repo/sessions.py › SecureCookieSessionInterface › open_session"
    assert open_session.kind == "method"
    [header] = by_symbol(found, "SecureCookieSessionInterface")
    assert header.kind == "class"
    assert header.content.startswith('class SecureCookieSessionInterface:\n    """The default')
    assert "def " not in header.content, "method bodies are not repeated in the class chunk"
    module = found[0]
    assert (module.kind, module.symbol, module.heading) == ("module", None, "repo/sessions.py")
    assert "import hashlib" in module.content and "SESSION_COOKIE_NAME =" in module.content


def test_a_class_that_fits_stays_one_chunk() -> None:
    found = chunks("widget.js", max_tokens=256)
    [counter] = by_symbol(found, "Counter")
    assert counter.kind == "class"
    assert "/**\n * A counter that can be incremented and reset.\n */\nexport class Counter {" in (
        counter.content
    )
    assert counter.content.endswith("  }\n}")


def test_small_module_code_joins_the_definition_after_it() -> None:
    found = chunks("widget.js", max_tokens=256)
    assert found[0].symbol == "Counter"
    assert found[0].content.startswith("// A small counter widget")
    assert found[0].heading == "repo/widget.js › Counter"


def test_comments_and_decorators_belong_to_their_definition() -> None:
    found = chunks("sessions.py", max_tokens=160)
    [open_session] = by_symbol(found, "SecureCookieSessionInterface.open_session")
    assert open_session.content.startswith("    # Called at the start of each request")
    assert open_session.start_line == 52
    smaller = chunks("sessions.py", max_tokens=64)
    getter, setter = (c for c in smaller if c.symbol == "SessionMixin.permanent")
    assert getter.content.startswith("    @property\n    def permanent")
    assert setter.content.startswith("    @permanent.setter\n    def permanent")


def test_a_long_method_is_cut_between_statements_into_numbered_parts() -> None:
    found = chunks("sessions.py", max_tokens=64)
    parts = by_symbol(found, "SecureCookieSessionInterface.save_session")
    assert len(parts) >= 3
    assert [p.heading for p in parts] == [
        f"repo/sessions.py › SecureCookieSessionInterface › save_session (part {i})"
        for i in range(1, len(parts) + 1)
    ]
    assert parts[0].content.startswith("    def save_session(")
    assert all(p.tokens <= 64 for p in parts)
    statement_lines = {n.lineno for n in ast.walk(ast.parse(SESSIONS)) if isinstance(n, ast.stmt)}
    node_lines = {getattr(n, "lineno", 0) for n in ast.walk(ast.parse(SESSIONS))}
    for before, after in itertools.pairwise(parts):
        assert after.start_line > before.end_line, "parts do not overlap"
        first_line = after.content.split("\n")[0].strip()
        assert after.start_line in node_lines or first_line.startswith("#"), (
            "a part starts where a syntax node or its comment starts"
        )
        assert not before.content.split("\n")[-1].strip().startswith("#"), (
            "a comment stays with the statement below it"
        )
    at_statements = [p for p in parts[1:] if p.start_line in statement_lines]
    assert len(at_statements) >= len(parts) // 2
    assert parts[-1].content.endswith('response.vary.add("Cookie")')


def test_tiny_neighbouring_functions_share_a_chunk() -> None:
    found = chunks("sessions.py", max_tokens=256)
    [helpers] = [c for c in found if c.symbol and "_is_expired" in c.symbol]
    assert helpers.symbol == "_lazy_sha1, _is_expired, _cookie_name"
    assert helpers.heading == "repo/sessions.py › _lazy_sha1, _is_expired, _cookie_name"
    assert helpers.kind == "function"


def test_javascript_classes_functions_and_arrow_functions() -> None:
    found = chunks("widget.js", max_tokens=48)
    headings = {c.symbol: c.heading for c in found}
    assert headings["Counter.increment"] == "repo/widget.js › Counter › increment"
    [format_count] = by_symbol(found, "formatCount")
    assert format_count.content.startswith("// Formats a count")
    assert format_count.kind == "function"
    [mount] = by_symbol(found, "mountCounter")
    assert mount.content.startswith("export const mountCounter")


@pytest.mark.parametrize(
    ("name", "source", "symbol", "heading"),
    [
        (
            "server.go",
            "package web\n\n// Run serves until stopped.\nfunc (s *Server) Run() error {\n"
            + "\tx := 1\n" * 40
            + "\treturn nil\n}\n",
            "Server.Run",
            "server.go › Server › Run (part 1)",
        ),
        (
            "lib.rs",
            "struct S;\n\nimpl S {\n    fn small(&self) {}\n\n    fn big(&self) {\n"
            + "        let x = 1;\n" * 40
            + "    }\n}\n",
            "S.big",
            "lib.rs › S › big (part 1)",
        ),
        (
            "App.java",
            "public class App {\n    int count;\n\n    void run() {\n"
            + "        count += 1;\n" * 40
            + "    }\n}\n",
            "App.run",
            "App.java › App › run (part 1)",
        ),
        (
            "Cart.kt",
            "class Cart {\n    fun add(item: String) {\n"
            + "        items.add(item)\n" * 40
            + "    }\n}\n",
            "Cart.add",
            "Cart.kt › Cart › add (part 1)",
        ),
        (
            "cart.rb",
            "module Shop\n  class Cart\n    def add(item)\n"
            + "      @items << item\n" * 40
            + "    end\n  end\nend\n",
            "Shop.Cart.add",
            "cart.rb › Shop › Cart › add (part 1)",
        ),
        (
            "store.ts",
            "export class Store {\n  @action\n  add(item: string): void {\n"
            + "    this.items.push(item);\n" * 40
            + "  }\n}\n",
            "Store.add",
            "store.ts › Store › add (part 1)",
        ),
    ],
)
def test_other_languages(name: str, source: str, symbol: str, heading: str) -> None:
    found = chunk_source_file(name, source, max_tokens=64, overlap_tokens=0)
    assert by_symbol(found, symbol)[0].heading == heading
    lines = source.split("\n")
    for chunk in found:
        assert chunk.content == "\n".join(lines[chunk.start_line - 1 : chunk.end_line])


def test_markdown_sections_keep_their_heading_path_and_raw_lines() -> None:
    found = chunks("guide.md", max_tokens=256)
    assert [c.heading for c in found] == [
        "repo/guide.md › Sessions guide",
        "repo/guide.md › Sessions guide › Opening a session",
        "repo/guide.md › Sessions guide › Saving a session",
        "repo/guide.md › Sessions guide › Saving a session › Cookie settings",
    ]
    assert {c.kind for c in found} == {"section"}
    assert found[2].content.startswith("## Saving a session")
    assert "```python" in found[2].content


def test_a_long_markdown_line_becomes_one_chunk_not_several_copies() -> None:
    text = "# Notes\n\n" + " ".join(f"Sentence {i} about deploying." for i in range(80)) + "\n"
    found = chunk_source_file("notes.md", text, max_tokens=64, overlap_tokens=8)
    assert [(c.start_line, c.end_line) for c in found] == [(1, 2), (3, 3)]


def test_rst_sections() -> None:
    text = "Deploying\n=========\n\nUse a WSGI server.\n\nGunicorn\n--------\n\nRun it.\n"
    found = chunk_source_file("docs/deploy.rst", text, max_tokens=256, overlap_tokens=0)
    assert [(c.heading, c.start_line, c.end_line) for c in found] == [
        ("docs/deploy.rst › Deploying", 1, 4),
        ("docs/deploy.rst › Deploying › Gunicorn", 6, 9),
    ]


def test_unknown_text_files_are_overlapping_line_windows_headed_by_the_path() -> None:
    text = (FIXTURES / "settings.toml").read_text()
    found = chunk_source_file("repo/settings.conf", text, max_tokens=24, overlap_tokens=8)
    assert len(found) > 2
    assert {(c.heading, c.kind, c.symbol) for c in found} == {("repo/settings.conf", "text", None)}
    for before, after in itertools.pairwise(found):
        assert before.start_line < after.start_line <= before.end_line + 1


def test_syntax_errors_still_give_verbatim_chunks() -> None:
    broken = SESSIONS.replace("def open_session(self,", "def open_session(self,,, ((")
    lines = broken.split("\n")
    found = chunk_source_file("broken.py", broken, max_tokens=128, overlap_tokens=0)
    assert found
    for chunk in found:
        assert chunk.content == "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
    assert any("open_session" in c.content for c in found)


def test_empty_and_blank_files_have_no_chunks() -> None:
    assert chunk_source_file("a.py", "", max_tokens=256, overlap_tokens=0) == []
    assert chunk_source_file("a.md", "\n\n  \n", max_tokens=256, overlap_tokens=0) == []


def test_windows_line_endings_stay_in_the_content() -> None:
    text = SESSIONS.replace("\n", "\r\n")
    found = chunk_source_file("crlf.py", text, max_tokens=160, overlap_tokens=0)
    lines = text.split("\n")
    for chunk in found:
        assert chunk.content == "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
    [open_session] = by_symbol(found, "SecureCookieSessionInterface.open_session")
    assert open_session.start_line == 52


def test_terms_let_full_text_find_identifiers_in_any_spelling() -> None:
    found = chunks("sessions.py", max_tokens=160)
    [open_session] = by_symbol(found, "SecureCookieSessionInterface.open_session")
    terms = open_session.terms.split()
    assert {"opensession", "secure", "cookie", "interface", "signing", "serializer"} <= set(terms)


def test_a_chunk_longer_than_the_embedder_reads_names_its_pieces_within_its_lines() -> None:
    found = chunk_source_file(
        "repo/sessions.py", SESSIONS, max_tokens=1024, overlap_tokens=0, piece_tokens=128
    )
    (interface,) = [c for c in found if c.symbol == "SecureCookieSessionInterface"]
    assert interface.tokens > 128 and len(interface.pieces) >= 3
    headings = [piece.heading for piece in interface.pieces]
    assert "repo/sessions.py › SecureCookieSessionInterface › open_session (part 1)" in headings
    lines = SESSIONS.split("\n")
    previous_end = interface.start_line - 1
    for piece in interface.pieces:
        assert previous_end < piece.start_line <= piece.end_line <= interface.end_line
        previous_end = piece.end_line
        text = "\n".join(lines[piece.start_line - 1 : piece.end_line])
        assert count_tokens([text])[0] <= 128

    texts = piece_embedding_texts(
        "repo/sessions.py",
        interface.content,
        interface.start_line,
        [(p.start_line, p.end_line, p.heading) for p in interface.pieces],
    )
    # The embedder reads each piece as a chunk of its own: its heading, then its lines alone.
    assert texts[-1].startswith(headings[-1] + "\n")
    assert lines[interface.pieces[-1].end_line - 1] in texts[-1]
    assert lines[interface.start_line - 1] not in texts[-1]


def test_chunks_read_whole_and_prose_name_no_pieces() -> None:
    def pieces(name: str, text: str, piece_tokens: int) -> list[tuple[ChunkPiece, ...]]:
        found = chunk_source_file(
            name, text, max_tokens=1024, overlap_tokens=0, piece_tokens=piece_tokens
        )
        return [c.pieces for c in found]

    assert all(p == () for p in pieces("repo/sessions.py", SESSIONS, 0))
    assert all(p == () for p in pieces("repo/sessions.py", SESSIONS, 2048))
    assert all(p == () for p in pieces("guide.md", (FIXTURES / "guide.md").read_text(), 16))
