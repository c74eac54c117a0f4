"""Concurrent requests share forward passes: with an encoder that is held while it runs, so that
which requests share a pass is decided by the test, not by timing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from allin.embeddings.coalescing import CoalescingEncoder, Vectors


class HeldEncoder:
    """Encodes a text as `[len(text)]`; each pass waits until the test lets it go."""

    def __init__(self) -> None:
        self.passes: list[list[str]] = []
        self.started = threading.Semaphore(0)
        self.release = threading.Semaphore(0)
        self.fail_next = False

    def __call__(self, texts: list[str]) -> Vectors:
        self.passes.append(texts)
        self.started.release()
        self.release.acquire(timeout=10)
        if self.fail_next:
            self.fail_next = False
            raise ValueError("the model failed")
        return [[float(len(text))] for text in texts]

    async def wait_started(self) -> None:
        assert await asyncio.to_thread(self.started.acquire, timeout=10)


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(1) as pool:
        yield pool


@pytest.fixture
def held() -> HeldEncoder:
    return HeldEncoder()


@pytest.fixture
async def encoder(
    held: HeldEncoder, executor: ThreadPoolExecutor
) -> AsyncIterator[CoalescingEncoder]:
    encoder = CoalescingEncoder(held, executor, max_texts=4)
    yield encoder
    encoder.close()
    for _ in range(10):  # whatever pass is still held may end
        held.release.release()


async def settle() -> None:
    """Let the tasks started so far queue their requests."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_requests_made_during_a_pass_share_the_next_one_in_order(
    held: HeldEncoder, encoder: CoalescingEncoder
) -> None:
    first = asyncio.create_task(encoder.encode(["a"]))
    await held.wait_started()
    later = [asyncio.create_task(encoder.encode([text])) for text in ("bb", "ccc", "dddd")]
    await settle()
    held.release.release()
    assert await first == [[1.0]]
    await held.wait_started()
    held.release.release()
    assert [await task for task in later] == [[[2.0]], [[3.0]], [[4.0]]]
    assert held.passes == [["a"], ["bb", "ccc", "dddd"]]
    assert (encoder.passes, encoder.requests) == (2, 4)


async def test_a_pass_takes_whole_requests_up_to_its_size(
    held: HeldEncoder, encoder: CoalescingEncoder
) -> None:
    first = asyncio.create_task(encoder.encode(["a"]))
    await held.wait_started()
    big = asyncio.create_task(encoder.encode(["1", "2", "3"]))
    next_one = asyncio.create_task(encoder.encode(["x", "y"]))
    alone = asyncio.create_task(encoder.encode(["p", "q", "r", "s", "t"]))
    await settle()
    for _ in range(4):
        held.release.release()
    await asyncio.gather(first, big, next_one, alone)
    # Never more than four texts, unless one request alone has more: it is not split.
    assert held.passes == [["a"], ["1", "2", "3"], ["x", "y"], ["p", "q", "r", "s", "t"]]
    assert await alone == [[1.0]] * 5


async def test_a_question_goes_ahead_of_the_bulk_work_waiting(
    held: HeldEncoder, encoder: CoalescingEncoder
) -> None:
    first = asyncio.create_task(encoder.encode(["a"]))
    await held.wait_started()
    chunks = asyncio.create_task(encoder.encode(["1", "2", "3", "4"]))
    more_chunks = asyncio.create_task(encoder.encode(["5", "6"]))
    await settle()
    question = asyncio.create_task(encoder.encode(["q"]))
    another = asyncio.create_task(encoder.encode(["r"]))
    await settle()
    for _ in range(4):
        held.release.release()
    await asyncio.gather(first, chunks, more_chunks, question, another)
    # The questions, in their order, before the chunks queued earlier; whole requests still.
    assert held.passes == [["a"], ["q", "r"], ["1", "2", "3", "4"], ["5", "6"]]
    assert await question == [[1.0]]


async def test_a_request_given_up_is_left_out_of_the_pass(
    held: HeldEncoder, encoder: CoalescingEncoder
) -> None:
    first = asyncio.create_task(encoder.encode(["a"]))
    await held.wait_started()
    abandoned = asyncio.create_task(encoder.encode(["gone"]))
    kept = asyncio.create_task(encoder.encode(["kept"]))
    await settle()
    abandoned.cancel()
    held.release.release()
    await held.wait_started()
    held.release.release()
    assert await kept == [[4.0]]
    assert held.passes == [["a"], ["kept"]]
    assert first.done() and abandoned.cancelled()


async def test_a_failed_pass_fails_only_its_requests(
    held: HeldEncoder, encoder: CoalescingEncoder
) -> None:
    held.fail_next = True
    failed = asyncio.create_task(encoder.encode(["a"]))
    await held.wait_started()
    held.release.release()
    with pytest.raises(ValueError, match="the model failed"):
        await failed
    after = asyncio.create_task(encoder.encode(["bb"]))
    await held.wait_started()
    held.release.release()
    assert await after == [[2.0]]


async def test_closing_fails_what_is_waiting(held: HeldEncoder, encoder: CoalescingEncoder) -> None:
    running = asyncio.create_task(encoder.encode(["a"]))
    await held.wait_started()
    waiting = asyncio.create_task(encoder.encode(["b"]))
    await settle()
    encoder.close()
    for task in (running, waiting):
        with pytest.raises(RuntimeError, match="closed"):
            await task
    assert await encoder.encode([]) == []


async def test_a_text_being_encoded_is_waited_for_not_encoded_again(
    held: HeldEncoder, encoder: CoalescingEncoder
) -> None:
    """Memory search and retrieval both embed a turn's question: one forward pass serves both."""
    first = asyncio.create_task(encoder.encode(["question"]))
    await held.wait_started()
    second = asyncio.create_task(encoder.encode(["question", "other"]))
    await settle()
    held.release.release()
    await held.wait_started()
    held.release.release()
    assert await first == [[8.0]]
    assert await second == [[8.0], [5.0]]
    assert held.passes == [["question"], ["other"]]
    assert encoder.shared == 1


async def test_a_question_asked_again_soon_needs_no_pass(
    held: HeldEncoder, encoder: CoalescingEncoder
) -> None:
    first = asyncio.create_task(encoder.encode(["question"]))
    await held.wait_started()
    held.release.release()
    assert await first == [[8.0]]
    assert await encoder.encode(["question"]) == [[8.0]]
    assert held.passes == [["question"]]
    # Texts indexed in a batch are not kept: they are not asked for twice.
    batch = asyncio.create_task(encoder.encode(["p1", "p2"]))
    await held.wait_started()
    held.release.release()
    await batch
    again = asyncio.create_task(encoder.encode(["p1"]))
    await held.wait_started()
    held.release.release()
    assert await again == [[2.0]]


async def test_a_shared_text_whose_caller_gave_up_is_encoded_anew(
    held: HeldEncoder, encoder: CoalescingEncoder
) -> None:
    running = asyncio.create_task(encoder.encode(["a"]))
    await held.wait_started()
    abandoned = asyncio.create_task(encoder.encode(["question"]))
    await settle()
    sharing = asyncio.create_task(encoder.encode(["question"]))
    await settle()
    abandoned.cancel()
    held.release.release()
    await running
    await held.wait_started()
    held.release.release()
    assert await sharing == [[8.0]]
    assert held.passes == [["a"], ["question"]]
