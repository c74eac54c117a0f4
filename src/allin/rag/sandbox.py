"""Parsing and chunking an uploaded file in a throwaway process, so that a file built to exhaust
memory or time costs that process, never the server.

Each file gets a fresh child of a fork server (`multiprocessing`'s "forkserver" start method): the
fork server is a clean interpreter started once, with only this module (the parsers, not the
embedder or torch) imported, so a child starts in milliseconds. The child caps its own address
space (`RLIMIT_AS`) and sends back the chunks or the error; the parent kills it when it overruns
the wall-time limit. A child that runs out of memory, crashes or is killed gives `too_large`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

# Imported here so that the fork server has them loaded once, not every child.
import bs4  # noqa: F401
import docx  # noqa: F401
import pypdf  # noqa: F401

from allin.errors import AllinError, BadRequest, Internal, TooLarge
from allin.rag.chunking import Chunk, chunk_document
from allin.rag.formats import Format, parse
from allin.rag.limits import DocumentLimits, check_chunks, too_large

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])

# How long a child that has sent its result may take to exit before it is killed.
_EXIT_GRACE_S = 5.0
_ERRORS: dict[str, type[AllinError]] = {"too_large": TooLarge, "bad_request": BadRequest}


@dataclass(frozen=True, slots=True)
class Prepared:
    format: Format
    title: str | None
    chunks: list[Chunk]


def prepare(
    name: str, data: bytes, max_tokens: int, overlap_tokens: int, limits: DocumentLimits
) -> Prepared:
    """Parse and chunk `data` in this process, within the static limits (no memory or time cap)."""
    document_format, parsed = parse(name, data, limits)
    chunks = chunk_document(parsed, max_tokens, overlap_tokens)
    if not chunks:
        raise BadRequest(f"{name}: no text found (a scanned PDF without a text layer?)")
    check_chunks(name, len(chunks), limits)
    return Prepared(document_format, parsed.title, chunks)


def _memory_error(name: str, limits: DocumentLimits) -> TooLarge:
    return too_large(
        name,
        "reading it needs more memory than a parser may use",
        limits.parser_memory_bytes,
        "bytes",
        "document_parser_memory_bytes",
    )


def _near_memory_limit(limits: DocumentLimits) -> bool:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return peak > limits.parser_memory_bytes // 2


def _child(
    results: Connection,
    name: str,
    data: bytes,
    max_tokens: int,
    overlap_tokens: int,
    limits: DocumentLimits,
) -> None:
    # The tokenizer's thread pool would reserve address space per thread for nothing.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    resource.setrlimit(resource.RLIMIT_AS, (limits.parser_memory_bytes, limits.parser_memory_bytes))
    message: tuple[Any, ...]
    try:
        message = ("ok", prepare(name, data, max_tokens, overlap_tokens, limits))
    except MemoryError:
        message = ("error", "too_large", _memory_error(name, limits).message)
    except AllinError as error:
        message = ("error", error.code, error.message)
    except BaseException as exc:
        if _near_memory_limit(limits):
            # C parsers report a failed allocation their own way (lxml: "XMLSyntaxError:
            # unknown error"); having used most of the budget, this one ran out of memory.
            message = ("error", "too_large", _memory_error(name, limits).message)
        else:  # reported to the parent, which logs it
            message = ("crash", f"{type(exc).__name__}: {exc}")
    try:
        results.send(message)
    except MemoryError:
        results.send(("error", "too_large", _memory_error(name, limits).message))
    results.close()


def prepare_isolated(
    name: str, data: bytes, max_tokens: int, overlap_tokens: int, limits: DocumentLimits
) -> Prepared:
    """`prepare` in a fresh child process with the memory and wall-time limits; blocking (run it
    in a thread)."""
    receiving, sending = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(
        target=_child,
        args=(sending, name, data, max_tokens, overlap_tokens, limits),
        name=f"allin-parser {name}"[:60],
        daemon=True,
    )
    started = time.monotonic()
    message: tuple[Any, ...] | None = None
    try:
        process.start()
        sending.close()
        if not receiving.poll(limits.parse_timeout_s):
            raise too_large(
                name,
                f"reading it took more than {limits.parse_timeout_s:g} seconds",
                limits.parse_timeout_s,
                "seconds",
                "document_parse_timeout_s",
            )
        try:
            message = receiving.recv()
        except EOFError:
            message = None
        process.join(_EXIT_GRACE_S)
    finally:
        sending.close()
        receiving.close()
        if process.pid is not None:  # started
            if process.is_alive():
                process.kill()
            process.join()
            process.close()
    logger.debug("parsed %s in a child process in %.2f s", name, time.monotonic() - started)
    if message is None:
        # Killed (by the kernel when out of memory, or a crash) before it could say anything.
        raise _memory_error(name, limits)
    if message[0] == "ok":
        prepared: Prepared = message[1]
        return prepared
    if message[0] == "error":
        raise _ERRORS.get(message[1], Internal)(message[2])
    logger.error("parsing %s failed in the parser process: %s", name, message[1])
    raise Internal("something went wrong on the server; it has been logged")
