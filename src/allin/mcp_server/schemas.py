"""What the tools return: typed, so an agent gets an output schema along with each result."""

from __future__ import annotations

from pydantic import BaseModel, Field

from allin.mcp_server.uris import citation_uri
from allin.memory.memory_records import Memory
from allin.onboarding.path_records import NextStep
from allin.rag.citations import CitedSource


class Citation(CitedSource):
    """Where a passage comes from, as an answer cites it, plus the URI that `read_source`
    opens."""

    uri: str = Field(description="Pass to read_source for the full passage or file lines.")

    @classmethod
    def of(cls, citation: CitedSource) -> Citation:
        source = citation.model_dump(include=set(CitedSource.model_fields))
        return cls(**source, uri=citation_uri(citation))


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
