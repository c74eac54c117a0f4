"""The offline answer leads with what answers the question: the sentences of the top passage
closest in meaning to it (by the app's embedder), cited. Over the real app: a handbook page
uploaded, the question asked on the chat socket."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from allin.llm.offline import sentences
from tests.conftest import ws_url
from tests.support.accounts import Account
from tests.support.wsclient import ask

HANDBOOK = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "handbook"


def test_a_passage_is_cut_into_its_prose_sentences() -> None:
    passage = (
        "## Time off\n"
        "We offer [20 days](https://example.com/pto) of vacation. Unused days roll over!\n"
        "- Ask your manager first, then book it.\n"
        "```python\nbook(days=3)  # not a sentence.\n```\n"
        "Ok."
    )
    assert sentences(passage) == [
        "We offer 20 days of vacation.",
        "Unused days roll over!",
        "Ask your manager first, then book it.",
    ]


async def test_the_offline_answer_starts_with_the_sentence_that_answers(
    live_server: str, account: Account
) -> None:
    page = (HANDBOOK / "benefits-and-perks.md").read_bytes()
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        uploaded = await http.post(
            "/api/v1/documents", files={"files": ("benefits-and-perks.md", page, "text/markdown")}
        )
    assert uploaded.json()["files"][0]["status"] == "indexed", uploaded.text
    async with connect(ws_url(live_server, account, f"c-{uuid.uuid4().hex[:8]}")) as socket:
        frames = await ask(socket, uuid.uuid4().hex, "How many vacation days do I get?")
    done = frames[-1]
    assert done["type"] == "done", frames[-1]
    answer = done["turn"]["content"]
    assert answer.startswith("37signals offers 20 days of vacation and personal days"), answer
    lead = answer.split("\n\n", 1)[0]
    assert lead.endswith("[1]") and done["citations"][0]["n"] == 1


async def test_telling_it_about_yourself_is_acknowledged_with_what_it_will_remember(
    live_server: str, account: Account
) -> None:
    async with connect(ws_url(live_server, account, f"c-{uuid.uuid4().hex[:8]}")) as socket:
        told = await ask(
            socket, uuid.uuid4().hex, "I work on the billing service. My manager is Dana."
        )
        asked = await ask(socket, uuid.uuid4().hex, "How do I run the tests?")
    answer = told[-1]["turn"]["content"]
    assert answer.startswith(
        "Noted — I'll remember that you work on the billing service and your manager is Dana."
    ), answer
    # Stating facts is not a question: no "nothing found" and no who-to-ask after it.
    assert "nothing" not in answer.lower(), answer
    # A question that says nothing about the asker is not acknowledged.
    assert "Noted" not in asked[-1]["turn"]["content"]
