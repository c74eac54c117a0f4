"""Syncing a real git repository into the real database: what is indexed and skipped, what a
later sync re-embeds, and that a failed sync leaves the previous index whole."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from allin.embeddings.base import Embedded, Embedder
from allin.errors import BadRequest, NotFound, Unavailable
from allin.policies import source_policy
from allin.rag.hybrid import Scope
from allin.services import Services
from tests.conftest import services_of_their_own
from tests.support.gitrepo import GitRepo

SESSIONS = '''"""Sessions for the shop."""

import hmac


class CookieSigner:
    """Signs the session cookie so that clients cannot forge it."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def sign_cookie(self, value: bytes) -> bytes:
        digest = hmac.new(self.secret, value, "sha256").hexdigest()
        return value + b"." + digest.encode()


def get_cookie_name(app):
    """The session cookie's name comes from the app's config."""
    return app.config["SESSION_COOKIE_NAME"]
'''

SETUP = """# Setting up

Install the project with `pip install -e .` and run the tests with `pytest`.

## Deploying

Deploys go through the release pipeline every Tuesday.
"""


def sample(path: Path) -> GitRepo:
    repo = GitRepo(path)
    repo.write("src/shop/sessions.py", SESSIONS)
    repo.write("src/shop/cart.py", "def add_item(cart, item):\n    cart.append(item)\n")
    repo.write("src/shop/__init__.py", "")
    repo.write("docs/setup.md", SETUP)
    repo.write("assets/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    repo.write("node_modules/left-pad/index.js", "module.exports = (s) => s;\n")
    repo.write("data/huge.txt", "line of text\n" * 3000)
    (repo.path / "outside").symlink_to("/etc/passwd")
    repo.commit("The shop")
    return repo


class FailingEmbedder:
    """The app's embedder, failing after `good_calls` calls, as a model server going away."""

    def __init__(self, real: Embedder, good_calls: int) -> None:
        self._real = real
        self.calls = 0
        self._good_calls = good_calls
        self.name, self.dimension = real.name, real.dimension

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self._call()
        return await self._real.embed_documents(texts)

    async def embed_with_tokens(self, texts: Sequence[str]) -> list[Embedded]:
        self._call()
        return await self._real.embed_with_tokens(texts)  # type: ignore[attr-defined,no-any-return]

    def _call(self) -> None:
        self.calls += 1
        if self.calls > self._good_calls:
            raise Unavailable("the embedding server went away")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.fixture(scope="module")
async def services(
    postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    async with services_of_their_own(
        postgres, tmp_path_factory.mktemp("data"), memory=False, repo_max_file_bytes=20_000
    ) as started:
        yield started


async def add(services: Services, repo: GitRepo, name: str) -> str:
    repository = await services.repositories.store.create(
        name=name, url=str(repo.path), branch="main", created_by="test"
    )
    return repository.id


async def chunk_ids(services: Services, repository_id: str) -> dict[str, set[int]]:
    async with services.db.pool.connection() as conn:
        cursor = await conn.execute(
            "select d.name, c.id from document_chunks c join documents d on d.id = c.document_id"
            " where d.repository_id = %s",
            (repository_id,),
        )
        found: dict[str, set[int]] = {}
        for row in await cursor.fetchall():
            found.setdefault(row["name"], set()).add(row["id"])
        return found


async def test_first_sync_indexes_code_and_docs_and_reports_what_it_skipped(
    services: Services, tmp_path: Path
) -> None:
    repo = sample(tmp_path / "shop")
    repository_id = await add(services, repo, "shop")

    report = await services.repositories.sync_now(repository_id)

    assert report["mode"] == "full" and report["reason"] == "first sync"
    assert report["indexed"] == 3
    assert report["skipped"] == {
        "empty": 1,
        "symlink": 1,
        "too_large": 1,
        "unsupported": 1,
        "vendored": 1,
    }
    assert report["removed"] == 0
    assert report["skipped_examples"]["symlink"] == ["outside"]
    repository = await services.repositories.store.get(repository_id)
    assert repository.status == "ready" and repository.head_commit == repo.head()
    assert repository.file_count == 3 and repository.chunk_count >= 3

    passages = await services.retriever.search(Scope("anyone"), "how is the session cookie signed")
    top = passages[0]
    assert top.repository == "shop" and top.document_name == "src/shop/sessions.py"
    assert top.start_line is not None and top.end_line is not None
    lines = SESSIONS.splitlines()[top.start_line - 1 : top.end_line]
    assert top.content.strip() == "\n".join(lines).strip()
    assert top.commit_sha == repo.head()
    assert top.location.startswith("shop › src/shop/sessions.py:L")

    # Identifiers are found however they are written.
    for spelling in ("getCookieName", "get cookie name", "GetCookieName"):
        found = await services.retriever.search(Scope("anyone"), spelling)
        assert any("def get_cookie_name" in p.content for p in found[:3]), spelling

    # A repository's files are not listed among anyone's documents.
    assert await services.documents.visible(Scope("anyone")) == []

    # Only prose keeps token vectors: the reranker never reorders code.
    files = await chunk_ids(services, repository_id)
    stored = await services.documents.chunk_tokens(
        [chunk for chunks in files.values() for chunk in chunks], services.embedder.name
    )
    assert set(stored) == files["docs/setup.md"]


async def test_a_later_sync_embeds_only_what_changed_and_moves_renamed_files(
    services: Services, tmp_path: Path
) -> None:
    repo = sample(tmp_path / "shop2")
    repository_id = await add(services, repo, "shop2")
    await services.repositories.sync_now(repository_id)
    before = await chunk_ids(services, repository_id)

    repo.write("src/shop/cart.py", "def add_item(cart, item):\n    cart.insert(0, item)\n")
    repo.write("src/shop/prices.py", "def total(cart):\n    return sum(i.price for i in cart)\n")
    repo.git("mv", "docs/setup.md", "docs/getting-started.md")
    repo.git("rm", "-q", "src/shop/sessions.py")
    second = repo.commit(
        "Prices; the cart puts new items first",
        author={"GIT_AUTHOR_NAME": "Grace Hopper", "GIT_AUTHOR_EMAIL": "grace@example.com"},
    )

    report = await services.repositories.sync_now(repository_id)

    assert report["mode"] == "incremental"
    assert (report["indexed"], report["moved"], report["removed"]) == (2, 1, 1)
    assert report["embedded_chunks"] == 2
    after = await chunk_ids(services, repository_id)
    assert set(after) == {"src/shop/cart.py", "src/shop/prices.py", "docs/getting-started.md"}
    # Moved, not embedded again: the same chunks under the new name.
    assert after["docs/getting-started.md"] == before["docs/setup.md"]
    assert after["src/shop/cart.py"].isdisjoint(before["src/shop/cart.py"])
    file = await services.repositories.store.file_at(repository_id, "src/shop/prices.py")
    assert file["commit_sha"] == second and file["author_name"] == "Grace Hopper"

    again = await services.repositories.sync_now(repository_id)
    assert again["mode"] == "unchanged"


# As an index made before TOML files were cut at their tables left a TOML file (read as text),
# or before files recorded how they were cut.
@pytest.mark.parametrize(
    ("column", "path"), [("language", "pyproject.toml"), ("chunking", "src/shop/sessions.py")]
)
async def test_a_file_read_or_cut_another_way_since_it_was_indexed_is_indexed_again(
    services: Services, tmp_path: Path, column: str, path: str
) -> None:
    repo = sample(tmp_path / "shop-again")
    repo.write(
        "pyproject.toml", '[project]\nname = "shop"\n\n[project.scripts]\nshop = "shop:main"\n'
    )
    repo.commit("Packaging")
    repository_id = await add(services, repo, f"shop-{column}")
    await services.repositories.sync_now(repository_id)
    before = await chunk_ids(services, repository_id)
    recorded = (await services.repositories.store.file_at(repository_id, path))[column]
    assert recorded in ("toml", source_policy(services.settings).chunking)
    async with services.db.pool.connection() as conn:
        await conn.execute(
            sql.SQL(
                "update repository_files set {} = null where repository_id = %s and path = %s"
            ).format(sql.Identifier(column)),
            (repository_id, path),
        )

    report = await services.repositories.sync_now(repository_id)

    assert report["mode"] == "incremental"
    assert (report["indexed"], report["unchanged"]) == (1, 3)
    after = await chunk_ids(services, repository_id)
    assert after[path].isdisjoint(before[path])
    assert all(after[other] == before[other] for other in before if other != path)
    assert (await services.repositories.store.file_at(repository_id, path))[column] == recorded
    assert (await services.repositories.sync_now(repository_id))["mode"] == "unchanged"


async def test_rewritten_history_resyncs_from_scratch_without_embedding_unchanged_files(
    services: Services, tmp_path: Path
) -> None:
    repo = sample(tmp_path / "shop3")
    repository_id = await add(services, repo, "shop3")
    await services.repositories.sync_now(repository_id)
    repo.write("src/shop/cart.py", "def add_item(cart, item):\n    cart.append(item)  # amended\n")
    repo.git("commit", "--quiet", "-a", "--amend", "-m", "The shop, amended")

    report = await services.repositories.sync_now(repository_id)

    assert report["mode"] == "full" and report["reason"].startswith("history rewritten")
    assert report["indexed"] == 1 and report["embedded_chunks"] == 1
    repository = await services.repositories.store.get(repository_id)
    assert repository.head_commit == repo.head()


async def test_a_failed_sync_keeps_the_previous_index_and_a_retry_reuses_its_work(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo(tmp_path / "many")
    for n in range(150):
        repo.write(f"pkg/module_{n:03}.py", f"def function_{n}(value):\n    return value * {n}\n")
    first = repo.commit("Many modules")
    repository_id = await add(services, repo, "many")
    await services.repositories.sync_now(repository_id)
    for n in range(150):
        repo.write(f"pkg/module_{n:03}.py", f"def function_{n}(value):\n    return value + {n}\n")
    repo.commit("Add instead of multiply")

    sync = services.repositories._sync
    failing = FailingEmbedder(sync._embedder, good_calls=1)
    monkeypatch.setattr(sync, "_embedder", failing)
    with pytest.raises(Unavailable):
        await services.repositories.sync_now(repository_id)

    repository = await services.repositories.store.get(repository_id)
    assert repository.status == "failed" and "went away" in (repository.error or "")
    assert repository.head_commit == first
    passages = await services.retriever.search(Scope("anyone"), "function_7 multiply value")
    assert any("value * 7" in p.content for p in passages)
    assert not any("value + " in p.content for p in passages)

    monkeypatch.setattr(sync, "_embedder", failing._real)
    report = await services.repositories.sync_now(repository_id)
    assert report["indexed"] == 150
    # The files staged before the failure were not embedded again.
    assert report["embedded_chunks"] == 150 - 64
    assert sum(len(ids) for ids in (await chunk_ids(services, repository_id)).values()) == 150


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("/no/such/repository", NotFound),
        ("ext::sh -c touch% /tmp/pwned", BadRequest),
        ("https://user:secret@example.com/repo.git", BadRequest),
        ("http://example.com/repo.git", BadRequest),
    ],
)
async def test_locations_that_cannot_be_repositories_are_refused(
    services: Services, location: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await services.repositories.add("test", location, None, None)


async def test_a_folder_that_is_not_a_repository_an_empty_one_and_a_missing_branch(
    services: Services, tmp_path: Path
) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(BadRequest, match="not a git repository"):
        await services.repositories.add("test", str(tmp_path / "plain"), None, None)
    GitRepo(tmp_path / "empty")
    with pytest.raises(BadRequest, match="empty repository"):
        await services.repositories.add("test", str(tmp_path / "empty"), None, None)
    repo = sample(tmp_path / "branches")
    queued = await services.repositories.add("test", str(repo.path), "branches", "nope")
    with pytest.raises(NotFound, match="no branch 'nope'"):
        await services.repositories.sync_now(queued.repository.id)
    repository = await services.repositories.store.get(queued.repository.id)
    assert repository.status == "failed" and "nope" in (repository.error or "")
