"""What kind of question a message is, as far as the trust layer cares: a direct "who knows about
X?" (answered with a ranking of people), small talk (never routed to anyone), or a question the
knowledge base should answer."""

from __future__ import annotations

import re

_WHO_KNOWS = re.compile(
    r"^\s*(?:hey|hi|so|ok|okay)?[\s,]*"
    r"(?:who|whom)(?:'s|\s+is)?\s+"
    r"(?:(?:do|should|can|could|would)\s+i\s+(?:ask|talk\s+to|contact|speak\s+(?:to|with))"
    r"|knows?(?:\s+(?:the\s+)?most)?|owns?|maintains?|wrote|works?\s+on"
    r"|(?:the\s+)?(?:experts?|owners?|maintainers?|go-to(?:\s+person)?|person\s+to\s+ask)"
    r"|responsible|in\s+charge)"
    r"\s*(?:about|on|for|of|regarding|with)?\s+(?P<topic>.+?)[\s?.!]*$",
    re.IGNORECASE | re.DOTALL,
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
    found = _WHO_KNOWS.match(message)
    if found is None:
        return None
    topic = found["topic"].strip()
    return topic or None


def is_small_talk(message: str) -> bool:
    """A greeting, thanks or a question about the assistant or the chat itself: nothing the
    team's knowledge is expected to answer, so never a gap."""
    return len(message.split()) < 3 or _SMALL_TALK.search(message) is not None
