"""Decompression and page bombs: a few kilobytes of DOCX or PDF built to inflate to gigabytes,
thousands of pages or minutes of parsing are refused as `too_large`, naming the setting they
exceed, quickly and without the server's memory growing; a parser that runs out of memory or
time is a child process that dies alone; other users' chats stay fast meanwhile."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from multiprocessing import forkserver

import docx
import psutil
import pytest
from websockets.asyncio.client import connect

from allin.app import create_app
from allin.errors import TooLarge
from allin.rag.limits import DocumentLimits
from allin.rag.sandbox import _CONTEXT, prepare, prepare_isolated
from tests.api.test_documents import upload
from tests.conftest import make_settings, new_database, ws_url
from tests.support import bombs
from tests.support.accounts import sign_up
from tests.support.servers import serve_ready
from tests.support.wsclient import next_frame, send

# Generous bounds for a loaded 2-core machine: the unprotected parser took minutes and gigabytes.
REFUSED_WITHIN_S = 30
RSS_GROWTH_MB = 250
FIRST_TOKEN_WITHIN_S = 10

PERMISSIVE = DocumentLimits(
    uncompressed_bytes=10**11,
    compression_ratio=10**9,
    pages=10**7,
    chars=10**10,
    chunks=10**8,
)

# 81 MB of document.xml in about 250 KB.
DOCX_BOMB = bombs.docx("All work and no play.", 1_500_000)
# 10,000 pages in about a kilobyte.
PAGE_TREE_BOMB = bombs.page_tree_pdf(fanout=10, levels=4)
# 100,000 pages in about a kilobyte: a minute or more of text extraction once the page limit is
# lifted, for the tests of the time limit.
SLOW_BOMB = bombs.page_tree_pdf(fanout=10, levels=5)
# 4 MB of drawing operators in about 14 KB.
FLATE_BOMB = bombs.flate_pdf(4_000_000)


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def refused(name: str, data: bytes, limits: DocumentLimits) -> str:
    with pytest.raises(TooLarge) as caught:
        prepare(name, data, 512, 64, limits)
    return caught.value.message


# --- the static limits, in process ---------------------------------------------------------------


def test_docx_bomb_is_refused_by_its_declared_sizes_before_inflating() -> None:
    started, before = time.monotonic(), rss_mb()
    message = refused("bomb.docx", DOCX_BOMB, DocumentLimits())
    assert "ALLIN_MAX_DOCUMENT_UNCOMPRESSED_BYTES" in message and "word/document.xml" in message
    assert time.monotonic() - started < 5 and rss_mb() - before < 50


def test_docx_that_inflates_too_many_times_is_refused() -> None:
    # 2.7 MB of XML from a few kilobytes: under the byte limit, far over the ratio.
    message = refused("ratio.docx", bombs.docx("All work and no play.", 50_000), DocumentLimits())
    assert "ALLIN_MAX_DOCUMENT_COMPRESSION_RATIO" in message


def test_pdf_page_tree_repeating_one_page_is_refused() -> None:
    started = time.monotonic()
    message = refused("tree.pdf", PAGE_TREE_BOMB, DocumentLimits())
    assert "ALLIN_MAX_DOCUMENT_PAGES" in message and "more than 2,000 pages" in message
    assert time.monotonic() - started < 5


def test_pdf_with_more_pages_than_the_limit_is_refused() -> None:
    message = refused("long.pdf", bombs.pages_pdf(30, "Page text."), DocumentLimits(pages=10))
    assert "30 pages" in message and "ALLIN_MAX_DOCUMENT_PAGES" in message


def test_pdf_flate_bomb_is_refused_before_its_text_is_extracted() -> None:
    started = time.monotonic()
    message = refused("flate.pdf", FLATE_BOMB, DocumentLimits())
    assert "ALLIN_MAX_DOCUMENT_COMPRESSION_RATIO" in message
    assert time.monotonic() - started < 5


def test_pypdf_limit_errors_are_too_large_not_internal() -> None:
    # pypdf itself stops inflating the stream past our byte limit (LimitReachedError).
    limits = DocumentLimits(uncompressed_bytes=1_000_000)
    message = refused("flate.pdf", FLATE_BOMB, limits)
    assert "pypdf" in message and "ALLIN_MAX_DOCUMENT_UNCOMPRESSED_BYTES" in message


def test_text_and_chunk_limits() -> None:
    text = b"".join(b"Paragraph %d says something worth reading.\n\n" % n for n in range(500))
    message = refused("long.md", text, DocumentLimits(chars=10_000))
    assert "ALLIN_MAX_DOCUMENT_CHARS" in message
    message = refused("long.md", text, DocumentLimits(chunks=3))
    assert "ALLIN_MAX_DOCUMENT_CHUNKS" in message
    docx_text = bombs.docx("Some words in a paragraph.", 2_000)
    assert "ALLIN_MAX_DOCUMENT_CHARS" in refused("long.docx", docx_text, DocumentLimits(chars=1000))


# --- the parser process: memory and time ----------------------------------------------------------


def test_parser_process_loads_no_model() -> None:
    receiving, sending = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=bombs.report_heavy_modules, args=(sending,))
    process.start()
    sending.close()
    assert receiving.poll(60)
    assert receiving.recv() == []
    process.join(10)


def test_memory_bomb_kills_only_the_parser_process() -> None:
    limits = DocumentLimits(
        **{**_fields(PERMISSIVE), "parser_memory_bytes": 512 * 2**20, "parse_timeout_s": 300}
    )
    before = rss_mb()
    with pytest.raises(TooLarge) as caught:
        prepare_isolated("bomb.docx", DOCX_BOMB, 512, 64, limits)
    assert "ALLIN_DOCUMENT_PARSER_MEMORY_BYTES" in caught.value.message
    assert rss_mb() - before < RSS_GROWTH_MB


def test_slow_document_is_killed_at_the_time_limit() -> None:
    limits = DocumentLimits(**{**_fields(PERMISSIVE), "parse_timeout_s": 2})
    started = time.monotonic()
    with pytest.raises(TooLarge) as caught:
        prepare_isolated("tree.pdf", SLOW_BOMB, 512, 64, limits)
    assert "ALLIN_DOCUMENT_PARSE_TIMEOUT_S" in caught.value.message
    assert time.monotonic() - started < 2 + 15
    # The killed parser is gone (the fork server reaps its children).
    fork_server = psutil.Process(forkserver._forkserver._forkserver_pid)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while fork_server.children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fork_server.children() == []


def test_an_ordinary_document_parses_in_the_parser_process() -> None:
    prepared = prepare_isolated("ok.pdf", bombs.pages_pdf(3, "Hello there."), 512, 64, PERMISSIVE)
    assert prepared.format.name == "pdf" and [c.page for c in prepared.chunks] == [1, 2, 3]


def test_a_lost_fork_server_is_started_again() -> None:
    prepare_isolated("a.md", b"# A\n\nText.\n", 512, 64, PERMISSIVE)
    pid = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    server = psutil.Process(pid)
    server.kill()
    # Dead but not reaped: multiprocessing reaps it when it next needs the server.
    deadline = time.monotonic() + 10
    while server.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.05)
    prepared = prepare_isolated("b.md", b"# B\n\nText.\n", 512, 64, PERMISSIVE)
    assert prepared.chunks and forkserver._forkserver._forkserver_pid != pid  # type: ignore[attr-defined]


def _fields(limits: DocumentLimits) -> dict[str, float]:
    return {name: getattr(limits, name) for name in DocumentLimits.__slots__}


# --- over HTTP, on the real app -------------------------------------------------------------------


async def test_bombs_uploaded_are_refused_without_the_server_growing(live_server: str) -> None:
    account = await sign_up(live_server)
    # Warm up the upload path (the embedder loads on the first upload of a run).
    assert (
        await upload(live_server, account, [("warm.md", b"# Warm\n\nUp.\n")])
    ).status_code == 200
    for name, data, setting in [
        ("bomb.docx", DOCX_BOMB, "ALLIN_MAX_DOCUMENT_UNCOMPRESSED_BYTES"),
        ("tree.pdf", PAGE_TREE_BOMB, "ALLIN_MAX_DOCUMENT_PAGES"),
        ("flate.pdf", FLATE_BOMB, "ALLIN_MAX_DOCUMENT_COMPRESSION_RATIO"),
    ]:
        started, before = time.monotonic(), rss_mb()
        response = await upload(live_server, account, [(name, data)])
        assert response.status_code == 207, response.text
        result = response.json()["files"][0]
        assert result["error"] == "too_large" and setting in result["detail"], result
        assert time.monotonic() - started < REFUSED_WITHIN_S
        assert rss_mb() - before < RSS_GROWTH_MB


async def test_ordinary_documents_still_ingest(live_server: str) -> None:
    account = await sign_up(live_server)
    document = docx.Document()
    document.add_heading("Onboarding", level=1)
    document.add_paragraph("New engineers get a laptop and a buddy on their first day.")
    word = io.BytesIO()
    document.save(word)
    files = [("onboarding.docx", word.getvalue()), ("pages.pdf", bombs.pages_pdf(3, "Hello."))]
    response = await upload(live_server, account, files)
    assert response.status_code == 200, response.text
    assert [f["status"] for f in response.json()["files"]] == ["indexed", "indexed"]
    assert [f["document"]["chunk_count"] for f in response.json()["files"]] == [1, 3]


@pytest.fixture(scope="module")
def patient_server(postgres: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An app whose static limits let every bomb through to the parser process, which has a
    512 MiB address space and a few seconds."""
    settings = make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("bombs"),
        max_document_uncompressed_bytes=PERMISSIVE.uncompressed_bytes,
        max_document_compression_ratio=PERMISSIVE.compression_ratio,
        max_document_pages=PERMISSIVE.pages,
        max_document_chars=PERMISSIVE.chars,
        max_document_chunks=PERMISSIVE.chunks,
        document_parse_timeout_s=8,
        document_parser_memory_bytes=512 * 2**20,
    )
    with serve_ready(create_app(settings)) as url:
        yield url


