"""Ingestion and hybrid retrieval on the real test Postgres with the real local embedder."""

from __future__ import annotations

from dataclasses import replace

import pytest

from allin.errors import NotFound
from allin.rag.hybrid import Scope
from allin.rag.ingest import ChunkingPolicy, Ingestor
from allin.rag.retrieval import NOTHING_FOUND, KnowledgeSource
from allin.services import Services
from allin.storage.blobs import DOCUMENTS
from allin.storage.chat_records import Turn
from tests.support.documents import make_pdf

LEAVE = b"""# Handbook

## Paid time off

Everyone gets 25 days of paid vacation a year, plus public holidays. Unused days roll over up to
a maximum of 30 days.

## Expenses

Keep the receipt for anything over 20 euros and file it in the expenses tool within a month.
"""
DEPLOY = b"""Deploying
=========

Production deploys go out with the ``shipit`` command from the release branch::

    shipit --env production

Rollbacks
---------

To undo a bad release, run ``shipit rollback`` which redeploys the previous build.
"""


def question(user_id: str, text: str) -> Turn:
    from datetime import UTC, datetime

    return Turn(
        id=1, user_id=user_id, chat_id="c", role="user", content=text, created_at=datetime.now(UTC)
    )


async def test_ingest_then_find_the_answering_passage(services: Services, user_id: str) -> None:
    for name, data in [("handbook/leave.md", LEAVE), ("eng/deploy.rst", DEPLOY)]:
        outcome = await services.ingestor.ingest(owner_id=user_id, name=name, data=data)
        assert outcome.status == "indexed" and outcome.document is not None
        assert outcome.document.chunk_count >= 2 and outcome.document.status == "ready"

    passages = await services.retriever.search(Scope(user_id), "How many vacation days do I get?")
    assert passages[0].document_name == "handbook/leave.md"
    assert "25 days of paid vacation" in passages[0].content
    assert passages[0].heading == "Handbook › Paid time off"

    rollback = await services.retriever.search(Scope(user_id), "how do I revert a broken release")
    assert rollback[0].document_name == "eng/deploy.rst"
    assert "shipit rollback" in rollback[0].content


async def test_exact_identifiers_are_found_by_full_text(services: Services, user_id: str) -> None:
    await services.ingestor.ingest(owner_id=user_id, name="eng/deploy.rst", data=DEPLOY)
    await services.ingestor.ingest(owner_id=user_id, name="handbook/leave.md", data=LEAVE)
    passages = await services.retriever.search(Scope(user_id), "shipit --env", k=1)
    assert "shipit --env production" in passages[0].content


async def test_unchanged_files_are_skipped_and_changed_ones_replaced(
    services: Services, user_id: str
) -> None:
    first = await services.ingestor.ingest(owner_id=user_id, name="leave.md", data=LEAVE)
    again = await services.ingestor.ingest(owner_id=user_id, name="leave.md", data=LEAVE)
    assert again.status == "unchanged" and again.document == first.document
    changed = LEAVE.replace(b"25 days", b"28 days")
    updated = await services.ingestor.ingest(owner_id=user_id, name="leave.md", data=changed)
    assert updated.status == "indexed" and updated.document is not None
    assert first.document is not None and updated.document.id == first.document.id
    texts = [c["content"] for c in await services.documents.chunks_of(updated.document.id)]
    assert any("28 days" in t for t in texts) and not any("25 days" in t for t in texts)
    # The old version's raw file is gone, the new one is there.
    assert await services.blobs.get(DOCUMENTS, updated.document.storage_path) == changed
    with pytest.raises(NotFound):
        await services.blobs.get(DOCUMENTS, first.document.storage_path)


async def test_documents_are_scoped_to_their_owner(services: Services, user_id: str) -> None:
    await services.ingestor.ingest(owner_id=user_id, name="leave.md", data=LEAVE)
    other = f"{user_id}-other"
    assert await services.retriever.search(Scope(other), "vacation days") == []
    assert await services.documents.visible(Scope(other)) == []


@pytest.mark.parametrize(
    ("name", "data", "code", "reason"),
    [
        ("empty.md", b"  \n", "bad_request", "empty"),
        ("photo.png", b"\x89PNG....", "bad_request", "unsupported"),
        ("broken.pdf", b"%PDF-1.4 garbage", "bad_request", "cannot read the PDF"),
        ("scan.pdf", make_pdf([""]), "bad_request", "no text found"),
        ("huge.md", b"# big\n" + b"x" * 3000, "too_large", "limit"),
        ("../escape.md", LEAVE, "bad_request", "invalid document name"),
    ],
)
async def test_bad_files_fail_alone_with_a_clear_reason(
    services: Services, user_id: str, name: str, data: bytes, code: str, reason: str
) -> None:
    small = Ingestor(
        services.documents,
        services.blobs,
        services.embedder,
        ChunkingPolicy(max_tokens=256, overlap_tokens=32, max_bytes=2048),
    )
    outcome = await small.ingest(owner_id=user_id, name=name, data=data)
    assert outcome.status == "failed" and outcome.error_code == code
    assert outcome.error is not None and reason in outcome.error
    assert await services.documents.visible(Scope(user_id, include_shared=False)) == []
    fine = await small.ingest(owner_id=user_id, name="leave.md", data=LEAVE)
    assert fine.status == "indexed"


