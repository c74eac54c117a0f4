"""An uploaded document that describes a repository gets the warnings of the repository's own
pages: code of it the document names that changed after the document's upload is flagged with
the newest commit, computed when the document is uploaded or linked and kept current by syncs;
a citation and the passage view carry them. Real git repository, real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from allin.auth.principal import Principal
from allin.errors import Forbidden, NotFound
from allin.rag.document_records import Document
from allin.rag.ingest import IngestOutcome
from allin.services import Services
from allin.sources.repository_records import Repository
from allin.trust.warnings import CitedDocument
from tests.conftest import services_of_their_own
from tests.trust.shop import ADA, GRACE, SESSIONS_DOC, shop, tomorrow
from tests.trust.test_answering import answer

WIKI = SESSIONS_DOC.replace("# Sessions", "# Sessions (copied from the shop's docs)").encode()
OWNER = Principal("u-wiki")


@pytest.fixture(scope="module")
async def services(
    postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    async with services_of_their_own(
        postgres, tmp_path_factory.mktemp("data"), memory=False, trust_abstain_below=0.35
    ) as started:
        yield started


async def synced(services: Services, path: Path, name: str) -> tuple[Repository, Any]:
    repo, _ = shop(path)
    repository = await services.repositories.store.create(
        name=name, url=str(repo.path), branch="main", created_by="test"
    )
    await services.repositories.sync_now(repository.id)
    return repository, repo


async def upload(
    services: Services,
    principal: Principal,
    name: str,
    data: bytes,
    *,
    shared: bool = False,
    describes: str | None = None,
) -> Document:
    """An upload, once its ingestion job has indexed it."""
    submitted = await services.library.submit(principal, name, data, shared, describes)
    if isinstance(submitted, IngestOutcome):
        assert submitted.document is not None, submitted
        return submitted.document
    document = (await services.library.settle([submitted.id], timeout_s=120))[submitted.id]
    assert document.ingest_status == "indexed", document
    return document


async def warnings(services: Services, document: Document) -> list[tuple[str, int, str]]:
    cited = CitedDocument(document.id, document.name, None, document.format)
    notes = (await services.stale_warnings.of([cited])).get(document.id, [])
    return [(n.code_path, n.commits_since, n.newest_commit) for n in notes]


async def test_an_upload_naming_a_repository_is_warned_when_its_code_changes(
    services: Services, tmp_path: Path
) -> None:
    repository, repo = await synced(services, tmp_path / "shop", "shop-described")
    document = await upload(services, OWNER, "wiki/sessions.md", WIKI, describes=repository.id)
    assert document.describes_repository == repository.id
    # Every commit of the shop is older than the upload: nothing to warn about.
    assert await warnings(services, document) == []

    repo.write("src/shop/sessions.py", "class CookieSigner:\n    salt = 'v2'\n")
    first = repo.commit("Salt the signer", tomorrow(GRACE))
    await services.repositories.sync_now(repository.id)
    assert await warnings(services, document) == [("src/shop/sessions.py", 1, first)]

    repo.write("src/shop/sessions.py", "class CookieSigner:\n    salt = 'v3'\n")
    second = repo.commit("Salt again", tomorrow(ADA))
    await services.repositories.sync_now(repository.id)
    assert await warnings(services, document) == [("src/shop/sessions.py", 2, second)]

    # Uploading it again keeps the link (and the code is still newer than the document).
    again = await upload(services, OWNER, "wiki/sessions.md", WIKI + b"\nMore.\n")
    assert again.describes_repository == repository.id
    assert await warnings(services, document) == [("src/shop/sessions.py", 2, second)]

    # A citation of it carries the warning, as a repository page's does.
    done = await answer(services, OWNER.user_id, "Which setting names the session cookie?")
    cited = [c for c in done.citations if c.document_id == document.id]
    assert cited and cited[0].stale is not None
    assert (
        cited[0]
        .stale[0]
        .summary.startswith("may be out of date: src/shop/sessions.py changed in 2 commits since")
    )


async def test_a_document_linked_later_is_warned_at_once_and_unlinking_clears_it(
    services: Services, tmp_path: Path
) -> None:
    repository, repo = await synced(services, tmp_path / "shop", "shop-linked")
    repo.write("src/shop/sessions.py", "class CookieSigner:\n    pass\n")
    newest = repo.commit("Simpler sessions", tomorrow(GRACE))
    await services.repositories.sync_now(repository.id)
    document = await upload(services, OWNER, "notes/sessions.md", WIKI)
    assert document.describes_repository is None
    assert await warnings(services, document) == []

    linked = await services.library.describe(OWNER, document.id, repository.id)
    assert linked.describes_repository == repository.id
    assert await warnings(services, document) == [("src/shop/sessions.py", 1, newest)]

    # Someone else may not link it; a repository that does not exist is not found.
    with pytest.raises(NotFound):
        await services.library.describe(Principal("u-other"), document.id, None)
    with pytest.raises(NotFound):
        await services.library.describe(OWNER, document.id, "0000-missing")
    unlinked = await services.library.describe(OWNER, document.id, None)
    assert unlinked.describes_repository is None
    assert await warnings(services, document) == []


async def test_only_its_owner_or_an_admin_links_a_shared_document(
    services: Services, tmp_path: Path
) -> None:
    repository, _ = await synced(services, tmp_path / "shop", "shop-shared")
    admin = Principal("u-admin", is_admin=True)
    shared = await upload(services, admin, "team/sessions.md", WIKI, shared=True)
    with pytest.raises(Forbidden):
        await services.library.describe(Principal("u-member"), shared.id, repository.id)
    linked = await services.library.describe(admin, shared.id, repository.id)
    assert linked.describes_repository == repository.id
