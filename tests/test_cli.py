"""The `allin` command as a user runs it: a real process, real input on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from allin.config import Settings
from tests.conftest import make_settings, new_database, project_root
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


@pytest.fixture
def own_database(postgres: Any, tmp_path: Path) -> Settings:
    """Settings on a database of their own: the CLI ingests shared team knowledge, which every
    user of a database would otherwise see."""
    return make_settings(database_url=new_database(postgres), data_dir=tmp_path / "data")


def test_ingest_a_folder_then_skip_what_is_unchanged(
    own_database: Settings, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "eng").mkdir(parents=True)
    (corpus / "eng" / "deploy.md").write_text("# Deploy\n\nRun `shipit` from main.\n")
    (corpus / "leave.rst").write_text("Leave\n=====\n\n25 days of paid vacation.\n")
    (corpus / "logo.png").write_bytes(b"\x89PNG")
    (corpus / "empty.txt").write_text("")

    first = run_cli(own_database, "ingest", str(corpus))
    assert first.returncode == 1, first.stdout  # the empty file failed, the others did not
    assert "2 indexed" in first.stdout and "1 failed" in first.stdout
    assert "empty.txt: the file is empty" in first.stdout
    assert "1 skipped (unsupported type)" in first.stdout

    (corpus / "empty.txt").unlink()
    (corpus / "leave.rst").write_text("Leave\n=====\n\n28 days of paid vacation.\n")
    second = run_cli(own_database, "ingest", str(corpus))
    assert second.returncode == 0, second.stdout
    assert "1 indexed" in second.stdout and "1 unchanged" in second.stdout


def test_reembed_redoes_the_chunks_another_embedder_made(
    own_database: Settings, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "deploy.md").write_text("# Deploy\n\nRun `shipit` from main.\n")
    (corpus / "leave.md").write_text("# Leave\n\n25 days of paid vacation.\n")
    assert run_cli(own_database, "ingest", str(corpus)).returncode == 0
    with psycopg.connect(str(own_database.database_url), autocommit=True) as conn:
        # As if they had been embedded before ALLIN_EMBEDDER changed.
        conn.execute(
            "update document_chunks set embedder = 'old:model', tokens = null"
            " where document_id in (select id from documents where name = 'deploy.md')"
        )

    result = run_cli(own_database, "reembed")

    assert result.returncode == 0, result.stderr
    assert "1 documents re-embedded with minilm:all-MiniLM-L6-v2" in result.stdout
    with psycopg.connect(str(own_database.database_url)) as conn:
        rows = conn.execute(
            "select d.name, c.embedder, c.tokens is not null from document_chunks c"
            " join documents d on d.id = c.document_id order by d.name"
        ).fetchall()
    assert rows and all(row[1:] == ("minilm:all-MiniLM-L6-v2", True) for row in rows), rows
    again = run_cli(own_database, "reembed")
    assert "0 documents re-embedded" in again.stdout


def test_ingest_names_what_does_not_exist(own_database: Settings, tmp_path: Path) -> None:
    result = run_cli(own_database, "ingest", str(tmp_path / "nowhere"))
    assert result.returncode == 1 and "no such file or folder" in result.stdout


def test_eval_scores_a_question_set(own_database: Settings, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "leave.md").write_text(
        "# Leave\n\n## Vacation\n\nYou get 25 days of paid vacation.\n\n"
        "## Sick days\n\nTell your lead before 10am when you are ill.\n"
    )
    (corpus / "deploy.md").write_text("# Deploy\n\nRun the shipit command from main.\n")
    questions = tmp_path / "questions.jsonl"
    rows = [
        {
            "id": "q1",
            "question": "how much holiday?",
            "source": "leave.md",
            "answer_contains": "25 days of  PAID vacation",
        },
        {
            "id": "q2",
            "question": "how do I ship?",
            "source": "deploy.md",
            "answer_contains": "shipit command",
        },
        {
            # In the file, so the set is accepted, but across two sections: no chunk holds it.
            "id": "q3",
            "question": "who do I tell when sick?",
            "source": "leave.md",
            "answer_contains": "paid vacation. ## Sick days",
        },
    ]
    questions.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    out = tmp_path / "report.json"
    result = run_cli(
        own_database,
        "eval",
        "--corpus",
        str(corpus),
        "--questions",
        str(questions),
        "--k",
        "3",
        "--json",
        str(out),
        "--show-misses",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.read_text())
    assert report["hit@3"] == pytest.approx(2 / 3, abs=1e-3) and report["misses"] == ["q3"]
    assert report["mrr@10"] == pytest.approx(2 / 3, abs=1e-3)
    # By file, q3 is found: its file's passages come first, though none holds the phrase whole.
    assert report["by_file"]["hit@3"] == 1.0
    assert report["by_file"]["mrr@10"] >= report["mrr@10"]
    assert "hit@3" in result.stdout and "miss q3" in result.stdout
    # The evaluation's own documents are gone afterwards.
    with psycopg.connect(str(own_database.database_url)) as conn:
        assert conn.execute("select count(*) from documents").fetchone() == (0,)


def test_eval_refuses_a_question_its_source_does_not_answer(
    own_database: Settings, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "deploy.md").write_text("# Deploy\n\nRun the shipit command from main.\n")
    questions = tmp_path / "questions.jsonl"
    rows = [
        {
            "id": "q1",
            "question": "how do I ship?",
            "source": "deploy.md",
            "answer_contains": "shipit",
        },
        {"id": "q2", "question": "who approves?", "source": "deploy.md", "answer_contains": "Dana"},
    ]
    questions.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    result = run_cli(own_database, "eval", "--corpus", str(corpus), "--questions", str(questions))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{questions}:2: q2: answer_contains 'Dana' is not in deploy.md" in result.stdout
    assert "Traceback" not in result.stderr
