"""Onboarding paths end to end below HTTP, on the real database: a synced repository's path, a
new user's first step, a step suggested as done by a cited answer, ticking it, the admins'
overview, and edits of the path file (good and broken) that keep everyone's progress."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from allin.chat.interaction import TurnRequest
from allin.onboarding.path_records import PathProgress
from allin.services import Services
from tests.chat.test_interaction import Collected
from tests.conftest import services_of_their_own
from tests.onboarding.flask_path import flask_repo
from tests.support.gitrepo import GitRepo


@pytest.fixture(scope="module")
async def services(
    postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    async with services_of_their_own(
        postgres, tmp_path_factory.mktemp("data"), memory=False
    ) as started:
        yield started


@pytest.fixture(scope="module")
async def flask(services: Services, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = flask_repo(tmp_path_factory.mktemp("repos") / "flask")
    repository = await services.repositories.store.create(
        name="flask", url=str(repo.path), branch="main", created_by="test"
    )
    report = await services.repositories.sync_now(repository.id)
    return {"repo": repo, "id": repository.id, "report": report}


async def mine(services: Services, user_id: str, repository: str) -> PathProgress:
    (progress,) = [
        p for p in await services.onboarding.progress(user_id) if p.repository == repository
    ]
    return progress


async def test_the_path_is_read_at_sync_and_a_new_user_starts_on_stage_one(
    services: Services, flask: dict[str, Any], user_id: str
) -> None:
    assert flask["report"]["onboarding"] == {
        "paths": [{"file_path": "ONBOARDING.md", "accepted": True, "problems": [], "steps": 9}],
        "removed": [],
    }
    progress = await mine(services, user_id, "flask")
    assert (progress.title, progress.stage_number, progress.stage_count) == (
        "Flask onboarding",
        1,
        5,
    )
    assert [stage.title for stage in progress.stages] == [
        "Setup",
        "Running the tests",
        "The request lifecycle",
        "Blueprints",
        "The CLI",
    ]
    assert progress.next is not None
    assert progress.next.step.title == "Install Flask"
    assert progress.next.step.owner == "Ada Lovelace"
    assert progress.next.step.prompts[0] == "How do I install Flask?"
    assert (progress.done, progress.total, progress.percent) == (0, 9, 0)


async def test_a_cited_answer_on_a_steps_topic_suggests_it_and_a_tick_moves_the_next_step(
    services: Services, flask: dict[str, Any], user_id: str
) -> None:
    await services.onboarding.progress(user_id)  # seen: the first step's clock starts
    # Off topic: nothing is suggested, whatever is cited.
    await services.interaction.ask(
        TurnRequest(user_id, "c1", "m0", "What is a monad?"), Collected()
    )
    await services.interaction.ask(
        TurnRequest(user_id, "c1", "m1", "How do I install Flask?"), Collected()
    )
    await services.runs.drain(60)  # the evidence listener runs after the answer
    answer = (await services.chats.turns_before(user_id, "c1", None, 10))[-1]
    cited = {c["path"] for c in answer.metadata["citations"]}
    assert "docs/installation.rst" in cited, cited

    progress = await mine(services, user_id, "flask")
    install = progress.stages[0].steps[0]
    assert install.state == "suggested"
    assert install.evidence is not None and install.evidence["kind"] == "cited_answer"
    assert "docs/installation.rst" in install.evidence["cited"]
    assert [s.state for stage in progress.stages for s in stage.steps].count("suggested") == 1
    # Suggested is not done: the next step stays until the user confirms.
    assert progress.next is not None and progress.next.step.slug == "install-flask"

    confirmed = await services.onboarding.set_step(user_id, progress.path_id, "install-flask", True)
    assert confirmed.next is not None and confirmed.next.step.slug == "venv"
    assert (confirmed.done, confirmed.stage_number) == (1, 1)

    (overview,) = [o for o in await services.onboarding.overview() if o.repository == "flask"]
    (me,) = [m for m in overview.members if m.user_id == user_id]
    assert (me.stage_number, me.stage, me.done, me.next_step) == (
        1,
        "Setup",
        1,
        "Create a virtual environment",
    )
    install_stats = next(s for s in overview.steps if s.slug == "install-flask")
    assert install_stats.done >= 1 and install_stats.median_seconds is not None
    venv_stats = next(s for s in overview.steps if s.slug == "venv")
    assert venv_stats.waiting >= 1 and venv_stats.stuck == 0


async def test_saying_a_step_is_done_suggests_it(
    services: Services, flask: dict[str, Any], user_id: str
) -> None:
    await services.interaction.ask(
        TurnRequest(user_id, "c2", "m1", "I've registered a blueprint already, what's next?"),
        Collected(),
    )
    await services.runs.drain(60)
    progress = await mine(services, user_id, "flask")
    blueprint = progress.stages[3].steps[0]
    assert blueprint.slug == "register-a-blueprint" and blueprint.state == "suggested"
    assert blueprint.evidence is not None and blueprint.evidence["kind"] == "said_done"


SMALL = """# Team path

