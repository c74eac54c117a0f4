"""A small real git repository with a history: two people, dated commits, a documentation page
that names code changed after the page was written, and one that does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.sources.test_sync import SESSIONS
from tests.support.gitrepo import GitRepo

ADA = {"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com"}
GRACE = {"GIT_AUTHOR_NAME": "Grace Hopper", "GIT_AUTHOR_EMAIL": "grace@example.com"}
BOT = {"GIT_AUTHOR_NAME": "pre-commit-ci[bot]", "GIT_AUTHOR_EMAIL": "bot@example.com"}


CART = '''def add_item_to_cart(cart, item):
    """Put one item in the shopping cart."""
    cart.append(item)
'''

SESSIONS_DOC = """# Sessions

The shop signs its session cookie with `CookieSigner` (see `src/shop/sessions.py`). The cookie's
name is read from the `SESSION_COOKIE_NAME` setting.
"""

CART_DOC = """# The cart

Items go into the shopping cart through `add_item_to_cart`.
"""


def at(person: dict[str, str], day: str) -> dict[str, str]:
    return at_time(person, f"{day}T12:00:00+00:00")


def tomorrow(person: dict[str, str]) -> dict[str, str]:
    """A commit dated after anything uploaded during the test."""
    return at_time(person, (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds"))


def at_time(person: dict[str, str], stamp: str) -> dict[str, str]:
    return {
        **person,
        "GIT_COMMITTER_NAME": person["GIT_AUTHOR_NAME"],
        "GIT_COMMITTER_EMAIL": person["GIT_AUTHOR_EMAIL"],
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
    }


def shop(path: Path) -> tuple[GitRepo, list[str]]:
    """The repository and its commits, oldest first."""
    repo = GitRepo(path)
    repo.write("src/shop/sessions.py", SESSIONS)
    repo.write("src/shop/cart.py", CART)
    repo.write("docs/sessions.md", SESSIONS_DOC)
    repo.write("docs/cart.md", CART_DOC)
    commits = [repo.commit("The shop", at(ADA, "2024-01-01"))]
    repo.write("src/shop/sessions.py", SESSIONS + "\n\nMAX_AGE = 3600\n")
    commits.append(repo.commit("Sessions expire", at(GRACE, "2024-03-01")))
    repo.write("src/shop/sessions.py", SESSIONS + "\n\nMAX_AGE = 7200\n")
    commits.append(repo.commit("Sessions last two hours", at(GRACE, "2024-04-01")))
    repo.write("src/shop/sessions.py", SESSIONS + "\n\nMAX_AGE = 7200  # two hours\n")
    commits.append(repo.commit("Format", at(BOT, "2024-04-15")))
    repo.write("docs/cart.md", CART_DOC + "\nThe cart is emptied at checkout.\n")
    commits.append(repo.commit("Cart docs", at(ADA, "2024-05-01")))
    return repo, commits
