"""Offline memory extraction: durable first-person statements, kept by rules a reader can check.

With no language model, a message is cut into sentences and clauses, fillers are dropped ("btw",
"also", "really", "remember that", "hi"), and a clause is kept only if it has one of these shapes.
Memories are written in the third person, always starting with `User` (or `User's team` for "we"):

| Said                                                   | Remembered                          |
|--------------------------------------------------------|-------------------------------------|
| I'm / I am + a role or lasting state                   | User is a backend engineer          |
|   ("a/an/the …", new to, familiar with, learning, on the … team, based in, from …)          |
| I'm + a name ("I'm Ann")                               | User's name is Ann                  |
| I + a verb of preference, habit or work                | User prefers short answers          |
|   (prefer, like, love, hate, use, work, know, speak, live, report, lead, manage, own, …)    |
| I don't / do not / never + such a verb                 | User doesn't like tabs              |
| I have N years / some experience / a background …      | User has 3 years of experience …    |
| I've been + using, working, learning, …                | User has been using Go …            |
| I want to / I'd like to / I plan to + learn, become …  | User wants to learn Go              |
| I joined / started / moved / switched …                | User joined the team in May         |
| My X is/are/has/uses …                                 | User's manager is Dana              |
| We + a verb of practice (use, deploy, …)               | User's team uses Flask              |
| We're / our team is + a lasting state                  | User's team is migrating to Go      |
| Our X is/are/uses …                                    | User's team's stack is Django       |

Everything else is not a memory: questions (a clause ending in "?"), greetings, thanks, commands
("explain…", "show me…"), passing states ("I'm stuck", "I'm not sure", "I need to fix this"),
reactions ("I like it", "I like your answer"), and clauses about the assistant ("you", "your").
"""

from __future__ import annotations

import re

SUBJECT = "User"
_MAX_CHARS = 200

