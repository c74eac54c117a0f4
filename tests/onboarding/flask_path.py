"""A sample onboarding path for the Flask repository (setup, running the tests, the request
lifecycle, blueprints, the CLI), and a trimmed copy of Flask carrying it: the files the path
links and little else, so that a test syncs it in seconds. The copy is a git bundle kept with the
tests (Flask at 2ac89889 from ../shared/corpus/repos/flask.bundle, with its BSD license): a clone
of the project has no corpus beside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.gitrepo import GitRepo

BUNDLE = Path(__file__).parents[1] / "fixtures" / "flask-onboarding.bundle"

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


def flask_repo(path: Path) -> GitRepo:
    """The trimmed Flask, with the sample path added as ONBOARDING.md."""
    subprocess.run(["git", "clone", "-q", "--branch", "main", str(BUNDLE), str(path)], check=True)
    repo = GitRepo.__new__(GitRepo)
    repo.path = path
    repo.write("ONBOARDING.md", FLASK_PATH)
    repo.commit("Add the onboarding path")
    return repo
