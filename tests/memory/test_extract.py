"""The offline extraction rules, one example per rule and per kind of non-memory."""

from __future__ import annotations

import pytest

from allin.memory.extract import extract_facts, normalized

REMEMBERED = [
    ("I'm new to Kubernetes.", ["User is new to Kubernetes"]),
    ("I am new to Kubernetes", ["User is new to Kubernetes"]),
    ("I'm a backend engineer", ["User is a backend engineer"]),
    ("I'm on the payments team", ["User is on the payments team"]),
    ("I'm good at SQL", ["User is good at SQL"]),
    ("I'm Ann", ["User's name is Ann"]),
    ("my name's Ann Lee", ["User's name is Ann Lee"]),
    ("I prefer short answers.", ["User prefers short answers"]),
    ("I really prefer short answers!", ["User prefers short answers"]),
    ("I'd prefer examples in Python", ["User prefers examples in Python"]),
    ("I mostly use vim.", ["User mostly uses vim"]),
    (
        "I work at Acme as a backend engineer, which is fun",
        ["User works at Acme as a backend engineer"],
    ),
    ("I don't like tabs because they are ugly", ["User doesn't like tabs"]),
    ("I never write tests first", ["User never writes tests first"]),
    ("I have 3 years of experience with Python", ["User has 3 years of experience with Python"]),
    ("I've been using Go for two years", ["User has been using Go for two years"]),
    ("I want to learn Go.", ["User wants to learn Go"]),
    ("I'd like to become a tech lead", ["User wants to become a tech lead"]),
    ("I joined the team in May", ["User joined the team in May"]),
    ("My manager is Dana.", ["User's manager is Dana"]),
    ("btw my manager is Dana", ["User's manager is Dana"]),
    ("Our team uses Flask.", ["User's team uses Flask"]),
    ("We use Flask, by the way.", ["User's team uses Flask"]),
    ("We deploy on Fridays.", ["User's team deploys on Fridays"]),
    ("We have a standup at 10", ["User's team has a standup at 10"]),
    ("We're migrating to Kubernetes", ["User's team is migrating to Kubernetes"]),
    ("our stack is Django and React", ["User's team's stack is Django and React"]),
    ("Remember that I use a Mac", ["User uses a Mac"]),
    (
        "I'm working on my team's billing service",
        ["User is working on their team's billing service"],
    ),
    (
        "I'm on the payments team, and I report to Dana",
        ["User is on the payments team", "User reports to Dana"],
    ),
    (
        "Hi again, I'm new to Kubernetes, how do I see pod logs?",
        ["User is new to Kubernetes"],
    ),
    ("I'm new to Go. I am new to Go!", ["User is new to Go"]),
]

NOT_MEMORIES = [
    "Hi!",
    "Good morning",
    "Thanks, that helps.",
    "Cool, thanks!",
    "lol",
    "ok",
    "What is a pod?",
    "How do I add a route?",
    "Do you know Go?",
    "I'm new to Kubernetes?",
    "Explain the difference between a deployment and a statefulset",
    "Show me an example",
    "I'm not sure I understand.",
    "I'm stuck on this error",
    "I'm good",
    "I need to fix this bug",
    "I think so",
    "I have a question",
    "I like your answer",
    "I like it",
    "I know what you mean",
    "My question is about Docker",
    "We have a problem with CI",
]


@pytest.mark.parametrize(("said", "remembered"), REMEMBERED)
def test_durable_first_person_statements_are_remembered(said: str, remembered: list[str]) -> None:
    assert extract_facts(said) == remembered


@pytest.mark.parametrize("said", NOT_MEMORIES)
def test_questions_chit_chat_and_passing_states_are_not(said: str) -> None:
    assert extract_facts(said) == []


def test_normalized_ignores_case_punctuation_and_spacing() -> None:
    assert normalized("User's team  uses Flask.") == normalized("user’s team uses flask")
    assert normalized("User uses Go") != normalized("User uses Rust")
