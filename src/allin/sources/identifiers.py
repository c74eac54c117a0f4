"""Extra words for the full-text index of code, so an identifier is found however it is written.

Postgres's `to_tsvector('english', ...)` already splits `open_session` at the underscore, but it
keeps `OpenSession` as the one lexeme `opensess`, and it reads dotted names (`flask.sessions`,
`self.open_session`) as host names: one opaque lexeme, losing the words inside. So for every
compound identifier we add its words (`open session`) and its joined form (`opensession`); then
`open_session`, `OpenSession`, `self.open_session` and "open session" share lexemes.

These words go beside the text, not instead of it: plain words are left to Postgres.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Identifiers, with dotted paths kept together so their parts are split apart here.
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*")
# Words inside one name: an acronym before a capitalised word (HTTP|Server), capitalised or
# lower-case runs, the rest of an acronym, digits stay with the word before them (base64, utf8).
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")
_MAX_TERMS = 400
_JOINERS = frozenset("._$")


def identifier_terms(text: str, *, max_terms: int = _MAX_TERMS) -> str:
    """The words and joined forms of the compound identifiers in `text`, lower-case, each once,
    space-separated, at most `max_terms` of them (the first ones found)."""
    return _collect(text, max_terms, simple_words=False)


def query_terms(question: str, *, max_terms: int = _MAX_TERMS) -> str:
    """The question's words, with any identifier typed in it split the same way (`OpenSession`
    also asks for `open`, `session` and `opensession`): lower-case letters and digits only, each
    once, space-separated, ready to be OR-ed into a full-text query."""
    return _collect(question, max_terms, simple_words=True)


def _collect(text: str, max_terms: int, *, simple_words: bool) -> str:
    terms: dict[str, None] = {}
    for match in _IDENTIFIER.finditer(text):
        identifier = match.group()
        if not simple_words and identifier.islower() and not _JOINERS & set(identifier):
            continue  # a plain word: Postgres indexes it as it is
        for term in _terms(identifier, simple_words):
            terms.setdefault(term)
            if len(terms) >= max_terms:
                return " ".join(terms)
    return " ".join(terms)


@lru_cache(maxsize=65536)
def _terms(identifier: str, simple_words: bool) -> tuple[str, ...]:
    """Code repeats its identifiers: each is split once."""
    terms: list[str] = []
    parts = identifier.split(".")
    for part in parts:
        words = [word.lower() for word in _WORD.findall(part)]
        if len(words) > 1:
            terms += [*words, "".join(words)]
        elif simple_words or len(parts) > 1:
            terms += words
    return tuple(terms)
