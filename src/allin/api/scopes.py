"""What the pure ASGI middlewares need from a request's scope."""

from __future__ import annotations

from starlette.types import Scope


def route_path(scope: Scope) -> str:
    """The path as the app's routes name it: behind a proxy's prefix (`--root-path`), the scope's
    path carries the prefix too."""
    path: str = scope["path"]
    return path.removeprefix(scope.get("root_path", ""))
