"""How fast a repository's files become chunks, and where the time goes.

Chunks every tracked file of a git work tree that `skip_reason` accepts, as the repository sync
will, and reports files/s and chunks/s, the time spent counting tokens (one tokenizer pass per
file) and parsing with tree-sitter, chunk counts by kind and sizes. It also checks every chunk's
content against the file's lines, the property citations rely on.

    .venv/bin/python bench/source_chunks.py /path/to/work/tree [--max-tokens 256] [--overlap 32]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path

from allin.rag.token_count import count_tokens
from allin.sources.code_chunks import chunk_source_file
from allin.sources.languages import language_for
from allin.sources.selection import skip_reason
from allin.sources.syntax import parser_for


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("repo", type=Path)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--max-bytes", type=int, default=1_000_000)
    args = parser.parse_args()
    paths = subprocess.check_output(["git", "-C", str(args.repo), "ls-files"], text=True).split()
    files: list[tuple[str, str]] = []
    skipped: Counter[str] = Counter()
    for path in paths:
        data = (args.repo / path).read_bytes()
        if reason := skip_reason(path, data, args.max_bytes):
            skipped[reason] += 1
        else:
            files.append((path, data.decode("utf-8", errors="replace")))
    count_tokens(["warm up the tokenizer"])
    for language in {language_for(p) for p, _ in files} - {None}:
        parser_for(str(language))

    started = time.perf_counter()
    chunks = [
        c
        for path, text in files
        for c in chunk_source_file(
            path, text, max_tokens=args.max_tokens, overlap_tokens=args.overlap
        )
    ]
    elapsed = time.perf_counter() - started

    started = time.perf_counter()
    for _, text in files:
        count_tokens(text.split("\n"))
    tokenizing = time.perf_counter() - started
    started = time.perf_counter()
    for path, text in files:
        language = language_for(path)
        if language and (code_parser := parser_for(language)):
            code_parser.parse(text.encode())
    parsing = time.perf_counter() - started

    by_path = dict(files)
    wrong = sum(
        c.content != "\n".join(by_path[path].split("\n")[c.start_line - 1 : c.end_line])
        for path, text in files
        for c in chunk_source_file(
            path, text, max_tokens=args.max_tokens, overlap_tokens=args.overlap
        )
    )
    sizes = [c.tokens for c in chunks]
    print(f"files: {len(files)} chunked, skipped {dict(skipped)}")
    print(f"chunks: {len(chunks)} by kind {dict(Counter(c.kind for c in chunks))}")
    print(
        f"tokens per chunk: median {statistics.median(sizes):.0f}, max {max(sizes)}, "
        f"over the limit {sum(s > args.max_tokens for s in sizes)}"
    )
    print(
        f"time: {elapsed:.2f} s = {len(files) / elapsed:.0f} files/s, "
        f"{len(chunks) / elapsed:.0f} chunks/s"
    )
    print(f"of which at most: tokenizing {tokenizing:.2f} s, tree-sitter parsing {parsing:.2f} s")
    print(f"chunks whose content differs from the file's lines: {wrong}")


if __name__ == "__main__":
    main()