async def test_chat_stays_fast_while_a_bomb_is_parsed(patient_server: str) -> None:
    owner, other = await sign_up(patient_server), await sign_up(patient_server)
    warm = await upload(patient_server, owner, [("warm.md", b"# Warm\n\nUp.\n")])
    assert warm.status_code == 200, warm.text
    before = rss_mb()
    started = time.monotonic()
    bomb = asyncio.create_task(upload(patient_server, owner, [("tree.pdf", SLOW_BOMB)]))
    await asyncio.sleep(1)
    async with connect(ws_url(patient_server, other, "meanwhile")) as socket:
        asked = time.monotonic()
        await send(socket, type="message", id="m1", content="What is the onboarding process?")
        while (frame := await next_frame(socket))["type"] not in ("token", "error", "done"):
            pass
        first_token_s = time.monotonic() - asked
    assert frame["type"] == "token", frame
    assert first_token_s < FIRST_TOKEN_WITHIN_S
    assert not bomb.done(), "the bomb was refused before the chat turn: nothing was measured"
    response = await bomb
    result = response.json()["files"][0]
    assert result["error"] == "too_large", result
    assert "ALLIN_DOCUMENT_PARSE_TIMEOUT_S" in result["detail"]
    assert time.monotonic() - started < 8 + REFUSED_WITHIN_S
    assert rss_mb() - before < RSS_GROWTH_MB


async def test_memory_bomb_upload_costs_only_the_parser_process(patient_server: str) -> None:
    account = await sign_up(patient_server)
    before, started = rss_mb(), time.monotonic()
    response = await upload(patient_server, account, [("bomb.docx", DOCX_BOMB)])
    result = response.json()["files"][0]
    assert result["error"] == "too_large", result
    assert "ALLIN_DOCUMENT_PARSER_MEMORY_BYTES" in result["detail"]
    assert time.monotonic() - started < REFUSED_WITHIN_S
    assert rss_mb() - before < RSS_GROWTH_MB
    # The server goes on: the next document is parsed by a new process.
    ok = await upload(patient_server, account, [("after.md", b"# After\n\nStill here.\n")])
    assert ok.json()["files"][0]["status"] == "indexed", ok.text
