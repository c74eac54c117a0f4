"""Identifier terms make `open_session`, `OpenSession` and "open session" find each other through
Postgres's own full-text search, which alone does not."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from allin.sources.identifiers import identifier_terms, query_terms

FORMS = ["open_session", "OpenSession", "session = self.open_session(app, request)"]
QUESTIONS = ["open session", "OpenSession", "open_session"]


def test_compound_identifiers_give_their_words_and_joined_form() -> None:
    assert identifier_terms("open_session") == "open session opensession"
    assert identifier_terms("OpenSession") == "open session opensession"
    assert identifier_terms("SESSION_COOKIE_NAME") == "session cookie name sessioncookiename"
    assert identifier_terms("HTTPServer") == "http server httpserver"
    assert identifier_terms("base64Encode") == "base64 encode base64encode"


def test_dotted_names_are_split_into_their_parts() -> None:
    assert identifier_terms("flask.sessions.SecureCookieSession") == (
        "flask sessions secure cookie session securecookiesession"
    )


def test_plain_words_are_left_to_postgres_and_terms_are_deduplicated() -> None:
    assert identifier_terms("the session is open") == ""
    assert identifier_terms("open_session(); open_session(); OpenSession") == (
        "open session opensession"
    )


def test_output_is_bounded() -> None:
    text = " ".join(f"name_{i}_part" for i in range(1000))
    assert len(identifier_terms(text, max_terms=50).split()) == 50


def test_query_terms_keep_the_question_words_and_split_identifiers() -> None:
    assert query_terms("Where does OpenSession read SECRET_KEY?") == (
        "where does open session opensession read secret key secretkey"
    )
    assert query_terms("what is __init__.py for") == "what is init py for"


def lexemes(conn: psycopg.Connection[Any], text: str) -> set[str]:
    row = conn.execute("select tsvector_to_array(to_tsvector('english', %s))", (text,)).fetchone()
    assert row is not None
    return set(row[0])


def matches(conn: psycopg.Connection[Any], document: str, question: str) -> bool:
    """Every lexeme of the question found in the document: a strict AND query."""
    query = " & ".join(question.split())
    row = conn.execute(
        "select to_tsvector('english', %s) @@ to_tsquery('english', %s)", (document, query)
    ).fetchone()
    assert row is not None
    return bool(row[0])


@pytest.fixture
def conn(postgres: Any) -> Any:
    with psycopg.connect(str(postgres.get_uri())) as connection:
        yield connection


def test_postgres_alone_keeps_the_forms_apart(conn: psycopg.Connection[Any]) -> None:
    assert lexemes(conn, "OpenSession") == {"opensess"}
    assert "open" not in lexemes(conn, "self.open_session(app)")  # read as the host `self.open`
    assert not matches(conn, "OpenSession", "open session")


@pytest.mark.parametrize("document", FORMS)
@pytest.mark.parametrize("question", QUESTIONS)
def test_every_form_finds_every_other(
    conn: psycopg.Connection[Any], document: str, question: str
) -> None:
    indexed = f"{document} {identifier_terms(document)}"
    assert {"open", "session", "opensess"} <= lexemes(conn, indexed)
    assert matches(conn, indexed, query_terms(question))
