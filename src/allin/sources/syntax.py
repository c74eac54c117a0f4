"""Code cut along its syntax tree into pieces of whole lines: one per top-level function or class,
one per method when its class is too big to stay whole, module-level code between definitions
grouped, and bodies still too long cut between statements.

Node types come from one table shared by every grammar: tree-sitter grammars name the same ideas
alike (`function_definition`, `class_declaration`), and no two of them give one name two meanings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache

from tree_sitter import Node, Parser

from allin.sources.lines import Lines

_FUNCTIONS = frozenset(
    {
        "function_definition",  # Python, C, C++, PHP, Bash
        "function_declaration",  # JavaScript, TypeScript, Go, Kotlin, Swift, Lua
        "generator_function_declaration",
        "method_definition",  # JavaScript, TypeScript
        "method_declaration",  # Go, Java, C#, PHP
        "constructor_declaration",
        "function_item",  # Rust
        "function_signature_item",
        "macro_definition",
        "method",  # Ruby
        "singleton_method",
    }
)
_CLASSES = frozenset(
    {
        "class_definition",
        "class_declaration",
        "abstract_class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "struct_declaration",
        "trait_declaration",
        "object_declaration",
        "class_specifier",
        "struct_specifier",
        "impl_item",
        "trait_item",
        "struct_item",
        "enum_item",
        "class",
        "type_declaration",
    }
)
_NAMESPACES = frozenset(
    {"namespace_definition", "namespace_declaration", "internal_module", "mod_item", "module"}
)
_DEFINITIONS = _FUNCTIONS | _CLASSES | _NAMESPACES
# Nodes that only wrap a definition (decorators, `export`, `template<...>`): the piece spans the
# wrapper, the name and kind come from the definition inside.
_WRAPPERS = frozenset({"decorated_definition", "export_statement", "template_declaration"})
# What directly precedes a definition and belongs to it.
_PREFIXES = frozenset({"comment", "line_comment", "block_comment", "decorator", "attribute_item"})
# `const mount = (el) => {...}`: a function under a variable's name.
_VARIABLES = frozenset({"lexical_declaration", "variable_declaration"})
_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_NAME_NODES = frozenset(
    {
        "identifier",
        "field_identifier",
        "qualified_identifier",
        "destructor_name",
        "operator_name",
        "type_identifier",
        "simple_identifier",
    }
)
# Bodies in grammars that do not mark them with a `body` field (Kotlin).
_BODIES = frozenset({"class_body", "function_body", "enum_class_body"})
# A body's single child that only holds its statements (Go's block, Ruby's class body).
_BODY_LISTS = frozenset({"statement_list", "body_statement", "statements"})
_WORD = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True, slots=True)
class Piece:
    """Rows `first..last` (0-based, inclusive) of one definition, part of one, or module code."""

    first: int
    last: int
    names: tuple[str, ...]  # enclosing names, then the definition's own
    kind: str
    symbol: str | None
    part: int | None = None  # 1, 2, ... when one definition was cut into several pieces


@cache
def parser_for(language: str) -> Parser | None:
    from tree_sitter_language_pack import get_parser

    try:
        return get_parser(language)  # type: ignore[arg-type]
    except LookupError:
        return None


def syntax_pieces(root: Node, lines: Lines, max_tokens: int) -> list[Piece]:
    chunker = _Chunker(lines, max_tokens)
    pieces = chunker.members(root.named_children, (), "module", None, 0, len(lines) - 1)
    return chunker.merge_small(_without_overlaps(pieces, lines))


def _last_row(node: Node) -> int:
    """A node ending at column 0 ends with the newline of the line before."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point[0] else row


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def _definition(node: Node) -> Node | None:
    """The function, class or namespace this node is or wraps, if any."""
    if node.type in _WRAPPERS:
        inner = node.child_by_field_name("definition") or node.child_by_field_name("declaration")
        if inner is None:
            inner = next((c for c in reversed(node.named_children) if _definition(c)), None)
        return _definition(inner) if inner is not None else None
    if node.type in _DEFINITIONS:
        return node if _name(node) else None
    if node.type in _VARIABLES:
        declarators = [c for c in node.named_children if c.type == "variable_declarator"]
        value = declarators[0].child_by_field_name("value") if len(declarators) == 1 else None
        return node if value is not None and value.type in _FUNCTION_VALUES else None
    return None


