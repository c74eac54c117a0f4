"""The language of a repository file, from its name: a tree-sitter grammar name for code we chunk
along syntax, "toml", "ini" or "yaml" for configuration cut at its sections, "markdown", "rst" or
"text" for prose, None for anything else (it may still be a text file worth indexing, chunked by
lines)."""

from __future__ import annotations

from pathlib import PurePosixPath

# Grammar names as tree-sitter-language-pack spells them.
_BY_SUFFIX: dict[str, str] = {
    **dict.fromkeys((".py", ".pyi", ".pyw"), "python"),
    **dict.fromkeys((".js", ".mjs", ".cjs", ".jsx"), "javascript"),
    **dict.fromkeys((".ts", ".mts", ".cts"), "typescript"),
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    **dict.fromkeys((".kt", ".kts"), "kotlin"),
    ".scala": "scala",
    ".cs": "csharp",
    ".c": "c",
    **dict.fromkeys((".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".hxx"), "cpp"),
    **dict.fromkeys((".rb", ".rake"), "ruby"),
    ".php": "php",
    ".swift": "swift",
    ".lua": "lua",
    **dict.fromkeys((".sh", ".bash", ".zsh"), "bash"),
    **dict.fromkeys((".md", ".markdown", ".mdx"), "markdown"),
    **dict.fromkeys((".rst", ".rest"), "rst"),
    **dict.fromkeys((".txt", ".text"), "text"),
    ".toml": "toml",
    **dict.fromkeys((".ini", ".cfg"), "ini"),
    **dict.fromkeys((".yaml", ".yml"), "yaml"),
}
_BY_NAME: dict[str, str] = {
    "readme": "text",
    "license": "text",
    "licence": "text",
    "copying": "text",
    "authors": "text",
    "changes": "text",
    "rakefile": "ruby",
    "gemfile": "ruby",
}

DOC_LANGUAGES = frozenset({"markdown", "rst", "text"})


def language_for(path: str) -> str | None:
    name = PurePosixPath(path.replace("\\", "/")).name.lower()
    suffix = PurePosixPath(name).suffix
    return _BY_SUFFIX.get(suffix) or _BY_NAME.get(name)
