"""`allin mcp --stdio`: the MCP server for agents that launch a local process and talk over its
stdin and stdout. It runs the app's services in this process, on the database the environment
names (DATABASE_URL, ALLIN_DATA_DIR), acting as the user of `ALLIN_TOKEN`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from allin.mcp_server.tools import Backend

TOKEN_VARIABLE = "ALLIN_TOKEN"


def mcp(
    stdio: Annotated[
        bool, typer.Option("--stdio", help="Serve over stdin/stdout (the only transport here).")
    ] = False,
) -> None:
    """Serve Allin's MCP tools to an agent that launches this command, as the user of the
    ALLIN_TOKEN environment variable (a personal access token from /api/v1/tokens).

    Over HTTP, `allin serve` already serves them at /mcp.
    """
    if not stdio:
        raise typer.BadParameter("pass --stdio; over HTTP, `allin serve` serves MCP at /mcp")
    # From the environment only: a token on the command line is visible to every local user.
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise typer.BadParameter(f"set {TOKEN_VARIABLE} to a personal access token")
    import anyio

    anyio.run(_serve, token)


async def _serve(token: str) -> None:
    # Imported here: every other `allin` command starts without the SDK and the services.
    from allin.errors import AllinError
    from allin.mcp_server.tools import AllinTools, Backend
    from allin.services import Services
    from allin.terminal import load_settings, without_workers

    running: dict[str, Backend] = {}

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[None]:
        # Started once the SDK has moved stdout aside: whatever the services (or the embedded
        # Postgres they may start) print goes to stderr, never into the protocol's stream.
        settings = without_workers(load_settings(voice=False))
        services = await Services.start(settings)
        try:
            try:
                await services.tokens.verify(token)
            except AllinError as error:
                raise SystemExit(f"{TOKEN_VARIABLE}: {error.message}") from None
            running["backend"] = Backend(services)
            yield
        finally:
            await services.stop()

    server = AllinTools(lambda: running["backend"], token=token).server(lifespan=lifespan)
    await server.run_stdio_async()
