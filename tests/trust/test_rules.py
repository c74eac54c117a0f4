"""The trust layer's pure rules: which code a page names, CODEOWNERS matching, what a question
is, and choosing the abstention thresholds."""

from __future__ import annotations

import pytest

from allin.errors import BadRequest
from allin.trust.calibration import Scored, choose_thresholds, measure
from allin.trust.codeowners import owners_of, parse_codeowners
from allin.trust.gaps import group_labels, parse_since
from allin.trust.questions import is_follow_up, is_small_talk, who_knows_topic
from allin.trust.references import CodeIndex


def index() -> CodeIndex:
    code = CodeIndex()
    code.add_file(
        "src/flask/sessions.py",
        ["SecureCookieSessionInterface.open_session", "SessionMixin"],
        'app.config["SESSION_COOKIE_NAME"]',
    )
    code.add_file("src/flask/app.py", ["Flask.run", "Flask.open_session"], "")
    for n in range(4):  # a name defined everywhere names no file in particular
        code.add_file(f"src/flask/m{n}.py", ["get_value"], "")
    return code


def test_a_page_names_files_by_path_module_class_and_config_key() -> None:
    found = index().files_named_by(
        "See :class:`flask.sessions.SecureCookieSessionInterface`, the SESSION_COOKIE_NAME "
        "setting, src/flask/app.py, and get_value."
    )
    assert found["src/flask/sessions.py"] == {
        "flask.sessions",
        "SecureCookieSessionInterface",
        "SESSION_COOKIE_NAME",
    }
    assert found["src/flask/app.py"] == {"src/flask/app.py"}
    assert not any(path.startswith("src/flask/m") for path in found)


def test_everyday_words_and_short_names_name_nothing() -> None:
    assert index().files_named_by("Run the app and open a session in Flask.") == {}


def test_codeowners_last_matching_rule_wins_and_sections_are_skipped() -> None:
    rules = parse_codeowners(
        "# owners\n* @everyone\n[Docs]\n/docs/ @writers # the docs team\nsrc/flask/ @core\n"
        "not-a-rule\n"
    )
    assert owners_of(rules, "src/flask/sessions.py").owners == ("@core",)  # type: ignore[union-attr]
    assert owners_of(rules, "docs/index.rst").owners == ("@writers",)  # type: ignore[union-attr]
    assert owners_of(rules, "README.md").owners == ("@everyone",)  # type: ignore[union-attr]
    assert owners_of(parse_codeowners(""), "README.md") is None


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("who knows about the session cookie?", "the session cookie"),
        ("Who owns src/flask/sessions.py", "src/flask/sessions.py"),
        ("Who should I ask about deploys?", "deploys"),
        ("who is the expert on blueprints", "blueprints"),
        ("Who is responsible for on-call?", "on-call"),
        ("Who knows the session code", "the session code"),
        ("Who do I ask when something in the handbook doesn't make sense?", None),
        ("How do I configure Kubernetes autoscaling?", None),
        ("who", None),
    ],
)
def test_who_knows_questions(message: str, topic: str | None) -> None:
    assert who_knows_topic(message) == topic


@pytest.mark.parametrize(
    ("message", "follow_up"),
    [
        ("Can you explain that more simply?", True),
        ("and on Windows?", True),
        ("Why?", True),
        ("Show me an example", True),
        ("How do I configure Kubernetes autoscaling for our app?", False),
        ("What is the wifi password in the Berlin office?", False),
        ("Why does creating a blueprint called 'api.v1' blow up?", False),
        ("What are this quarter's OKRs for the platform team?", False),
    ],
)
def test_follow_ups_lean_on_the_conversation(message: str, follow_up: bool) -> None:
    assert is_follow_up(message) is follow_up


def test_small_talk_is_never_a_gap() -> None:
    assert is_small_talk("hi there")
    assert is_small_talk("Who are you and who made you?")
    assert not is_small_talk("How do I configure Kubernetes autoscaling?")


def scored(answerable: list[float], unanswerable: list[tuple[float, int]]) -> list[Scored]:
    return [Scored(f"a{n}", True, best) for n, best in enumerate(answerable)] + [
        Scored(f"u{n}", False, best, unknown) for n, (best, unknown) in enumerate(unanswerable)
    ]


def test_thresholds_abstain_on_unanswerable_questions_and_keep_answerable_ones() -> None:
    questions = scored(
        [0.5, 0.55, 0.6, 0.42, 0.7, 0.8] * 10,
        [(0.2, 0), (0.25, 1), (0.41, 1), (0.45, 0)],
    )
    below, unknown_below = choose_thresholds(questions)
    measured = measure(questions, below, unknown_below)
    assert measured.answerable_answered == 1.0
    # 0.45 with every word known looks like an answerable question: it is answered.
    assert (measured.recall, measured.precision) == (0.75, 1.0)
    assert below < 0.41 < unknown_below <= 0.42


def test_thresholds_need_answerable_questions() -> None:
    with pytest.raises(BadRequest):
        choose_thresholds(scored([], [(0.2, 0)]))


def test_since_and_grouping() -> None:
    assert (parse_since("2w") - parse_since("14d")).total_seconds() < 1
    assert parse_since("2026-01-02").year == 2026
    with pytest.raises(BadRequest, match="since must be like"):
        parse_since("lately")
    assert group_labels([]) == [] and group_labels([[1.0, 0.0]]) == [0]
    labels = group_labels([[1.0, 0.0], [0.99, 0.05], [0.0, 1.0]])
    assert labels[0] == labels[1] != labels[2]