async def test_delete_removes_chunks_and_the_raw_file(services: Services, user_id: str) -> None:
    outcome = await services.ingestor.ingest(owner_id=user_id, name="leave.md", data=LEAVE)
    assert outcome.document is not None
    await services.ingestor.delete(outcome.document)
    assert await services.documents.chunks_of(outcome.document.id) == []
    assert await services.retriever.search(Scope(user_id), "vacation") == []
    with pytest.raises(NotFound):
        await services.blobs.get(DOCUMENTS, outcome.document.storage_path)


async def test_chunks_of_another_embedder_are_re_embedded(services: Services, user_id: str) -> None:
    outcome = await services.ingestor.ingest(owner_id=user_id, name="leave.md", data=LEAVE)
    assert outcome.document is not None
    async with services.db.pool.connection() as conn:
        await conn.execute(
            "update document_chunks set embedder = 'old:model@384' where document_id = %s",
            (outcome.document.id,),
        )
    # Vectors of another embedder are never compared with the current one's...
    found = await services.retriever.search(Scope(user_id), "vacation days")
    assert all(p.similarity == 0 for p in found)
    assert await services.ingestor.reembed_stale() >= 1
    # ...until they are re-embedded.
    found = await services.retriever.search(Scope(user_id), "vacation days")
    assert found[0].similarity > 0.3


async def test_knowledge_source_numbers_passages_and_cites_them(
    services: Services, user_id: str
) -> None:
    source = KnowledgeSource(services.retriever)
    assert await source.context_for(question(user_id, "vacation days?")) == replace(
        await source.context_for(question(f"{user_id}-nobody", "x"))
    )
    await services.ingestor.ingest(owner_id=user_id, name="leave.md", data=LEAVE)
    context = await source.context_for(question(user_id, "How many vacation days do I get?"))
    assert context.block is not None and context.block.items[0].startswith("[1] leave.md › ")
    first = context.citations[0]
    assert first.n == 1 and first.document == "leave.md"
    assert first.heading == "Handbook › Paid time off" and "25 days" in first.snippet

    unrelated = await source.context_for(question(user_id, "What is the capital of Mongolia?"))
    assert unrelated.block is not None and unrelated.block.items == ()
    assert unrelated.block.when_empty == NOTHING_FOUND and unrelated.citations == ()


async def test_a_file_stored_under_two_names_is_cited_once(
    services: Services, user_id: str
) -> None:
    await services.ingestor.ingest(owner_id=user_id, name="handbook/leave.md", data=LEAVE)
    await services.ingestor.ingest(owner_id=user_id, name="leave.md", data=LEAVE)
    passages = await services.retriever.search(Scope(user_id), "How many vacation days?", k=3)
    contents = [p.content for p in passages]
    assert len(contents) == len(set(contents)) == 2  # the file has two chunks


async def test_fusion_weights_decide_which_list_wins(services: Services, user_id: str) -> None:
    """With the full-text list alone (vector weight 0), a passage the vectors do not rank first
    but that shares the question's rare word comes first; the fusion settings reach the SQL."""
    from allin.rag.retrieval import Retriever
    from allin.storage.documents import Fusion

    for name, data in [("handbook/leave.md", LEAVE), ("eng/deploy.rst", DEPLOY)]:
        await services.ingestor.ingest(owner_id=user_id, name=name, data=data)
    policy = services.retriever._policy
    text_only = Retriever(
        services.documents,
        services.embedder,
        replace(policy, fusion=Fusion(vector_weight=0.0, text_weight=1.0, rrf_k=10)),
    )
    passages = await text_only.search(Scope(user_id), "receipt shipit")
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)
    # Each passage scores 1 / (10 + its full-text rank), and nothing for its vector rank.
    assert abs(scores[0] - 1 / 11) < 1e-9


CONTEXTS = b"""# The application context

## What it is

The application context keeps track of the application-level data during a request, a CLI
command or other activity. Rather than passing the application around, the current application
is reached through a proxy. The application context is pushed with every request context.

## Pushing it yourself

In a shell or a background job, push an application context with a `with` block around the code
that needs the application; the application context then makes the current application known.
"""
ERRORS = b"""# Messages

## Proxies used too early

A proxy used with no context pushed raises a RuntimeError whose message begins: Working outside
of application context. It then explains what to do about it.
"""


async def test_a_quoted_error_message_finds_the_text_that_holds_it(
    services: Services, user_id: str
) -> None:
    for name, data in [("guide/contexts.md", CONTEXTS), ("guide/messages.md", ERRORS)]:
        await services.ingestor.ingest(owner_id=user_id, name=name, data=data)
    unquoted = "where does working outside of application context come from?"
    quoted = "where does 'Working outside of application context' come from?"
    # Without quotes the page about application contexts wins on its many shared words; the
    # quoted phrase, word for word, is only in the message's passage.
    plain = await services.retriever.search(Scope(user_id), unquoted, k=2)
    assert plain[0].document_name == "guide/contexts.md"
    passages = await services.retriever.search(Scope(user_id), quoted, k=2)
    assert passages[0].document_name == "guide/messages.md"
