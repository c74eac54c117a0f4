"""The `allin` command as a user runs it: a real process, real input on stdin."""

from __future__ import annotations

import os
import subprocess
import sys

from allin.config import Settings
from tests.conftest import project_root
from tests.support.accounts import Account


def run_cli(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "ALLIN_DATA_DIR": str(settings.data_dir),
        "ALLIN_OFFLINE_TOKEN_DELAY_MS": "0",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "allin", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=project_root(),
        timeout=60,
        check=False,
    )


def test_migrate(settings: Settings) -> None:
    result = run_cli(settings, "migrate")
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stdout


def test_chat_in_process(settings: Settings, user_id: str) -> None:
    result = run_cli(
        settings, "chat", "--user", user_id, "--chat", "t1", stdin="Who are you?\n/quit\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Allin" in result.stdout and "Team 8" in result.stdout


def test_chat_against_a_running_server(
    settings: Settings, live_server: str, account: Account
) -> None:
    url = live_server.replace("http://", "ws://")
    result = run_cli(
        settings,
        "chat",
        "--url",
        url,
        "--token",
        account.token,
        "--user",
        account.user_id,
        "--chat",
        "t2",
        stdin="How do I run the tests?\nwhat did I ask?\n/quit\n",
    )
    assert result.returncode == 0, result.stderr
    assert "1. How do I run the tests?" in result.stdout


def test_chat_against_a_server_needs_a_token(settings: Settings) -> None:
    result = run_cli(settings, "chat", "--url", "ws://127.0.0.1:9")
    assert result.returncode == 2 and "--url needs --token" in result.stderr
