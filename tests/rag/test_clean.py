"""What the embedder reads of a document chunk."""

from __future__ import annotations

from allin.rag.clean import document_embedding_text


def test_a_chunk_is_embedded_under_its_path_and_heading_path() -> None:
    text = document_embedding_text(
        "handbook/paid-time-off.md",
        "Paid Time Off › Carry-over",
        "Up to a :ref:`bank <b>` of 27 days.",
    )
    assert text == "handbook › paid time off › Paid Time Off › Carry-over\nUp to a bank of 27 days."


def test_a_chunk_without_heading_is_embedded_under_its_path() -> None:
    assert document_embedding_text("LICENSE_notes.txt", None, "MIT") == "LICENSE notes\nMIT"