_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")
_STARTS = (
    r"(?:i|i'm|i've|i'd|my|we|we're|our|how|what|why|where|when|who|which|can|could|do|does)\b"
)
_CLAUSES = re.compile(
    rf",?\s+(?:and|but|so|also)\s+(?=(?:i|i'm|i've|i'd|my|we|we're|our)\b)|,\s*(?={_STARTS})",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(
    r"^(?:(?:also|and|but|so|oh|ok|okay|well|actually|anyway|btw|by the way|fyi|for context"
    r"|for the record|just so you know|(?:please\s+)?(?:remember|note|keep in mind)(?:\s+that)?"
    r"|hi|hello|hey|again)\b[\s,:;!.-]*)+",
    re.IGNORECASE,
)
_TRAILING_FILLER = re.compile(r"[\s,]*\b(?:by the way|btw|fyi|too|as well)\s*$", re.IGNORECASE)
# Words that add nothing lasting; dropping them makes "I really prefer X" the same as "I prefer X".
_FILLER_WORDS = re.compile(
    r"\b(?:really|just|also|actually|currently|now|still|totally|definitely|honestly"
    r"|kind of|sort of|pretty much)\s+",
    re.IGNORECASE,
)
# The rest of a clause after these is a reason or an aside, not part of the fact.
_ASIDE = re.compile(
    r"(?:,\s*|\s+)(?:because|since|so|but|though|although|unless|if)\b.*$|,\s*(?:which|as)\b.*$",
    re.IGNORECASE,
)
_ABOUT_ASSISTANT = re.compile(r"\b(?:you|your|yours)\b", re.IGNORECASE)
_REACTION = re.compile(r"^(?:it|this|that|these|those)\b", re.IGNORECASE)

_FREQUENCY = (
    r"(?:mostly|usually|always|often|mainly|primarily|generally|typically|normally|sometimes"
    r"|rarely)"
)
# "[don't | never] [usually] <verb> <object>"
_ACTION = re.compile(
    rf"^(?:(?P<neg>don't|do not|never)\s+)?(?P<freq>{_FREQUENCY}\s+)?"
    r"(?P<verb>[\w']+)\s*(?P<obj>.*)$",
    re.IGNORECASE,
)
# Verbs whose first-person statements say something lasting about the user.
_USER_VERBS = {
    "prefer", "like", "love", "enjoy", "hate", "dislike", "use", "work", "know", "speak", "live",
    "report", "lead", "manage", "own", "maintain", "write", "code", "program", "develop", "build",
    "deploy", "run", "study", "teach", "mentor", "come", "sit",
}  # fmt: skip
_TEAM_VERBS = {
    "use", "deploy", "write", "run", "work", "build", "ship", "follow", "do", "have", "prefer",
    "host", "store", "test", "release", "maintain", "own", "practice", "review", "pair", "meet",
    "code", "develop", "rely", "require", "squash", "rebase", "merge",
}  # fmt: skip
_GOALS = re.compile(
    r"^to\s+(?:learn|become|get better at|improve|master|move|switch|transition|grow|contribute"
    r"|focus on|specialize)\b",
    re.IGNORECASE,
)
_EXPERIENCE = re.compile(
    r"^(?:(?:\d+|a few|few|several|many|some|no|a lot of)\s+years?\b"
    r"|(?:a |some |no |little |lots of )?(?:background|experience|degree)\b)",
    re.IGNORECASE,
)
_PAST_EVENTS = {"joined", "started", "moved", "switched", "graduated"}
_LASTING_STATE = re.compile(
    r"^(?:not\s+)?(?:(?:a|an)\s+(?!bit\b|little\b|lot\b|few\b)\w|the\s+\w"
    r"|(?:new|familiar|comfortable|experienced|proficient|fluent|expert|interested|responsible"
    r"|based|located|from|into|in charge|part of|learning|studying|joining|starting|using|building"
    r"|maintaining|leading|managing|migrating|moving|switching|onboarding|remote"
    r"|working (?:on|at|in|with|for|as)"
    r"|(?:good|great|bad|better|best|weak|strong) (?:at|with|in))\b"
    r"|(?:on|in) (?:the |a |an )?[\w' -]*\b(?:team|squad|project|group|department)\b)",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[A-Z][a-z]+(?: [A-Z][a-z]+)?$")
_NOT_NAMES = {"Back", "Here", "Done", "Sorry", "Fine", "Good", "Ok", "Okay", "Ready", "Sure"}
_COPULAS_AND_VERBS = (
    r"is|are|uses|use|has|have|prefers|works|runs|deploys|writes|builds|ships|wants|likes|owns"
    r"|maintains|handles|sits|meets|lives|reports|leads|manages|focuses|speaks|knows|goes"
)
_POSSESSED = re.compile(
    rf"^(?P<noun>[\w'-]+(?: [\w'-]+){{0,3}}?)\s+(?P<verb>{_COPULAS_AND_VERBS})\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_TRANSIENT_NOUNS = {
    "question", "problem", "issue", "error", "bug", "point", "guess", "bad", "mistake", "output",
    "result", "answer", "code", "test", "tests", "build", "connection", "internet", "request",
    "pr", "message", "screen", "turn", "fault", "pleasure",
}  # fmt: skip
_TEAMISH = {"team", "company", "org", "organization", "squad", "group", "department", "startup"}
_PRONOUNS = {
    "my": "their", "me": "them", "mine": "theirs", "myself": "themselves", "i": "they",
    "i'm": "they're", "we": "they", "our": "their", "ours": "theirs", "us": "them",
}  # fmt: skip
_PRONOUN = re.compile(r"\b(?:I'm|i'm|my|me|mine|myself|I|we|our|ours|us)\b")


def extract_facts(message: str) -> list[str]:
    """The memories offline rules find in a user's message, in order, each once."""
    facts: list[str] = []
    for clause in _clauses(message):
        fact = _fact(clause)
        if fact is not None and fact not in facts:
            facts.append(fact)
    return facts


def normalized(text: str) -> str:
    """The form two memories are compared in: case, punctuation and spacing don't count."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower().replace("’", "'")).split())


def _clauses(message: str) -> list[str]:
    text = message.replace("’", "'").replace("‘", "'")
    clauses = []
    for sentence in _SENTENCES.split(text):
        clauses += [part for part in _CLAUSES.split(sentence) if part and part.strip()]
    return clauses


def _fact(clause: str) -> str | None:
    clause = " ".join(clause.split())
    if clause.endswith("?"):
        return None
    clause = _LEADING_FILLER.sub("", clause).rstrip(".!;:, ")
    clause = _TRAILING_FILLER.sub("", clause).rstrip(".!;:, ")
    if not clause or _ABOUT_ASSISTANT.search(clause):
        return None
    clause = _FILLER_WORDS.sub("", clause)
    clause = re.sub(r"^i'd (?:prefer|rather)\b", "i prefer", clause, flags=re.I)
    clause = re.sub(r"^i would (?:prefer|rather)\b", "i prefer", clause, flags=re.I)
    clause = re.sub(r"^i(?:'d| would) like to\b", "i want to", clause, flags=re.I)
    clause = re.sub(r"^my name's\b", "my name is", clause, flags=re.I)
    fact = _first_match(clause)
    if fact is None or len(fact) > _MAX_CHARS:
        return None
    return fact


def _first_match(clause: str) -> str | None:
    lower = clause.lower()
    if m := re.match(r"^i(?:'m| am)\s+(?P<rest>.+)$", clause, re.I):
        return _state(SUBJECT, m["rest"], name_allowed=True)
    if m := re.match(r"^i(?:'ve| have) been\s+(?P<rest>\w+ing\b.*)$", clause, re.I):
        return _join(SUBJECT, "has been", m["rest"])
    if m := re.match(r"^i\s+(?P<rest>.+)$", clause, re.I):
        return _action(SUBJECT, m["rest"], _USER_VERBS, personal=True)
    if m := re.match(r"^my\s+(?P<rest>.+)$", clause, re.I):
        return _possessed(f"{SUBJECT}'s", m["rest"])
    if m := re.match(r"^(?:we're|we are|our team is)\s+(?P<rest>.+)$", clause, re.I):
        return _state(f"{SUBJECT}'s team", m["rest"], name_allowed=False)
    if m := re.match(r"^we\s+(?P<rest>.+)$", clause, re.I):
        return _action(f"{SUBJECT}'s team", m["rest"], _TEAM_VERBS, personal=False)
    if lower.startswith("our "):
        rest = clause[4:]
        head = rest.split(" ", 1)[0].lower()
        return _possessed(f"{SUBJECT}'s" if head in _TEAMISH else f"{SUBJECT}'s team's", rest)
    return None


def _state(subject: str, rest: str, *, name_allowed: bool) -> str | None:
    if name_allowed and _NAME.match(rest) and rest.split(" ")[0] not in _NOT_NAMES:
        return f"{subject}'s name is {rest}"
    rest = _ASIDE.sub("", rest)
    if not _LASTING_STATE.match(rest):
        return None
    return _join(subject, "is", rest)


def _action(subject: str, rest: str, verbs: set[str], *, personal: bool) -> str | None:
    m = _ACTION.match(rest)
    if m is None:
        return None
    verb, obj = m["verb"].lower(), _ASIDE.sub("", m["obj"])
    neg, freq = (m["neg"] or "").lower(), (m["freq"] or "").lower().strip()
    if not obj or _REACTION.match(obj):
        return None
    if personal and not neg and verb in _PAST_EVENTS:
        return _join(subject, verb, obj)
    if verb in ("want", "plan", "hope") and personal and not neg:
        return _join(subject, _third_person(verb), obj) if _GOALS.match(obj) else None
    if verb == "have":
        if (personal and not _EXPERIENCE.match(obj)) or _mentions_transient(obj):
            return None
    elif verb not in verbs:
        return None
    if verb == "know" and re.match(r"^(?:what|how|why|that|right|about)\b", obj, re.I):
        return None
    if verb == "come" and not obj.lower().startswith("from "):
        return None
    if neg == "never":
        predicate = f"never {_third_person(verb)}"
    elif neg == "don't":
        predicate = f"doesn't {verb}"
    elif neg:
        predicate = f"does not {verb}"
    else:
        predicate = _third_person(verb)
    if freq:
        predicate = f"{freq} {predicate}"
    return _join(subject, predicate, obj)


def _possessed(owner: str, rest: str) -> str | None:
    m = _POSSESSED.match(rest)
    if m is None:
        return None
    noun = m["noun"]
    if noun.lower().split(" ")[-1] in _TRANSIENT_NOUNS:
        return None
    obj = _ASIDE.sub("", m["rest"])
    if not obj or _REACTION.match(obj):
        return None
    return _join(f"{owner} {noun}", m["verb"].lower(), obj)


def _mentions_transient(text: str) -> bool:
    return any(word in _TRANSIENT_NOUNS for word in normalized(text).split())


def _third_person(verb: str) -> str:
    if verb == "have":
        return "has"
    if verb == "do":
        return "does"
    if re.search(r"(?:s|sh|ch|x|z|o)$", verb):
        return verb + "es"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + "s"


def _join(subject: str, predicate: str, rest: str) -> str | None:
    rest = _PRONOUN.sub(lambda m: _PRONOUNS[m[0].lower()], rest).strip(" ,;:-")
    if not re.search(r"\w", rest):
        return None
    return " ".join(f"{subject} {predicate} {rest}".split())
