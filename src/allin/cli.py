"""`allin serve | migrate | chat`."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console

from allin.chat.frames import ServerFrame
from allin.config import Settings, configure_logging

app = typer.Typer(help="Allin, by Team 8: an assistant for new software engineers.")
console = Console()


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings)
    return settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: PORT or 8000.")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the web app, the API and the WebSocket."""
    settings = _settings()
    uvicorn.run(
        "allin.app:app_from_env",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
        log_level=settings.log_level.lower(),
    )


@app.command()
def migrate() -> None:
    """Apply pending database migrations (also done on start-up)."""
    from allin.storage.db import Database

    async def run() -> None:
        db = await Database.open(_settings())
        await db.close()

    asyncio.run(run())
    console.print("[green]database is up to date[/green]")


@app.command()
def chat(
    user: Annotated[str, typer.Option(help="Your user id.")] = "cli",
    chat_id: Annotated[
        str | None, typer.Option("--chat", help="Chat id; new chat if omitted.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="A running server, e.g. ws://127.0.0.1:8000; in-process if omitted."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="ALLIN_TOKEN", help="Access token for --url (from /api/v1/auth/login)."
        ),
    ] = None,
) -> None:
    """Chat with Allin in the terminal. Type /quit to leave.

    In-process, you act directly on this machine's database as --user; against a server (--url),
    you need that user's access token.
    """
    chat_id = chat_id or uuid.uuid4().hex[:12]
    if url and not token:
        raise typer.BadParameter("--url needs --token (or ALLIN_TOKEN)", param_hint="--token")
    console.print(f"[dim]chat {chat_id} as {user}; /quit to leave[/dim]")
    runner = (
        _chat_remote(url, user, chat_id, str(token)) if url else _chat_in_process(user, chat_id)
    )
    asyncio.run(runner)


class _TerminalSink:
    """Prints a turn's frames as they arrive."""

    async def send(self, frame: ServerFrame) -> None:
        _show(frame.model_dump(mode="json"))


def _show(frame: dict[str, Any]) -> None:
    kind = frame["type"]
    if kind == "token":
        console.print(frame["text"], end="", markup=False, highlight=False)
    elif kind == "done":
        console.print()
    elif kind == "error":
        console.print(f"[red]{frame['code']}: {frame['message']}[/red]")


async def _lines() -> Any:
    while True:
        line = await asyncio.to_thread(console.input, "[bold cyan]you>[/bold cyan] ")
        if line.strip() == "/quit":
            return
        if line.strip():
            yield line


async def _chat_in_process(user: str, chat_id: str) -> None:
    from allin.services import Services

    services = await Services.start(_settings())
    try:
        async for line in _lines():
            console.print("[bold magenta]allin>[/bold magenta] ", end="")
            await services.interaction.handle(
                user, chat_id, uuid.uuid4().hex, line, _TerminalSink()
            )
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        await services.stop()


async def _chat_remote(url: str, user: str, chat_id: str, token: str) -> None:
    import websockets

    address = f"{url.rstrip('/')}/ws/{user}/{chat_id}"
    async with websockets.connect(address, subprotocols=["bearer", token]) as socket:  # type: ignore[list-item]
        try:
            async for line in _lines():
                await socket.send(
                    json.dumps({"type": "message", "id": uuid.uuid4().hex, "content": line})
                )
                console.print("[bold magenta]allin>[/bold magenta] ", end="")
                while True:
                    frame = json.loads(await socket.recv())
                    _show(frame)
                    if frame["type"] in ("done", "error"):
                        break
        except (EOFError, KeyboardInterrupt):
            pass
