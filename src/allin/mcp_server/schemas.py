"""What the tools return: typed, so an agent gets an output schema along with each result."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from allin.mcp_server.uris import citation_uri
from allin.memory.memory_records import Memory
from allin.onboarding.path_records import NextStep


class Citation(BaseModel):
    """Where a passage comes from, as `Passage.citation` describes it, plus the URI that
    `read_source` opens."""

    n: int = Field(description="The passage's number, as [n] in an answer.")
    location: str = Field(
        description="'document › heading' or 'repository › path:L10–L42 @ commit'."
    )
    uri: str = Field(description="Pass to read_source for the full passage or file lines.")
    document_id: str
    document: str
    title: str | None = None
    heading: str | None = None
    page: int | None = None
    chunk_id: int
    snippet: str
    repository_id: str | None = None
    repository: str | None = None
    path: str | None = None
    commit: str | None = None
    start_line: int | None = None
    end_line: int | None = None

    @classmethod
    def of(cls, citation: dict[str, Any]) -> Citation:
        return cls(**citation, uri=citation_uri(citation))


class FoundPassage(BaseModel):
    citation: Citation
    content: str = Field(description="The passage's text.")
    score: float = Field(description="Rank fusion score: higher is better.")


class SearchResult(BaseModel):
    query: str
    passages: list[FoundPassage] = Field(description="Best first; empty when nothing matches.")


class Answer(BaseModel):
    answer: str = Field(description="Allin's answer; [n] refers to citations[n-1].")
    citations: list[Citation]
    chat_id: str
    question_turn_id: int
    answer_turn_id: int
    model: str | None = Field(
        None,
        description="The model that wrote the answer; `offline` when the server has no language "
        "model configured (the answer then recaps and quotes, but composes nothing new).",
    )
    history: str = Field(description="The REST path of the chat's history, where this turn is.")


class Source(BaseModel):
    uri: str
    location: str
    content: str = Field(description="The passage in full, or the file's lines asked for.")
    language: str | None = None
    commit: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    web_url: str | None = None


class Remembered(BaseModel):
    fact: str
    remembered: bool = Field(description="False when Allin already knew it.")


class Recalled(BaseModel):
    query: str
    memories: list[Memory] = Field(description="The closest first.")


class OnboardingNext(BaseModel):
    """Where the user is on the team's onboarding path, and what to do next."""

    next_step: NextStep | None = Field(
        description="The next step of the first path not finished (its stage, title, owner, "
        "links and starter prompts); null when there is no path or all are done."
    )
    path: str | None = Field(description="The path's title.")
    percent: int | None = Field(description="How much of that path is done.")
    note: str = Field(description="What to tell the user, in a sentence.")
