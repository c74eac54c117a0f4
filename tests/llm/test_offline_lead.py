"""The offline answer leads with what answers the question: the sentences of the top passage
closest in meaning to it (by the app's embedder), cited. Over the real app: a handbook page
uploaded, the question asked on the chat socket."""

from __future__ import annotations

import uuid

import httpx
from websockets.asyncio.client import connect

from allin.llm.base import ContextBlock, Prompt
from allin.llm.offline import compose_reply, sentences
from allin.memory.pipeline import QUOTED_TITLE as MEMORY_QUOTED_TITLE
from allin.memory.pipeline import TITLE as MEMORY_TITLE
from allin.onboarding.pitch import GUIDANCE
from allin.onboarding.pitch import QUOTED_TITLE as PITCH_QUOTED
from allin.onboarding.pitch import TITLE as PITCH_TITLE
from tests.conftest import ws_url
from tests.support.accounts import Account
from tests.support.llm_scripts import asked
from tests.support.wsclient import ask

# From the team handbook of the evaluation corpus (../shared/corpus/handbook/benefits-and-perks.md),
# kept here: a clone of the project has no corpus beside it.
BENEFITS = """# Benefits & Perks

## Flexible Spending Account (FSA)

The FSA is an account where you can set aside pre-tax money for out-of-pocket medical expenses,
such as prescriptions, over-the-counter medicine, vision care, etc. You have to decide up front
how much money you want to put in the account, and the max is $3,300/year per person in your
household. There is a separate type of FSA for dependent care, and the max for that plan is
$7,500/year or $3,750/year if you split this with a partner. This is an entirely optional
program. Open enrollment is in December every year, with new coverage beginning January 1. Both
FSAs are through FLEX, and detail can be found [in
Basecamp](https://app.3.basecamp.com/2914079/buckets/28168307/vaults/7783033318).

## Paid Time Off

37signals offers 20 days of vacation and personal days plus [11 local
holidays](https://3.basecamp.com/2914079/buckets/28168307/documents/5061131347) every year. We
ask that you [track your time off](https://3.basecamp.com/2914079/projects/14971171). Your
vacation time is prorated based on your start date during your first year at 37signals. Your
vacation time rolls over year to year with a maximum bank of 27 days at any time. If you are
terminated or resign from 37signals with vacation days in your bank, you’ll be paid the monetary
equivalent for those unused days (prorated at the time of your departure). Unused holidays are
not paid upon termination or resignation.

### Sabbatical

In addition to annual PTO and holidays, every *three* years employees may take a 6-week paid
sabbatical. Give your team a heads-up, preferably three months in advance, so they can
coordinate. If you’re terminated or resign from 37signals with an unused sabbatical, 37signals
will pay you the monetary equivalent of those unused days only if your unused sabbatical was
earned within the previous 12 months.

### Paid Sick Time

We don’t offer a bank of sick days, nor do we ask you to track your sick days. When you’re sick,
please notify your manager as soon as you know you’ll be out, and for how long you expect to be
out.

If you’ll be away from work due to illness or injury for more than 7 consecutive work days, you
may be required to file a short-term disability claim.

37signals does not pay out for unused sick time upon resignation or termination.

Your manager will check in with you if you’re taking frequent unplanned sick days. Excessive use
of sick time may result in disciplinary measures. If you have a medical condition that you know
will take you away from work regularly, please work with your People Ops team and your manager.

### Summer Hours

We work 4-day work weeks from May 1 through August 31 every year. An employee who has just been
hired may have to complete a training program, designated by their team lead, to be eligible.
When a holiday occurs during summer hours, you can take the holiday off *or* your normal summer
day off. Any additional days off count as vacation days.

### Scheduling Time Off

37signals doesn’t have a formal time off request process. It’s your responsibility to work with
your manager and team to ensure coverage and manage your scheduled workload. The sooner you can
inform your manager and team of your planned absence, the better, especially longer absences
like sabbatical or long vacations. If your team has a defined process for scheduling time off,
please follow that first."""


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
    page = BENEFITS.encode()
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


def test_the_offline_answer_quotes_memories_to_the_user_and_keeps_the_model_s_notes_to_itself() -> (
    None
):
    prompt = asked("What should I read first?")
    prompt = Prompt(
        system=prompt.system,
        user=prompt.user,
        context=(
            ContextBlock(MEMORY_TITLE, ("Works on payments",), quoted_title=MEMORY_QUOTED_TITLE),
            ContextBlock(
                PITCH_TITLE, ("Onboarding: stage 1 of 2",), note=GUIDANCE, quoted_title=PITCH_QUOTED
            ),
        ),
    )
    answer = compose_reply(prompt)
    assert f"**{MEMORY_QUOTED_TITLE}**" in answer and "Works on payments" in answer
    assert MEMORY_TITLE not in answer
    assert f"**{PITCH_QUOTED}**" in answer and "stage 1 of 2" in answer
    assert PITCH_TITLE not in answer and GUIDANCE not in answer
