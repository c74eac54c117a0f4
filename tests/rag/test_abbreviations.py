"""Abbreviations the documents define expand a question that uses either form."""

from __future__ import annotations

from allin.rag.abbreviations import defined_abbreviations, expanded, short_forms
from allin.rag.hybrid import Fusion, Scope
from allin.services import Services


def test_what_counts_as_a_definition() -> None:
    found = defined_abbreviations(
        [
            "You can set money aside in a Flexible Spending Account (FSA) each year.",
            "Protect forms against Cross-Site Request Forgery (CSRF) with a token.",
            "Open pull requests (PRs) early.",
            "Everyone on Support (EOS) happens twice a year.",
            # Initials that do not spell it, and a parenthesis that is no abbreviation.
            "Cross-Site Scripting (XSS) is not spelled out here; nor is this (OK) one.",
        ]
    )
    assert found == {
        ("FSA", "flexible spending account"),
        ("CSRF", "cross site request forgery"),
        ("PR", "pull requests"),
        ("EOS", "everyone on support"),
    }


def test_a_question_names_its_short_forms() -> None:
    assert short_forms("Is my FSA money lost if I leave? What about PRs?") == ["FSA", "PR"]
    assert short_forms("how much leave do I get") == []
    assert expanded("FSA limit?", ["flexible spending account"]) == (
        "FSA limit? (flexible spending account)"
    )


async def test_either_form_finds_the_other_in_the_scope_that_defines_it(
    services: Services, user_id: str
) -> None:
    await services.ingestor.ingest(
        owner_id=user_id,
        name="handbook/benefits.md",
        data=b"# Benefits\n\nA Flexible Spending Account (FSA) lets you set pre-tax money aside.\n",
    )
    await services.ingestor.ingest(
        owner_id=user_id,
        name="handbook/limits.md",
        data=b"# Limits\n\nThe FSA limit is 3,200 dollars a year; unused money is lost.\n",
    )
    scope = Scope(user_id)
    assert await services.documents.expansions(scope, "What's the FSA cap?") == [
        "flexible spending account"
    ]
    assert await services.documents.expansions(
        scope, "How much can my flexible spending account hold?"
    ) == ["FSA"]
    # Someone else's documents define nothing for you.
    assert await services.documents.expansions(Scope("someone-else"), "FSA cap?") == []

    # The full-text side finds the page that only says "FSA" once the question is expanded.
    question = "What is the cap on my flexible spending account?"
    expansions = await services.documents.expansions(scope, question)
    assert await _full_text_finds_limits(services, scope, expanded(question, expansions))
    assert not await _full_text_finds_limits(services, scope, question)

    # Stored again without the definition, the document defines nothing any more.
    await services.ingestor.ingest(
        owner_id=user_id, name="handbook/benefits.md", data=b"# Benefits\n\nNothing here.\n"
    )
    assert await services.documents.expansions(scope, "What's the FSA cap?") == []


async def _full_text_finds_limits(services: Services, scope: Scope, question: str) -> bool:
    vector = await services.embedder.embed_query(question)
    found = await services.documents.search(
        scope,
        question,
        vector,
        embedder=services.embedder.name,
        dimension=services.embedder.dimension,
        k=10,
        candidates=10,
        ef_search=40,
        fusion=Fusion(vector_weight=0.0, text_weight=1.0),
    )
    return any(p.document_name == "handbook/limits.md" and p.score > 0 for p in found)
