"""What every command-line command shares: the settings, the console and its progress bars."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from allin.config import Settings, VoiceMode, configure_logging

console = Console()


def load_settings(*, voice: bool = True) -> Settings:
    """The settings; `voice=False` for commands that never speak, so that they do not spend
    seconds of CPU loading speech models."""
    settings = Settings()
    configure_logging(settings)
    return settings if voice else settings.model_copy(update={"voice": VoiceMode.OFF})


def without_workers(settings: Settings) -> Settings:
    """The settings of a command that works no job itself: it leaves the queue to the app and
    the `allin worker`s."""
    return settings.model_copy(update={"jobs_worker": False, "ingest_worker": False})


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
