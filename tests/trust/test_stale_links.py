"""Stale-citation warnings and file history, computed when a real git repository is synced into
the real database, and kept current by later syncs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from allin.services import Services
from tests.conftest import services_of_their_own
from tests.trust.shop import ADA, GRACE, SESSIONS_DOC, at, shop


@pytest.fixture(scope="module")
async def services(
    postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    async with services_of_their_own(
        postgres, tmp_path_factory.mktemp("data"), memory=False
    ) as started:
        yield started


async def test_a_page_naming_code_changed_since_is_flagged_with_the_newest_commit(
    services: Services, tmp_path: Path
) -> None:
    repo, commits = shop(tmp_path / "shop")
    repository = await services.repositories.store.create(
        name="shop-stale", url=str(repo.path), branch="main", created_by="test"
    )
    await services.repositories.sync_now(repository.id)

    links = await services.trust.stale_links(repository_id=repository.id)
    assert [(link["doc_path"], link["code_path"]) for link in links] == [
        ("docs/sessions.md", "src/shop/sessions.py")
    ]
    (link,) = links
    # Grace's two commits and the formatting bot's, all after the page's only commit.
    assert link["commits_since"] == 3
    assert link["newest_commit"] == commits[3]
    assert link["doc_commit"] == commits[0]
    assert {"CookieSigner", "src/shop/sessions.py", "SESSION_COOKIE_NAME"} <= set(link["names"])

    # The page is brought up to date: the warning goes with the next sync.
    repo.write("docs/sessions.md", SESSIONS_DOC + "\nCookies last two hours.\n")
    repo.commit("Sessions docs", at(ADA, "2024-06-01"))
    await services.repositories.sync_now(repository.id)
    assert await services.trust.stale_links(repository_id=repository.id) == []

    # The code moves on again: the warning is back, counting only the newer commit.
    repo.write("src/shop/sessions.py", "class CookieSigner:\n    pass\n")
    newest = repo.commit("Simpler sessions", at(GRACE, "2024-07-01"))
    await services.repositories.sync_now(repository.id)
    (link,) = await services.trust.stale_links(repository_id=repository.id)
    assert (link["commits_since"], link["newest_commit"]) == (1, newest)


async def test_history_of_each_file_is_stored_for_ranking_people(
    services: Services, tmp_path: Path
) -> None:
    repo, commits = shop(tmp_path / "shop")
    repository = await services.repositories.store.create(
        name="shop-history", url=str(repo.path), branch="main", created_by="test"
    )
    await services.repositories.sync_now(repository.id)
    history = await services.trust.file_commits([(repository.id, "src/shop/sessions.py")])
    assert [(c.commit.sha, c.commit.author_name) for c in history] == [
        (commits[3], "pre-commit-ci[bot]"),
        (commits[2], "Grace Hopper"),
        (commits[1], "Grace Hopper"),
        (commits[0], "Ada Lovelace"),
    ]
    # An unchanged head is not read again.
    assert await services.trust.refreshed_at_commit(repository.id) == commits[-1]
