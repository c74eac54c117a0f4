"""An onboarding path from its Markdown: headings are stages, checklist items (`- [ ]`) are steps.

    ## Running the tests
    - [ ] Run the test suite — [testing](docs/testing.rst#L10-L40) (owner: Ada) {#run-tests}
      - Ask: How do I run only the tests of one module?

A step's slug is its `{#slug}` when it has one, else its title made into a slug: progress is
keyed by it, so rewording the text after the title, moving the step to another stage or
reordering steps keeps everyone's progress. Links are repository paths relative to the file
(`/path` from the root), optionally with a line anchor (`#L10` or `#L10-L40`); `http(s)` links
are kept as they are. A file that cannot be trusted (no headings, no steps, duplicate steps, too
many, links to files that do not exist) is refused as a whole, with every problem listed.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Collection

from allin.onboarding.path_records import Link, PathDefinition, Stage, Step

MAX_STEPS = 500
MAX_STAGES = 50
MAX_BYTES = 256 * 1024
# Problems listed in a report, at most: a file with 10,000 bad links needs a few examples.
_MAX_PROBLEMS = 20

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_STEP = re.compile(r"^ {0,3}[-*+]\s+\[([ xX])\]\s+(.+)$")
_SUB_ITEM = re.compile(r"^\s{2,}[-*+]\s+(?:\[[ xX]\]\s+)?(.+)$")
_PROMPT = re.compile(r"^(?:ask|prompt|try asking)\s*:\s*(.+)$", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_SLUG = re.compile(r"\{#([a-z0-9][a-z0-9-]{0,79})\}\s*$")
_OWNER = re.compile(r"\(\s*owner:\s*([^)]+?)\s*\)|\bowner:\s*(.+?)\s*$", re.IGNORECASE)
_LINES = re.compile(r"^L(\d+)(?:-L?(\d+))?$")
_SEPARATOR = re.compile(r"\s+[—–]\s+|\s+-\s+|:\s+")


def slugify(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return slug[:80].rstrip("-") or "step"


def parse_path(
    markdown: str, file_path: str, files: Collection[str] | None = None
) -> tuple[PathDefinition | None, list[str]]:
    """The path `file_path` defines, or None and why not. `files` are the repository's paths at
    the same commit: links to others are problems (None skips the check)."""
    if len(markdown.encode()) > MAX_BYTES:
        return None, [f"the file is larger than {MAX_BYTES // 1024} KB"]
    parser = _Parser(file_path, files)
    parser.feed(markdown)
    return parser.finish()


class _Parser:
    def __init__(self, file_path: str, files: Collection[str] | None) -> None:
        self._file_path = file_path
        self._files = files
        self._title: str | None = None
        self._headings = 0
        self._stages: list[Stage] = []
        # The current heading's text and number: steps under it belong to its stage.
        self._heading: tuple[str, int] | None = None
        self._stage_heading = 0
        self._step: Step | None = None
        self._problems: list[str] = []
        self._slugs: dict[str, int] = {}
        self._count = 0

    def feed(self, markdown: str) -> None:
        in_code = False
        for number, line in enumerate(markdown.splitlines(), 1):
            if _FENCE.match(line):
                in_code = not in_code
                continue
            if in_code:
                continue
            if heading := _HEADING.match(line):
                self._on_heading(len(heading[1]), heading[2])
            elif step := _STEP.match(line):
                self._on_step(step[2], number)
            elif (item := _SUB_ITEM.match(line)) and self._step is not None:
                if prompt := _PROMPT.match(item[1].strip()):
                    self._step.prompts.append(prompt[1].strip())
            elif line.strip() and not line.startswith((" ", "\t")):
                self._step = None

    def _on_heading(self, level: int, text: str) -> None:
        self._headings += 1
        self._step = None
        text = _LINK.sub(lambda m: m[1], text).strip()
        if self._title is None and level == 1 and not self._stages:
            self._title = text
        self._heading = (text, self._headings)

    def _on_step(self, text: str, number: int) -> None:
        self._count += 1
        if self._count > MAX_STEPS:
            self._step = None
            return
        if self._heading is None:
            self._problem(f"line {number}: a step before any heading (headings are stages)")
            return
        step = self._step_from(text.strip(), number)
        if step.slug in self._slugs:
            self._problem(
                f"line {number}: duplicate step {step.slug!r} (first on line "
                f"{self._slugs[step.slug]}); give one of them its own {{#slug}}"
            )
            return
        self._slugs[step.slug] = number
        heading, heading_number = self._heading
        if not self._stages or self._stage_heading != heading_number:
            self._stages.append(Stage(slug=self._stage_slug(heading), title=heading, steps=[]))
            self._stage_heading = heading_number
        self._stages[-1].steps.append(step)
        self._step = step

    def _stage_slug(self, title: str) -> str:
        base = slugify(title)
        taken = {stage.slug for stage in self._stages}
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        return slug

    def _step_from(self, text: str, number: int) -> Step:
        explicit = _SLUG.search(text)
        if explicit:
            text = text[: explicit.start()].rstrip()
        owner: str | None = None
        found = _OWNER.search(text)
        if found:
            owner = (found[1] or found[2]).strip().strip(".")
            text = (text[: found.start()] + text[found.end() :]).strip()
        links = [self._link(m[1], m[2], number) for m in _LINK.finditer(text)]
        plain = _LINK.sub(lambda m: m[1], text).strip()
        title, detail = plain, ""
        parts = _SEPARATOR.split(plain, maxsplit=1)
        if len(parts) == 2 and parts[0].strip():
            title, detail = parts[0].strip(), parts[1].strip()
        title = title.strip(" .*_`") or plain
        return Step(
            slug=explicit[1] if explicit else slugify(title),
            title=title,
            detail=detail,
            owner=owner or None,
            links=[link for link in links if link is not None],
            line=number,
        )

    def _link(self, text: str, target: str, number: int) -> Link | None:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            return Link(text=text, kind="url", target=target)
        path, _, anchor = target.partition("#")
        if not path:
            return None  # a link within this page
        base = "" if path.startswith("/") else posixpath.dirname(self._file_path)
        resolved = posixpath.normpath(posixpath.join(base, path.lstrip("/")))
        if resolved.startswith("..") or resolved == ".":
            self._problem(f"line {number}: {target!r} points outside the repository")
            return None
        if self._files is not None and resolved not in self._files:
            folder = resolved.rstrip("/") + "/"
            if not any(f.startswith(folder) for f in self._files):
                self._problem(
                    f"line {number}: {target!r} links to {resolved}, which does not exist"
                )
                return None
        lines = _LINES.match(anchor)
        start = int(lines[1]) if lines else None
        end = int(lines[2]) if lines and lines[2] else start
        return Link(
            text=text or resolved, kind="file", target=resolved, start_line=start, end_line=end
        )

    def _problem(self, text: str) -> None:
        self._problems.append(text)

    def finish(self) -> tuple[PathDefinition | None, list[str]]:
        problems = list(self._problems)
        if self._headings == 0:
            problems.insert(0, "no headings: each stage of the path is a heading")
        if self._count == 0:
            problems.append("no steps: a step is a checklist item, '- [ ] Do this'")
        if self._count > MAX_STEPS:
            problems.insert(0, f"{self._count} steps; a path has at most {MAX_STEPS}")
        if len(self._stages) > MAX_STAGES:
            problems.append(f"{len(self._stages)} stages; a path has at most {MAX_STAGES}")
        if problems:
            if len(problems) > _MAX_PROBLEMS:
                more = len(problems) - _MAX_PROBLEMS
                problems = [*problems[:_MAX_PROBLEMS], f"… and {more} more"]
            return None, problems
        title = self._title or posixpath.basename(self._file_path)
        for stage in self._stages:
            for step in stage.steps:
                if not step.prompts:
                    step.prompts.append(default_prompt(step.title))
        return PathDefinition(title=title, stages=self._stages), []


def default_prompt(title: str) -> str:
    return f"How do I {title[:1].lower()}{title[1:]}?"
