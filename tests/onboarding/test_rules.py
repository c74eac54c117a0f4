"""The rules below the database: the admins' overview from progress records (stages, the time
each step took, who is stuck where), the profile labels made from memories, and what counts as
evidence that a step is done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from allin.onboarding.evidence import _evidence, topic_words
from allin.onboarding.overview import overview_of
from allin.onboarding.parse import parse_path
from allin.onboarding.path_records import Link, StepProgress, StepView, StoredPath
from allin.onboarding.profile import profile_of
from allin.storage.onboarding import MemberProgress

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def stored() -> StoredPath:
    definition, problems = parse_path(
        "# Path\n## One\n- [ ] Setup\n- [ ] Tests\n## Two\n- [ ] Ship\n", "ONBOARDING.md"
    )
    assert definition is not None, problems
    return StoredPath(
        id="p1",
        repository_id="r1",
        repository="shop",
        file_path="ONBOARDING.md",
        commit_sha="abc",
        blob_sha="def",
        definition=definition,
        problems=[],
        rejected_blob_sha=None,
        updated_at=NOW,
    )


def done(at: datetime) -> StepProgress:
    return StepProgress(state="done", done_at=at)


def test_stages_median_times_and_stuck_steps() -> None:
    start = NOW - 10 * DAY
    team = [
        # Setup in 1 day, tests in 2; waiting on "ship" for 7 days: stuck.
        MemberProgress(
            "a", "a@x", start, {"setup": done(start + DAY), "tests": done(start + 3 * DAY)}
        ),
        # Setup in 3 days; waiting on "tests" for 1 day: not yet stuck.
        MemberProgress("b", "b@x", NOW - 4 * DAY, {"setup": done(NOW - DAY)}),
        # Just started, with a suggestion that does not count as done.
        MemberProgress("c", None, NOW, {"setup": StepProgress(state="suggested")}),
    ]
    overview = overview_of(stored(), team, stuck_after_s=3 * 86400, now=NOW)
    rows = {m.user_id: m for m in overview.members}
    assert (rows["a"].stage_number, rows["a"].stage, rows["a"].next_step) == (2, "Two", "Ship")
    assert (rows["b"].stage_number, rows["b"].done, rows["b"].next_step) == (1, 1, "Tests")
    assert (rows["c"].stage_number, rows["c"].done, rows["c"].next_step) == (1, 0, "Setup")
    steps = {s.slug: s for s in overview.steps}
    assert steps["setup"].done == 2 and steps["setup"].suggested == 1
    assert steps["setup"].median_seconds == 2 * 86400  # 1 day and 3 days
    assert steps["tests"].median_seconds == 2 * 86400
    assert steps["ship"].median_seconds is None
    assert (steps["ship"].waiting, steps["ship"].stuck) == (1, 1)
    assert (steps["tests"].waiting, steps["tests"].stuck) == (1, 0)
    assert overview.stuck == ["ship"]


def test_profile_labels_say_role_then_what_is_known_then_what_is_new() -> None:
    profile = profile_of(
        [
            "User knows Python, not Flask",
            "User is a new backend engineer",
            "We go to lunch at noon",
            "User's team deploys with Go services on Kubernetes",
        ]
    )
    assert profile.labels == ("backend", "Python", "Go", "Kubernetes")
    assert profile.facts[0] == "User knows Python, not Flask"
    assert "We go to lunch at noon" not in profile.facts
    assert profile_of(["User is new to Kubernetes"]).summary == "new to Kubernetes"
    assert profile_of(["I like tea"]).facts == ()


def test_what_counts_as_evidence_that_a_step_is_done() -> None:
    step = StepView(
        slug="run-tests",
        title="Run the test suite",
        links=[Link(text="testing", kind="file", target="docs/testing.rst")],
        prompts=["How do I run the tests with pytest?"],
    )
    cited = [{"repository_id": "r1", "path": "docs/testing.rst"}]
    elsewhere = [{"repository_id": "r2", "path": "docs/testing.rst"}]

    def why(question: str, citations: list[dict[str, str]], said_done: bool = False) -> object:
        found = _evidence(step, topic_words(question), citations, "r1", said_done)
        return found and found["kind"]

    assert why("How do I run the tests?", cited) == "cited_answer"
    assert why("How do I run the tests?", elsewhere) is None  # another repository's file
    assert why("How do I run the tests?", []) is None  # an answer citing nothing
    assert why("What is a monad?", cited) is None  # off topic, whatever is cited
    assert why("I ran the test suite", [], said_done=True) == "said_done"
