"""A file as numbered lines with their token counts, so any line range's size is a subtraction.

WordPiece splits on whitespace first, so the tokens of lines joined by newlines are the sum of
each line's tokens: one tokenizer pass per file prices every candidate chunk.
"""

from __future__ import annotations

from itertools import accumulate

from allin.rag.token_count import count_tokens


class Lines:
    """Rows are 0-based here, inclusive at both ends; chunks report them 1-based."""

    def __init__(self, text: str) -> None:
        self.rows = text.split("\n")
        if text.endswith("\n"):
            self.rows.pop()  # the empty string after the final newline is not a line
        # Indentation yields no tokens, and code repeats its lines (`return None`, `}`): each
        # distinct stripped line goes through the tokenizer once.
        stripped = [row.strip() for row in self.rows]
        distinct = list(dict.fromkeys(filter(None, stripped)))
        counts = dict(zip(distinct, count_tokens(distinct), strict=True))
        counts[""] = 0
        self._before = [0, *accumulate(counts[row] for row in stripped)]

    def __len__(self) -> int:
        return len(self.rows)

    def tokens(self, first: int, last: int) -> int:
        return self._before[last + 1] - self._before[first]

    def content(self, first: int, last: int) -> str:
        return "\n".join(self.rows[first : last + 1])

    def blank(self, row: int) -> bool:
        return not self.rows[row].strip()

    def trim(self, first: int, last: int) -> tuple[int, int] | None:
        """The range without its leading and trailing blank lines, None if nothing is left."""
        while first <= last and self.blank(first):
            first += 1
        while last >= first and self.blank(last):
            last -= 1
        return (first, last) if first <= last else None

    def windows(
        self, first: int, last: int, max_tokens: int, overlap: int
    ) -> list[tuple[int, int]]:
        """Consecutive ranges of whole lines within `max_tokens` (a longer single line stands
        alone), each repeating the previous one's last lines up to `overlap` tokens."""
        ranges: list[tuple[int, int]] = []
        start = first
        while start <= last:
            end = start
            while end < last and self.tokens(start, end + 1) <= max_tokens:
                end += 1
            trimmed = self.trim(start, end)
            if trimmed:
                ranges.append(trimmed)
            if end >= last:
                break
            following = end + 1
            while following - 1 > start and self.tokens(following - 1, end) <= overlap:
                following -= 1
            start = following
        return ranges
