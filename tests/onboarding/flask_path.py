"""A sample onboarding path for the Flask repository (setup, running the tests, the request
lifecycle, blueprints, the CLI), and a trimmed clone of Flask carrying it: the files the path
links and little else, so that a test syncs it in seconds."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.gitrepo import GitRepo

BUNDLE = Path("/work/shared/corpus/repos/flask.bundle")

FLASK_PATH = """\
# Flask onboarding

Work through the stages in order. Ask Allin about any step: it answers from the files linked.

## Setup
- [ ] Install Flask — the [installation guide](docs/installation.rst) and [pyproject.toml](pyproject.toml) (owner: Ada Lovelace)
  - Ask: How do I install Flask?
  - Ask: Which Python version does Flask support?
- [ ] Create a virtual environment — [virtual environments](docs/installation.rst#L62-L127) (owner: Ada Lovelace) {#venv}

## Running the tests
- [ ] Run the test suite — [testing Flask applications](docs/testing.rst) and the [fixtures](tests/conftest.py) (owner: Grace Hopper) {#run-tests}
  - Ask: How do I run the tests with pytest?
- [ ] Use the test client — [FlaskClient](src/flask/testing.py) (owner: Grace Hopper)

## The request lifecycle
- [ ] Follow a request through the app — [the lifecycle](docs/lifecycle.rst) (owner: Linus Torvalds)
  - Ask: What happens when Flask handles a request?
- [ ] Understand the request context — [contexts](src/flask/ctx.py) (owner: Linus Torvalds)

## Blueprints
- [ ] Register a blueprint — [modular applications](docs/blueprints.rst) and [Blueprint](src/flask/blueprints.py) (owner: Margaret Hamilton)
  - Ask: How do I register a blueprint?

## The CLI
- [ ] Run the development server — [the command line interface](docs/cli.rst) (owner: Ken Thompson)
  - Ask: How do I run the development server with flask run?
- [ ] Add a custom command — [custom commands](docs/cli.rst) and [cli.py](src/flask/cli.py) (owner: Ken Thompson)
"""  # noqa: E501 (Markdown list items are one line each)

KEEP = {
    "README.md",
    "pyproject.toml",
    "docs/installation.rst",
    "docs/testing.rst",
    "docs/lifecycle.rst",
    "docs/blueprints.rst",
    "docs/cli.rst",
    "tests/conftest.py",
    "src/flask/__init__.py",
    "src/flask/testing.py",
    "src/flask/ctx.py",
    "src/flask/blueprints.py",
    "src/flask/cli.py",
}


def flask_repo(path: Path) -> GitRepo:
    """Flask from the bundle, trimmed to `KEEP`, with the sample path as ONBOARDING.md."""
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(path)], check=True)
    repo = GitRepo.__new__(GitRepo)
    repo.path = path
    tracked = repo.git("ls-files", "-z").split("\0")
    gone = [name for name in tracked if name and name not in KEEP]
    for start in range(0, len(gone), 200):
        repo.git("rm", "-q", "--", *gone[start : start + 200])
    repo.write("ONBOARDING.md", FLASK_PATH)
    repo.commit("Keep what the onboarding path links; add the path")
    return repo