def _name(node: Node) -> str:
    if node.type in _VARIABLES:
        return _field_text(next(c for c in node.named_children if c.type == "variable_declarator"))
    if node.type == "type_declaration":  # Go: `type Server struct {...}`
        return _field_text(next((c for c in node.named_children if c.type == "type_spec"), None))
    if node.type == "impl_item":  # Rust: `impl Display for Server` is about Server
        return _field_text(node, "type")
    if name := _field_text(node):
        return name
    declarator = node.child_by_field_name("declarator")  # C, C++: through pointers and params
    while declarator is not None and declarator.type not in _NAME_NODES:
        declarator = declarator.child_by_field_name("declarator")
    if declarator is not None:
        return _text(declarator)
    # Grammars without a `name` field (Kotlin) put the name first among the node's children.
    named = next((c for c in node.named_children if c.type in _NAME_NODES), None)
    return _text(named) if named is not None else ""


def _field_text(node: Node | None, field: str = "name") -> str:
    child = node.child_by_field_name(field) if node is not None else None
    return _text(child) if child is not None else ""


def _receiver(node: Node) -> str | None:
    """The type a Go method is declared on: `(s *Server)` gives `Server`."""
    receiver = node.child_by_field_name("receiver") if node.type == "method_declaration" else None
    words = _WORD.findall(_text(receiver)) if receiver is not None else []
    return words[1] if len(words) > 1 else (words[0] if words else None)


def _body(node: Node) -> list[Node]:
    """The statements or members inside a definition's body, else the node's own children (an
    `if` statement's condition, branches and `else`)."""
    body = node.child_by_field_name("body") or next(
        (c for c in node.named_children if c.type in _BODIES), None
    )
    if body is None:
        return node.named_children
    while body.named_child_count == 1 and body.named_children[0].type in _BODY_LISTS:
        body = body.named_children[0]
    return body.named_children


