"""A source repository through the `git` CLI: a bare mirror under the data dir, fetched from the
team's remote, read by commit (trees, diffs, blobs, history). No hand-written git parsing beyond
the machine-readable (`-z`) output formats git documents for scripts.

Every call runs with no terminal prompt and only the `file` and `https` transports allowed, so a
repository URL can never run a command (`ext::`) or hang on a password prompt. A token for
private remotes travels in git's environment-provided config, never on a command line or in a
log.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from allin.errors import BadRequest, NotFound, Unavailable

logger = logging.getLogger(__name__)

# Generous: a first fetch of a large repository over a slow link takes minutes.
_FETCH_TIMEOUT_S = 900.0
_CALL_TIMEOUT_S = 120.0
_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$")
# Tree entry modes (`git ls-tree`): regular and executable files are indexed; symlinks are never
# followed and submodules belong to another repository.
FILE_MODES = {"100644", "100755"}
SYMLINK_MODE = "120000"
SUBMODULE_MODE = "160000"


class GitFailed(Unavailable):
    """git itself failed (a corrupt mirror, a full disk): a sync may succeed if retried."""


@dataclass(frozen=True, slots=True)
class TreeEntry:
    path: str
    mode: str
    sha: str
    size: int


@dataclass(frozen=True, slots=True)
class CommitInfo:
    sha: str
    committed_at: datetime
    author_name: str
    author_email: str


def normalize_url(location: str) -> str:
    """The fetchable form of a repository location: an absolute local path, a `file://` URL or
    an `https://` URL without credentials. Anything else is refused."""
    location = location.strip()
    if "\x00" in location or "\n" in location or not location:
        raise BadRequest("a repository location is a local path or a file:// or https:// URL")
    parts = urlsplit(location)
    if parts.scheme in ("https", "http"):
        if parts.username or parts.password:
            raise BadRequest(
                "put no credentials in the repository URL; set ALLIN_GIT_TOKEN for private remotes"
            )
        if parts.scheme == "http":
            raise BadRequest("plain http is not allowed for repositories; use https")
        return location
    if parts.scheme == "file":
        path = Path(parts.path)
    elif parts.scheme == "" or re.fullmatch(r"[A-Za-z]", parts.scheme):
        path = Path(location)
    else:
        raise BadRequest(
            f"unsupported repository location {location!r}: use a local path, file:// or https://"
        )
    path = path.expanduser().resolve()
    if not path.exists():
        raise NotFound(f"no repository at {path}")
    return str(path)


def check_branch(branch: str) -> str:
    if not _BRANCH.fullmatch(branch) or branch.endswith((".lock", "/", ".")):
        raise BadRequest(f"invalid branch name {branch!r}")
    return branch


class Git:
    """Runs git against one bare mirror (`git_dir`) with the safe environment above."""

    def __init__(self, git_dir: Path, token: str | None = None) -> None:
        self.git_dir = git_dir
        self._env = _environment(token)

    async def run(self, *args: str, limit_s: float = _CALL_TIMEOUT_S) -> bytes:
        process = await asyncio.create_subprocess_exec(
            "git",
            "--git-dir",
            str(self.git_dir),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), limit_s)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise GitFailed(f"git {args[0]} took longer than {limit_s:.0f} s") from None
        except asyncio.CancelledError:
            process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            raise _GitExit(args[0], process.returncode or 1, err.decode(errors="replace"))
        return out

    async def ensure_mirror(self) -> None:
        if not (self.git_dir / "HEAD").exists():
            # The team's code, private like the rest of the data dir.
            self.git_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.git_dir.mkdir(mode=0o700, exist_ok=True)
            await self.run("init", "--bare", "--quiet")

    async def default_branch(self, url: str) -> str:
        try:
            out = await self.run("ls-remote", "--symref", url, "HEAD", limit_s=_FETCH_TIMEOUT_S)
        except _GitExit as exc:
            raise _remote_error(url, exc) from None
        for line in out.decode(errors="replace").splitlines():
            if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                return line[len("ref: refs/heads/") : -len("\tHEAD")]
        raise BadRequest(f"{url} is an empty repository (it has no branch yet)")

    async def fetch(self, url: str, branch: str) -> str:
        """Fetch `branch` from `url` into the mirror (history rewritten upstream is taken as
        is: `+`) and return its head commit."""
        await self.ensure_mirror()
        ref = f"refs/heads/{branch}"
        try:
            await self.run(
                "fetch", "--no-tags", "--quiet", url, f"+{ref}:{ref}", limit_s=_FETCH_TIMEOUT_S
            )
        except _GitExit as exc:
            if "couldn't find remote ref" in exc.stderr:
                raise NotFound(f"{url} has no branch {branch!r}") from None
            raise _remote_error(url, exc) from None
        return (await self.run("rev-parse", "--verify", f"{ref}^{{commit}}")).decode().strip()

    async def has_commit_prefix(self, prefix: str) -> bool:
        """Whether `prefix` (7 to 40 hex digits) names a commit of the mirror."""
        if not re.fullmatch(r"[0-9a-f]{7,40}", prefix) or not (self.git_dir / "HEAD").exists():
            return False
        try:
            await self.run("cat-file", "-e", f"{prefix}^{{commit}}")
        except _GitExit:
            return False
        return True

    async def resolve(self, prefix: str) -> str:
        try:
            out = await self.run("rev-parse", "--verify", "--quiet", f"{prefix}^{{commit}}")
        except _GitExit:
            raise NotFound(f"no commit {prefix!r} in this repository") from None
        return out.decode().strip()

    async def is_ancestor(self, old: str, new: str) -> bool:
        try:
            await self.run("merge-base", "--is-ancestor", old, new)
        except _GitExit as exc:
            if exc.returncode == 1:
                return False
            raise
        return True

    async def commit(self, sha: str) -> CommitInfo:
        out = await self.run("show", "-s", "--format=%H%x1f%cI%x1f%an%x1f%ae", sha)
        return _commit_info(out.decode(errors="replace").strip())

    async def tree(self, commit: str) -> list[TreeEntry]:
        out = await self.run("ls-tree", "-r", "-z", "--long", "--full-tree", commit)
        entries = []
        for record in out.split(b"\x00"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, _kind, sha, size = meta.decode().split(maxsplit=3)
            entries.append(
                TreeEntry(
                    path=raw_path.decode(errors="surrogateescape"),
                    mode=mode,
                    sha=sha,
                    size=int(size) if size.strip().isdigit() else 0,
                )
            )
        return entries

    async def last_commits(
        self, commit: str, paths: Sequence[str], since: str | None = None
    ) -> dict[str, CommitInfo]:
        """The newest commit reachable from `commit` (after `since`, if given) that changed each
        of `paths`; one pass over the history, stopped as soon as every path is found."""
        wanted = set(paths)
        found: dict[str, CommitInfo] = {}
        if not wanted:
            return found
        revision = f"{since}..{commit}" if since else commit
        async for info, files in self._log(revision):
            for path in files:
                if path in wanted and path not in found:
                    found[path] = info
            if len(found) == len(wanted):
                break
        return found

    def history(self, revision: str) -> AsyncIterator[tuple[CommitInfo, list[str]]]:
        """Every commit reachable from `revision` (`a..b` allowed), newest first, with the paths
        it changed (renames as a delete and an add): `git log --name-only -z`, streamed."""
        return self._log(revision)

    async def _log(self, revision: str) -> AsyncIterator[tuple[CommitInfo, list[str]]]:
        process = await asyncio.create_subprocess_exec(
            "git",
            "--git-dir",
            str(self.git_dir),
            "log",
            "--no-renames",
            "--format=%x1e%H%x1f%cI%x1f%an%x1f%ae",
            "--name-only",
            "-z",
            revision,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=self._env,
        )
        assert process.stdout is not None
        buffer = b""
        try:
            while True:
                data = await process.stdout.read(1 << 16)
                buffer += data
                records = buffer.split(b"\x1e")
                buffer = records.pop() if data else b""
                for record in records:
                    if record:
                        yield _log_record(record)
                if not data:
                    if buffer:
                        yield _log_record(buffer)
                    break
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()

    async def blobs(self, shas: Sequence[str]) -> AsyncIterator[tuple[str, bytes]]:
        """Blob contents in the order asked, through one `git cat-file --batch`."""
        process = await asyncio.create_subprocess_exec(
            "git",
            "--git-dir",
            str(self.git_dir),
            "cat-file",
            "--batch",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=self._env,
        )
        assert process.stdin is not None and process.stdout is not None
        stdin, stdout = process.stdin, process.stdout

        async def ask() -> None:
            # Written from a task of its own: git answers while it reads, and a full pipe in
            # both directions would deadlock.
            for sha in shas:
                stdin.write(f"{sha}\n".encode())
                await stdin.drain()
            stdin.close()

        writer = asyncio.create_task(ask())
        try:
            for sha in shas:
                header = (await stdout.readline()).decode().split()
                if len(header) != 3:
                    raise GitFailed(f"git cat-file could not read object {sha}")
                data = await stdout.readexactly(int(header[2]) + 1)
                yield sha, data[:-1]
            await writer
        finally:
            writer.cancel()
            if process.returncode is None:
                process.kill()
            await process.wait()

    async def show(self, commit: str, path: str) -> bytes:
        try:
            return await self.run("show", f"{commit}:{path}")
        except _GitExit:
            raise NotFound(f"{path} does not exist at {commit[:12]}") from None


class _GitExit(GitFailed):
    def __init__(self, command: str, returncode: int, stderr: str) -> None:
        super().__init__(f"git {command} failed: {stderr.strip()[:300]}")
        self.returncode = returncode
        self.stderr = stderr


def _remote_error(url: str, exc: _GitExit) -> Exception:
    text = exc.stderr.lower()
    if "not a git repository" in text or "does not appear to be a git repository" in text:
        return BadRequest(f"{url} is not a git repository")
    if "could not resolve" in text or "failed to connect" in text or "unable to access" in text:
        return Unavailable(f"{url} is unreachable: {exc.stderr.strip()[:200]}")
    if "authentication" in text or "could not read username" in text:
        return BadRequest(f"{url} refused access: set ALLIN_GIT_TOKEN for private remotes")
    return BadRequest(f"cannot fetch {url}: {exc.stderr.strip()[:200]}")


def _commit_info(header: str) -> CommitInfo:
    sha, date, name, email = header.split("\x1f", 3)
    return CommitInfo(sha, datetime.fromisoformat(date), name, email)


def _log_record(record: bytes) -> tuple[CommitInfo, list[str]]:
    header, _, names = record.partition(b"\x00")
    files = [
        name.decode(errors="surrogateescape") for name in names.lstrip(b"\n").split(b"\x00") if name
    ]
    return _commit_info(header.decode(errors="replace")), files


def _environment(token: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")
    }
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_ALLOW_PROTOCOL="file:https",
        GIT_CONFIG_NOSYSTEM="1",
        # A mirror owned by another user (the app run as root, the CLI not) is still ours.
        GIT_CONFIG_COUNT="1",
        GIT_CONFIG_KEY_0="safe.directory",
        GIT_CONFIG_VALUE_0="*",
    )
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env.update(
            GIT_CONFIG_COUNT="2",
            GIT_CONFIG_KEY_1="http.extraHeader",
            GIT_CONFIG_VALUE_1=f"Authorization: Basic {basic}",
        )
    return env