## First week
- [ ] Read the README — [readme](../../README.md) (owner: Ada)
- [ ] Run the tests {#tests}
- [ ] Meet the team

## Second week
- [ ] Ship a fix
"""


async def small_repo(services: Services, path: Path, name: str) -> tuple[GitRepo, str]:
    repo = GitRepo(path)
    repo.write("README.md", "# Shop\n\nRun the tests with `pytest`.\n")
    repo.write("docs/onboarding/team.md", SMALL)
    repo.commit("The shop and its path")
    repository = await services.repositories.store.create(
        name=name, url=str(repo.path), branch="main", created_by="test"
    )
    await services.repositories.sync_now(repository.id)
    return repo, repository.id


async def test_an_edited_path_keeps_progress_on_the_steps_that_remain(
    services: Services, tmp_path: Path, user_id: str
) -> None:
    repo, repository_id = await small_repo(services, tmp_path / "shop", "shop-edit")
    path_id = (await mine(services, user_id, "shop-edit")).path_id
    for slug in ("read-the-readme", "tests", "meet-the-team"):
        await services.onboarding.set_step(user_id, path_id, slug, True)

    # Reworded (the explicit slug keeps it), reordered, one step dropped, one stage added.
    repo.write(
        "docs/onboarding/team.md",
        "# Team path\n\n## Day one\n- [ ] Run every test, twice {#tests}\n"
        "- [ ] Read the README — [the readme](/README.md) (owner: Bo)\n\n"
        "## Second week\n- [ ] Ship a fix\n\n## Later\n- [ ] Give a talk\n",
    )
    repo.commit("A new path")
    report = await services.repositories.sync_now(repository_id)
    assert report["onboarding"]["paths"] == [
        {"file_path": "docs/onboarding/team.md", "accepted": True, "problems": [], "steps": 4}
    ]

    progress = await mine(services, user_id, "shop-edit")
    assert progress.path_id == path_id
    assert [(s.slug, s.state) for stage in progress.stages for s in stage.steps] == [
        ("tests", "done"),
        ("read-the-readme", "done"),
        ("ship-a-fix", "todo"),
        ("give-a-talk", "todo"),
    ]
    assert (progress.done, progress.total, progress.stage_number, progress.stage_count) == (
        2,
        4,
        2,
        3,
    )


async def test_a_broken_edit_is_reported_and_the_last_good_version_stays(
    services: Services, tmp_path: Path, user_id: str
) -> None:
    repo, repository_id = await small_repo(services, tmp_path / "shop", "shop-broken")
    path_id = (await mine(services, user_id, "shop-broken")).path_id
    await services.onboarding.set_step(user_id, path_id, "tests", True)

    repo.write(
        "docs/onboarding/team.md",
        SMALL + "- [ ] Ship a fix\n- [ ] Read [the guide](docs/missing.md)\n",
    )
    repo.commit("A broken path")
    report = await services.repositories.sync_now(repository_id)
    assert report["onboarding"]["paths"] == [
        {
            "file_path": "docs/onboarding/team.md",
            "accepted": False,
            "problems": [
                "line 10: duplicate step 'ship-a-fix' (first on line 9); give one of them its "
                "own {#slug}",
                "line 11: 'docs/missing.md' links to docs/onboarding/docs/missing.md, which "
                "does not exist",
            ],
            "steps": 0,
        }
    ]
    progress = await mine(services, user_id, "shop-broken")
    assert progress.total == 4 and progress.done == 1
    assert len(progress.problems) == 2  # the user's panel can say the file needs fixing
    (overview,) = [o for o in await services.onboarding.overview() if o.repository == "shop-broken"]
    assert overview.problems == progress.problems and len(overview.steps) == 4

    # Syncing again without a change does not report it again; fixing it clears the problems.
    assert (await services.repositories.sync_now(repository_id))["onboarding"]["paths"] == []
    repo.write("docs/onboarding/team.md", SMALL.replace("Meet the team", "Meet everyone"))
    repo.commit("Fixed")
    await services.repositories.sync_now(repository_id)
    progress = await mine(services, user_id, "shop-broken")
    assert progress.problems == [] and progress.total == 4 and progress.done == 1

    # The file removed: the path is no longer offered.
    repo.git("rm", "-q", "docs/onboarding/team.md")
    repo.commit("No path")
    report = await services.repositories.sync_now(repository_id)
    assert report["onboarding"]["removed"] == ["docs/onboarding/team.md"]
    assert all(p.repository != "shop-broken" for p in await services.onboarding.progress(user_id))


async def test_a_path_never_read_well_is_not_offered_and_admins_see_why(
    services: Services, tmp_path: Path, user_id: str
) -> None:
    repo = GitRepo(tmp_path / "bare")
    repo.write("ONBOARDING.md", "Just some words, no headings.\n- [ ] A step\n")
    repo.commit("A path without stages")
    repository = await services.repositories.store.create(
        name="shop-never", url=str(repo.path), branch="main", created_by="test"
    )
    report = await services.repositories.sync_now(repository.id)
    (read,) = report["onboarding"]["paths"]
    assert read["accepted"] is False and read["problems"][0].startswith("no headings")
    assert all(p.repository != "shop-never" for p in await services.onboarding.progress(user_id))
    (overview,) = [o for o in await services.onboarding.overview() if o.repository == "shop-never"]
    assert overview.title is None and overview.members == [] and overview.problems