class _Chunker:
    def __init__(self, lines: Lines, max_tokens: int) -> None:
        self.lines = lines
        self.max_tokens = max_tokens
        self.small = max_tokens // 4

    def members(
        self,
        nodes: list[Node],
        scope: tuple[str, ...],
        kind: str,
        symbol: str | None,
        first: int,
        last: int,
    ) -> list[Piece]:
        """Pieces for the nodes of one body, covering rows `first..last`: the container's header
        starts the first piece, its closing line ends the last."""
        in_class = kind == "class"
        pieces: list[Piece] = []
        loose: list[Node] = []  # consecutive nodes that are not definitions
        pending: list[Node] = []  # comments and decorators, waiting to see what follows them

        def start(row: int) -> int:
            return min(row, first) if not pieces else row

        def flush() -> None:
            if loose:
                begin, end = start(loose[0].start_point[0]), _last_row(loose[-1])
                pieces.extend(self.cut(begin, end, loose, scope, kind, symbol, numbered=False))
                loose.clear()

        for node in nodes:
            if node.type in _PREFIXES:
                pending.append(node)
                continue
            definition = _definition(node)
            if definition is None:
                loose.extend((*pending, node))
                pending.clear()
                continue
            # Only the comments right above the definition, with no blank line between, are its.
            attached = len(pending)
            row = node.start_point[0]
            while attached > 0 and _last_row(pending[attached - 1]) >= row - 1:
                attached -= 1
                row = pending[attached].start_point[0]
            loose.extend(pending[:attached])
            pending.clear()
            flush()
            pieces.extend(self.definition(definition, start(row), _last_row(node), scope, in_class))
        loose.extend(pending)
        flush()
        if not pieces:
            trimmed = self.lines.trim(first, last)
            return [Piece(*trimmed, scope, kind, symbol)] if trimmed else []
        footer = self.lines.trim(pieces[-1].last + 1, last)
        if footer is not None:
            pieces[-1] = replace(pieces[-1], last=footer[1])
        return pieces

    def definition(
        self, node: Node, first: int, last: int, scope: tuple[str, ...], in_class: bool
    ) -> list[Piece]:
        receiver = _receiver(node)
        names = (*scope, *([receiver] if receiver else []), _name(node))
        symbol = ".".join(names)
        if node.type in _FUNCTIONS or node.type in _VARIABLES:
            kind = "method" if in_class or receiver else "function"
        else:
            kind = "namespace" if node.type in _NAMESPACES else "class"
        if self.lines.tokens(first, last) <= self.max_tokens:
            return [Piece(first, last, names, kind, symbol)]
        members = _body(node)
        if kind in ("class", "namespace") and any(_definition(m) for m in members):
            return self.members(members, names, kind, symbol, first, last)
        return self.cut(first, last, members, names, kind, symbol, numbered=True)

    def cut(
        self,
        first: int,
        last: int,
        nodes: list[Node],
        names: tuple[str, ...],
        kind: str,
        symbol: str | None,
        *,
        numbered: bool,
    ) -> list[Piece]:
        ranges = self._ranges(first, last, nodes)
        numbered = numbered and len(ranges) > 1
        return [
            Piece(a, b, names, kind, symbol, part=i if numbered else None)
            for i, (a, b) in enumerate(ranges, 1)
        ]

    def _ranges(self, first: int, last: int, nodes: list[Node]) -> list[tuple[int, int]]:
        """Rows `first..last` in ranges within the budget, cut only where one of `nodes` (or,
        inside one too long, one of its own statements) starts a line."""
        if self.lines.tokens(first, last) <= self.max_tokens:
            trimmed = self.lines.trim(first, last)
            return [trimmed] if trimmed else []
        starts: dict[int, Node] = {}
        run_start = first  # where the comments above the current statement begin
        for previous, node in zip([None, *nodes], nodes, strict=False):
            # A comment right above a statement stays with it: no cut between them, and a unit
            # too long is cut further through the statement, not the comment.
            if (
                previous is None
                or previous.type not in _PREFIXES
                or (_last_row(previous) < node.start_point[0] - 1)
            ):
                run_start = node.start_point[0]
                starts.setdefault(run_start, node)
            elif node.type not in _PREFIXES:
                starts[run_start] = node
        bounds = sorted(row for row in starts if first < row <= last)
        if not bounds:
            return self.lines.windows(first, last, self.max_tokens, 0)
        units: list[tuple[int, int]] = []
        for a, b in zip([first, *bounds], [row - 1 for row in bounds] + [last], strict=True):
            statement = starts.get(a)
            if self.lines.tokens(a, b) <= self.max_tokens:
                units.append((a, b))
            elif statement is not None:
                units += self._ranges(a, b, _body(statement))
            else:
                units += self.lines.windows(a, b, self.max_tokens, 0)
        return self._pack(units)

    def _pack(self, units: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Consecutive units joined up to the budget. A small head (a signature, a class line)
        that cannot take the whole next unit takes its first lines instead of standing alone, and
        a small tail (a closing brace) takes units back from the range before it."""
        tokens = self.lines.tokens
        groups: list[list[tuple[int, int]]] = []
        queue = list(reversed(units))
        while queue:
            a, b = queue.pop()
            if groups:
                head = groups[-1][0][0]
                if tokens(head, b) <= self.max_tokens:
                    groups[-1].append((a, b))
                    continue
                end = a
                if tokens(head, groups[-1][-1][1]) < self.small:
                    while end < b and tokens(head, end) <= self.max_tokens:
                        end += 1
                if end > a:  # lines a..end-1 fit after the head
                    groups[-1].append((a, end - 1))
                    queue.append((end, b))
                    continue
            groups.append([(a, b)])
        while len(groups) > 1 and len(groups[-2]) > 1:
            tail_first, tail_last = groups[-1][0][0], groups[-1][-1][1]
            moved = groups[-2][-1]
            if tokens(tail_first, tail_last) >= self.small or (
                tokens(moved[0], tail_last) > self.max_tokens
            ):
                break
            groups[-1].insert(0, groups[-2].pop())
        ranges = (self.lines.trim(group[0][0], group[-1][1]) for group in groups)
        return [r for r in ranges if r]

    def merge_small(self, pieces: list[Piece]) -> list[Piece]:
        """Adjacent small definitions of one kind in one scope share a piece, up to the budget:
        several three-line helpers read better together than as many tiny chunks."""
        merged: list[Piece] = []
        run: list[Piece] = []
        for piece in [*pieces, None]:
            if run and (
                piece is None
                or not self._small(piece)
                or (piece.kind, piece.names[:-1]) != (run[0].kind, run[0].names[:-1])
                or self.lines.tokens(run[0].first, piece.last) > self.max_tokens
            ):
                merged.append(_joined(run))
                run = []
            if piece is not None and self._small(piece):
                run.append(piece)
            elif piece is not None:
                merged.append(piece)
        return merged

    def _small(self, piece: Piece) -> bool:
        return (
            piece.part is None
            and piece.kind in ("function", "method")
            and self.lines.tokens(piece.first, piece.last) < self.small
        )


def _joined(run: list[Piece]) -> Piece:
    if len(run) == 1:
        return run[0]
    names = (*run[0].names[:-1], ", ".join(p.names[-1] for p in run))
    symbol = ", ".join(p.symbol or "" for p in run)
    return Piece(run[0].first, run[-1].last, names, run[0].kind, symbol)


def _without_overlaps(pieces: list[Piece], lines: Lines) -> list[Piece]:
    """Two nodes can share a line (`} function next() {`): the later piece starts after it."""
    kept: list[Piece] = []
    for piece in pieces:
        if kept and piece.first <= kept[-1].last:
            trimmed = lines.trim(kept[-1].last + 1, piece.last)
            if trimmed is None:
                continue
            piece = replace(piece, first=trimmed[0], last=trimmed[1])
        kept.append(piece)
    return kept
