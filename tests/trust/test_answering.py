"""Abstain, then route: the turn pipeline with the real retriever over a real synced repository.
A question nothing answers gets an honest "not found" naming who is likely to know (offline model
and network model alike); "who knows about X?" gets the ranking with its reasons."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from allin.chat.frames import Done
from allin.chat.interaction import InteractionManager, TurnRequest
from allin.chat.runs import Runs
from allin.rag.hybrid import Scope
from allin.services import Services
from tests.chat.test_interaction import Collected, ScriptedModel
from tests.conftest import services_of_their_own
from tests.trust.shop import GRACE, at, shop


@pytest.fixture(scope="module")
async def services(
    postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    async with services_of_their_own(
        postgres, tmp_path_factory.mktemp("data"), memory=False, trust_abstain_below=0.35
    ) as started:
        repo, _ = shop(tmp_path_factory.mktemp("repo") / "shop")
        repo.write(".github/CODEOWNERS", "# owners\n/src/shop/cart.py @shop-team\n")
        repo.commit("Owners", at(GRACE, "2024-05-02"))
        repository = await started.repositories.store.create(
            name="shop", url=str(repo.path), branch="main", created_by="test"
        )
        await started.repositories.sync_now(repository.id)
        yield started


async def answer(services: Services, user: str, question: str) -> Done:
    sink = Collected()
    request = TurnRequest(user, f"{user}-chat", f"m-{hash(question)}", question)
    await services.interaction.ask(request, sink)
    (done,) = sink.of(Done)
    assert isinstance(done, Done)
    return done


async def test_a_question_nothing_answers_says_so_and_names_who_to_ask(services: Services) -> None:
    done = await answer(
        services, "u-abstain", "How do I configure Kubernetes autoscaling for our app?"
    )
    text = done.turn.content
    assert text.startswith("**I couldn't find this in the team's knowledge.**")
    assert "Who is likely to know" in text
    assert "Grace Hopper" in text and "bot" not in text
    assert "```text\nHi " in text
    assert done.turn.metadata["citations"] == []
    async with services.db.pool.connection() as conn:
        cursor = await conn.execute(
            "select kind, question, experts from unanswered_questions where user_id = %s",
            ("u-abstain",),
        )
        (row,) = await cursor.fetchall()
    assert row["kind"] == "abstained"
    assert row["question"].startswith("How do I configure Kubernetes")
    assert row["experts"]


async def test_an_answerable_question_is_answered_from_sources_with_their_warnings(
    services: Services,
) -> None:
    done = await answer(services, "u-answer", "Which setting names the session cookie?")
    text = done.turn.content
    assert "couldn't find" not in text
    citations = done.turn.metadata["citations"]
    assert citations
    pages = [c for c in citations if c["path"] == "docs/sessions.md"]
    assert pages, citations
    (warning, *_) = pages[0]["stale"]
    assert warning["code_path"] == "src/shop/sessions.py"
    assert warning["commits_since"] == 3
    assert warning["summary"].startswith(
        "may be out of date: src/shop/sessions.py changed in 3 commits since this page was last"
    )
    async with services.db.pool.connection() as conn:
        cursor = await conn.execute(
            "select 1 from unanswered_questions where user_id = %s", ("u-answer",)
        )
        assert await cursor.fetchall() == []


async def test_who_knows_ranks_recent_committers_with_reasons(services: Services) -> None:
    done = await answer(services, "u-who", "Who knows about signing the session cookie?")
    text = done.turn.content
    assert text.index("Grace Hopper") < text.index("Ada Lovelace")
    assert "2 commits to `src/shop/sessions.py`" in text
    assert "pre-commit-ci" not in text


async def test_codeowners_come_first(services: Services) -> None:
    experts = await services.experts.rank(
        await services.retriever.search(Scope("u-owners"), "shopping cart")
    )
    assert experts[0].name == "@shop-team"
    assert experts[0].basis == "codeowners"
    assert "rule `/src/shop/cart.py`" in experts[0].reasons[0]


async def test_a_network_model_is_told_explicitly_that_nothing_was_found(
    services: Services,
) -> None:
    model = ScriptedModel(["I don't know."])
    manager = InteractionManager(
        services.settings,
        services.chats,
        model,
        Runs(services.runs.log),
        services.streams,
        sources=[services.knowledge],
    )
    question = "What is the wifi password at the Berlin office?"
    await manager.ask(TurnRequest("u-model", "u-model-chat", "m1", question), Collected())
    (prompt,) = model.prompts
    system = prompt.system_text()
    assert "## Nothing found\nNOTHING WAS FOUND" in system
    assert "Do not guess" in system
    assert "Grace Hopper" in system


async def test_words_no_document_contains_are_found_in_the_users_scope(
    services: Services,
) -> None:
    unknown = await services.trust.unknown_words(
        Scope("u-words"), "How is the session cookie signed on Kubernetes?"
    )
    assert "kubernet" in unknown
    assert "session" not in unknown and "cooki" not in unknown
    # Nothing outside the user's scope counts: without shared documents every word is unknown.
    alone = await services.trust.unknown_words(
        Scope("u-words", include_shared=False), "session cookie"
    )
    assert alone == ["cooki", "session"]
