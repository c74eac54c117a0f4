"""What the trust layer says: to the model (notes) and to the user (the offline answerer shows
these as its answer; a model is given them to pass on)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from allin.trust.experts import Expert

NOTHING_FOUND_TITLE = "Nothing found"
WHO_KNOWS_TITLE = "Who is likely to know"
_BASIS = {
    "codeowners": "CODEOWNERS",
    "commits": "recent commits",
    "uploader": "uploaded the related document",
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")
_QUESTION_MAX = 300


def abstention_note(best: float | None, unknown_words: Sequence[str]) -> str:
    closest = f"the closest passage's similarity is {best:.2f}" if best is not None else "none"
    if unknown_words:
        closest += "; no document mentions " + ", ".join(f"'{w}'" for w in unknown_words[:5])
    return (
        "NOTHING WAS FOUND: no passage of the team's documents or repositories is close enough to "
        f"this question ({closest}). Say plainly, first, that the team's "
        "knowledge does not answer it. Do not guess an answer about the user's team, code or "
        "policies. Then pass on who is likely to know and the question they can send, as below."
    )


def who_knows_note() -> str:
    return (
        "The user asks who knows about a topic. Below is the ranking computed from the team's "
        "CODEOWNERS, git history and uploads for the files most related to it, with the reasons. "
        "Present it as given; do not add people who are not listed."
    )


def abstention_text(question: str, experts: Sequence[Expert]) -> str:
    quoted = _plain(_short(question))
    parts = [
        "**I couldn't find this in the team's knowledge.** Nothing in the documents or "
        f"repositories I can search answers “{quoted}”, so I won't guess."
    ]
    if experts:
        parts.append("**Who is likely to know**\n\n" + _people(experts))
        parts.append("**A question you can send them**\n\n" + _ready_question(question, experts))
    else:
        parts.append(
            "I found no one to point you to either: no CODEOWNERS entry, commit history or "
            "uploaded document is related to it. Your team lead or onboarding buddy is the best "
            "first stop; once you have the answer, adding it to the team's documents helps the "
            "next newcomer."
        )
    return "\n\n".join(parts)


def who_knows_text(topic: str, experts: Sequence[Expert]) -> str:
    quoted = _plain(_short(topic))
    if not experts:
        return (
            f"I found no one who is clearly connected to “{quoted}”: nothing in the CODEOWNERS, "
            "the commit history or the uploaded documents relates to it."
        )
    return "\n\n".join(
        [
            f"**Who knows about “{quoted}”**, from the files most related to it:",
            _people(experts),
            "**A question you can send them**\n\n" + _ready_question(topic, experts, about=True),
        ]
    )


def stale_summary(row: Mapping[str, Any]) -> str:
    """`may be out of date: src/flask/sessions.py changed in 14 commits since this page was last
    edited (newest 1a2b3c4 by Ada, 2024-05-01)`."""
    count = row["commits_since"]
    return (
        f"may be out of date: {row['code_path']} changed in {count} "
        f"commit{'s' if count != 1 else ''} since this page was last edited (newest "
        f"{row['newest_commit'][:7]} by {row['newest_author']}, "
        f"{row['newest_committed_at']:%Y-%m-%d})"
    )


def _people(experts: Sequence[Expert]) -> str:
    lines = []
    for n, expert in enumerate(experts, 1):
        email = f" <{expert.email}>" if expert.email and expert.email != expert.name else ""
        active = f"; last active {expert.last_active:%Y-%m-%d}" if expert.last_active else ""
        reasons = "; ".join(expert.reasons) or _BASIS[expert.basis]
        lines.append(
            f"{n}. **{_plain(expert.name)}**{_plain(email)} ({_BASIS[expert.basis]}): "
            f"{reasons}{active}"
        )
    return "\n".join(lines)


def _ready_question(question: str, experts: Sequence[Expert], *, about: bool = False) -> str:
    first = experts[0]
    greeting = first.name.split()[0] if first.basis != "codeowners" else first.name
    where = next((f.path for f in first.files), None)
    asked = " ".join(_short(question).replace("```", "'''").split())
    ask = f"could you tell me about {asked}?" if about else f"I'm trying to find out: {asked}"
    context = f" I saw you've worked on {where}." if where else ""
    text = (
        f"Hi {greeting}, I'm new on the team and couldn't find this in our docs or code — "
        f"{ask}{context} Could you point me in the right direction, or to someone who knows?"
    )
    return f"```text\n{text}\n```"


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _QUESTION_MAX else flat[: _QUESTION_MAX - 1] + "…"


def _plain(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
