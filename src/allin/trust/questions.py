"""What kind of question a message is, as far as the trust layer cares: a direct "who knows about
X?" (answered with a ranking of people), small talk (never routed to anyone), or a question the
knowledge base should answer."""

from __future__ import annotations

import re

_PREFIX = r"^\s*(?:hey|hi|so|ok|okay)?[\s,]*(?:who|whom)(?:'s|\s+is)?\s+"
_TOPIC = r"\s+(?P<topic>.+?)[\s?.!]*$"
_WHO_KNOWS = (
    # "who should I ask about X": the preposition is needed ("who do I ask when…" is a question
    # about the process, which the documents may answer).
    re.compile(
        _PREFIX
        + r"(?:do|should|can|could|would)\s+i\s+(?:ask|talk\s+to|contact|speak\s+(?:to|with))"
        r"\s+(?:about|on|for|regarding|with)" + _TOPIC,
        re.IGNORECASE | re.DOTALL,
    ),
    re.compile(
        _PREFIX + r"(?:knows?(?:\s+(?:the\s+)?most)?|owns?|maintains?|wrote|works?\s+on"
        r"|(?:the\s+)?(?:experts?|owners?|maintainers?|go-to(?:\s+person)?|person\s+to\s+ask)"
        r"|responsible\s+for|in\s+charge\s+of)"
        r"(?:\s+(?:about|on|for|of|regarding|with))?" + _TOPIC,
        re.IGNORECASE | re.DOTALL,
    ),
)
_SMALL_TALK = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|howdy|thanks|thank\s+you|thx|cheers|ok|okay|bye|good\s+"
    r"(?:morning|afternoon|evening))\b"
    r"|\b(?:who|what)\s+are\s+you\b|\byour\s+name\b|\bwho\s+(?:made|built|created)\s+you\b"
    r"|\brecap\b|\bwhat\s+(?:did|have)\s+i\s+(?:say|said|ask|asked)\b",
    re.IGNORECASE,
)


def who_knows_topic(message: str) -> str | None:
    """The topic of a "who knows about X?" question, or None for any other message."""
    found = next((m for m in (p.match(message) for p in _WHO_KNOWS) if m), None)
    if found is None:
        return None
    topic = found["topic"].strip()
    return topic or None


# A short message that leans on the conversation ("why?", "can you explain that more simply?",
# "and on Windows?"): its words alone cannot find a passage, and the earlier answer may hold it.
_FOLLOW_UP = re.compile(
    r"^\s*(?:and|but|so|also|ok(?:ay)?|what\s+about|how\s+about|why|really|huh)\b.{0,30}$"
    r"|\b(?:that|it|those|them|above|previous|again|more\s+simply|an?\s+example)\b",
    re.IGNORECASE | re.DOTALL,
)
_FOLLOW_UP_MAX_WORDS = 9


def is_follow_up(message: str) -> bool:
    """A short message that refers to the conversation rather than asking something new."""
    return len(message.split()) <= _FOLLOW_UP_MAX_WORDS and _FOLLOW_UP.search(message) is not None


def is_small_talk(message: str) -> bool:
    """A greeting, thanks or a question about the assistant or the chat itself: nothing the
    team's knowledge is expected to answer, so never a gap."""
    return len(message.split()) < 3 or _SMALL_TALK.search(message) is not None
