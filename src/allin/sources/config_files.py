"""Configuration files (TOML, INI, YAML) cut at their sections, each chunk named by its section.

A newcomer asks where the minimum Python version is declared or which extra brings .env support:
the answer is one table of `pyproject.toml` (`[project.optional-dependencies]`), which windows of
lines bury among the classifiers and tool settings around it, headed by nothing but the file's
name. Cut at its tables, each chunk is headed `pyproject.toml › project.optional-dependencies`,
and the embedder reads that heading with the few lines under it.

Sections are found by their header lines only (`[table]`, `[[array.of.tables]]`, `[section]`, a
YAML key at the start of a line): a file need not parse to be chunked, and every chunk is still
the file's own lines verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from allin.sources.lines import Lines
from allin.sources.syntax import Piece

CONFIG_LANGUAGES = frozenset({"toml", "ini", "yaml"})

# `[table]`, `[[array.of.tables]]`, `[section]`, with an optional trailing comment.
_TABLE = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:[#;].*)?$")
# A YAML mapping key at the start of a line (`jobs:`, `"on":`), not a list item or a comment.
_YAML_KEY = re.compile(r"""^(?![\s#\-]|\.\.\.|---)(["']?)([^:#"']+?)\1\s*:(?:\s|$)""")
# Consecutive sections this small share a chunk: a two-line table answers little alone.
_SMALL_FRACTION = 8


def config_pieces(
    language: str, lines: Lines, max_tokens: int, overlap_tokens: int
) -> list[Piece] | None:
    """The file's sections as pieces, in file order, or None when it has none (line windows
    then). Lines before the first section are a nameless piece; a section over `max_tokens` is
    cut into windows of lines, numbered as parts."""
    starts = list(_section_starts(language, lines))
    if not starts:
        return None
    bounds = [(0, "")] if starts[0][0] > 0 else []
    bounds += starts
    pieces: list[Piece] = []
    for (first, name), (following, _) in zip(bounds, [*bounds[1:], (len(lines), "")], strict=True):
        trimmed = lines.trim(first, following - 1)
        if trimmed is None:
            continue
        names = (name,) if name else ()
        kind = "section" if name else "module"
        windows = lines.windows(*trimmed, max_tokens, overlap_tokens)
        numbered = len(windows) > 1
        pieces += [
            Piece(start, end, names, kind, None, part=n if numbered else None)
            for n, (start, end) in enumerate(windows, 1)
        ]
    return _merge_small(pieces, lines, max_tokens // _SMALL_FRACTION)


def _section_starts(language: str, lines: Lines) -> Iterator[tuple[int, str]]:
    for row, text in enumerate(lines.rows):
        if language == "yaml":
            match = _YAML_KEY.match(text)
            if match:
                yield row, match.group(2).strip()
        elif match := _TABLE.match(text):
            yield row, match.group(1)


def _merge_small(pieces: list[Piece], lines: Lines, small: int) -> list[Piece]:
    """Runs of adjacent whole sections under `small` tokens together join into one piece, named
    by all of theirs."""
    merged: list[Piece] = []
    for piece in pieces:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.kind == piece.kind == "section"
            and previous.part is None
            and piece.part is None
            and lines.tokens(previous.first, piece.last) < small
        ):
            names = (f"{previous.names[0]}, {piece.names[0]}",)
            merged[-1] = Piece(previous.first, piece.last, names, "section", None)
        else:
            merged.append(piece)
    return merged
