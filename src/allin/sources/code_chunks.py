"""One repository file as chunks of whole lines, each citing an exact line range.

Code in a language tree-sitter knows is cut along its syntax (see `syntax`), configuration files
at their sections (see `config_files`), Markdown, reST and plain text along their sections with
the document chunker, anything else in windows of lines.
Every chunk's `content` is the file's lines `start_line..end_line` joined by newlines, verbatim,
so what a citation shows is what the file holds at those lines.

A code chunk can hold up to a thousand tokens (a whole function, several small methods) while the
local embedder reads only its first 256: with `piece_tokens`, such a chunk also names its
`pieces`, the same file cut along the same lines at that size, so each can have a vector of its own.

Decoding is the caller's job: pass the file's bytes decoded as UTF-8 with `errors="replace"` (after
`selection.skip_reason` has left out binaries). Lines are split on "\\n" only, as git and editors
number them; a "\\r" before it stays in the content.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from allin.errors import BadRequest
from allin.rag.chunking import chunk_document
from allin.rag.markup import markdown_document, parse_rst, parse_text
from allin.rag.parsed import ParsedDocument
from allin.sources.config_files import CONFIG_LANGUAGES, config_pieces
from allin.sources.identifiers import identifier_terms
from allin.sources.languages import DOC_LANGUAGES, language_for
from allin.sources.lines import Lines
from allin.sources.syntax import Piece, parser_for, syntax_pieces

if TYPE_CHECKING:
    from tree_sitter import Tree

_SEPARATOR = " › "
_NEWLINE = re.compile("\n")


@dataclass(frozen=True, slots=True)
class ChunkPiece:
    """Lines `start_line..end_line` of a chunk (1-based, inclusive, within the chunk's), small
    enough for the embedder to read whole."""

    start_line: int
    end_line: int
    heading: str  # as a chunk's: "src/flask/sansio/app.py › App › select_jinja_autoescape"


@dataclass(frozen=True, slots=True)
class SourceChunk:
    ord: int
    content: str  # the file's lines start_line..end_line, verbatim
    heading: str  # "src/flask/sessions.py › SecureCookieSessionInterface › open_session"
    start_line: int  # 1-based, inclusive
    end_line: int  # inclusive
    symbol: str | None  # "SecureCookieSessionInterface.open_session"; None for module code, docs
    kind: str  # function, method, class, namespace, module, section (docs), text (line windows)
    tokens: int
    terms: str  # identifier_terms of the content and symbol, indexed beside the content
    # Two or more, or none: a chunk the embedder reads well enough whole has none.
    pieces: tuple[ChunkPiece, ...] = ()


def chunk_source_file(
    path: str, text: str, *, max_tokens: int, overlap_tokens: int, piece_tokens: int = 0
) -> list[SourceChunk]:
    """The chunks of one file, in file order. Code parts are cut between statements and do not
    overlap; prose and line windows overlap by up to `overlap_tokens`. With `piece_tokens`, a code
    chunk that the same cut at that size splits into two or more pieces names them."""
    if not text.strip():
        return []
    lines = Lines(text)
    language = language_for(path)
    tree = _syntax_tree(text, language)  # parsed once, cut at both sizes
    chunks = [
        _chunk(path, lines, i, piece)
        for i, piece in enumerate(_pieces(text, language, tree, lines, max_tokens, overlap_tokens))
    ]
    if piece_tokens and language not in DOC_LANGUAGES:
        small = _pieces(text, language, tree, lines, piece_tokens, 0)
        chunks = _with_pieces(path, chunks, small)
    return chunks


def _syntax_tree(text: str, language: str | None) -> Tree | None:
    """The syntax tree of code in a language tree-sitter knows; None for anything else."""
    if language is None or language in DOC_LANGUAGES or language in CONFIG_LANGUAGES:
        return None
    parser = parser_for(language)
    return parser.parse(text.encode("utf-8", errors="surrogatepass")) if parser else None


def _pieces(
    text: str,
    language: str | None,
    tree: Tree | None,
    lines: Lines,
    max_tokens: int,
    overlap_tokens: int,
) -> list[Piece]:
    pieces: list[Piece] | None = None
    if language in DOC_LANGUAGES:
        pieces = _document_pieces(text, language or "text", lines, max_tokens, overlap_tokens)
    elif language in CONFIG_LANGUAGES:
        pieces = config_pieces(language or "", lines, max_tokens, overlap_tokens)
    elif tree is not None:
        try:
            pieces = syntax_pieces(tree.root_node, lines, max_tokens)
        except RecursionError:
            pieces = None  # nesting deeper than Python's stack: line windows will do
    if pieces is None:
        pieces = [
            Piece(first, last, (), "text", None)
            for first, last in lines.windows(0, len(lines) - 1, max_tokens, overlap_tokens)
        ]
    return _absorb_small(pieces, lines, max_tokens)


def _with_pieces(path: str, chunks: list[SourceChunk], small: list[Piece]) -> list[SourceChunk]:
    """Each small piece goes to the chunk sharing most of its lines, cut to that chunk's lines."""
    held: dict[int, list[ChunkPiece]] = {}
    for piece in small:
        first, last = piece.first + 1, piece.last + 1
        overlap, place = max(
            (min(c.end_line, last) - max(c.start_line, first), i) for i, c in enumerate(chunks)
        )
        if overlap < 0:
            continue
        chunk = chunks[place]
        held.setdefault(place, []).append(
            ChunkPiece(
                max(first, chunk.start_line), min(last, chunk.end_line), _heading(path, piece)
            )
        )
    return [
        replace(chunk, pieces=tuple(held[i])) if len(held.get(i, ())) > 1 else chunk
        for i, chunk in enumerate(chunks)
    ]


def _absorb_small(pieces: list[Piece], lines: Lines, max_tokens: int) -> list[Piece]:
    """A small piece of module code (imports) or of prose before the first heading (`:orphan:`,
    a lone directive) joins the piece after it when both fit: alone it would be a chunk that
    answers nothing; at the end of the file it joins the piece before. A small section keeps its
    own heading."""
    kept: list[Piece] = []
    held: Piece | None = None
    for piece in pieces:
        if held is not None and lines.tokens(held.first, piece.last) <= max_tokens:
            piece = replace(piece, first=held.first)
        elif held is not None:
            kept.append(held)
        held = None
        absorbed = piece.kind == "module" or (piece.kind == "section" and not piece.names)
        if absorbed and lines.tokens(piece.first, piece.last) < max_tokens // 4:
            held = piece
        else:
            kept.append(piece)
    if held is not None and kept and lines.tokens(kept[-1].first, held.last) <= max_tokens:
        kept[-1] = replace(kept[-1], last=held.last)  # trailing code (`main()`) joins the last
    elif held is not None:
        kept.append(held)
    return kept


def _heading(path: str, piece: Piece) -> str:
    heading = _SEPARATOR.join((path, *piece.names))
    return heading if piece.part is None else f"{heading} (part {piece.part})"


def _chunk(path: str, lines: Lines, ord_: int, piece: Piece) -> SourceChunk:
    content = lines.content(piece.first, piece.last)
    return SourceChunk(
        ord=ord_,
        content=content,
        heading=_heading(path, piece),
        start_line=piece.first + 1,
        end_line=piece.last + 1,
        symbol=piece.symbol,
        kind=piece.kind,
        tokens=lines.tokens(piece.first, piece.last),
        terms=identifier_terms(f"{piece.symbol or ''}\n{content}"),
    )


def _document_pieces(
    text: str, language: str, lines: Lines, max_tokens: int, overlap_tokens: int
) -> list[Piece] | None:
    """Sections from the document chunker, widened to whole lines of the raw file. None when the
    text cannot be parsed as its format (line windows then)."""
    try:
        document = _parse_document(text, language)
    except (BadRequest, UnicodeEncodeError):
        return None
    # The parsers may drop a byte-order mark or turn "\r\n" into "\n": neither moves a line, so
    # offsets in their text map to rows by counting newlines there.
    newlines = [match.start() for match in _NEWLINE.finditer(document.text)]
    last_row = len(lines) - 1
    pieces: list[Piece] = []
    for chunk in chunk_document(document, max_tokens, overlap_tokens):
        first = min(bisect_left(newlines, chunk.start), last_row)
        last = min(bisect_left(newlines, chunk.end - 1), last_row)
        # Widened to whole lines, a chunk cut between sentences can outgrow the budget: then it
        # leaves out a line it only began in (its neighbour holds that line whole).
        if (
            lines.tokens(first, last) > max_tokens
            and first < last
            and _mid_line(document, chunk.start)
        ):
            first += 1
        if (
            lines.tokens(first, last) > max_tokens
            and first < last
            and _mid_line(document, chunk.end)
        ):
            last -= 1
        if pieces and pieces[-1].first <= first and last <= pieces[-1].last:
            continue  # sentences of one long line: the line is already a chunk
        names = tuple(chunk.heading.split(_SEPARATOR)) if chunk.heading else ()
        pieces.append(Piece(first, last, names, "section", None))
    return pieces


def _mid_line(document: ParsedDocument, offset: int) -> bool:
    text = document.text
    return 0 < offset < len(text) and text[offset - 1] != "\n" and text[offset] != "\n"


def _parse_document(text: str, language: str) -> ParsedDocument:
    if language == "markdown":
        return markdown_document(text)
    data = text.encode("utf-8")
    return parse_rst(data) if language == "rst" else parse_text(data)
